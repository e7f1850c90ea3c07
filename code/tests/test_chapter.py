"""The page helper that opens and closes every chapter (bnrates.book.chapter), without building the book."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnrates import claims
from bnrates.book.chapter import Page, claim_numbers, open_chapter, page_numbers, size_numbers
from bnrates.claims import Claim, Evidence, run_claim


def _claim(name: str, observed: float, negative_control: bool = False, **evidence: object) -> Claim:
    return Claim(
        f"t.{name}",
        "t",
        "a statement",
        "<=",
        0.0,
        lambda profile, seed: Evidence(observed=observed, theory=1.0, **evidence),
        negative_control=negative_control,
    )


def _page(tmp_path: Path, *outcome_claims: Claim) -> Page:
    outcomes = {c.id: run_claim(c) for c in outcome_claims}
    return Page("t", outcomes, {"profile": "quick", "seed": 3}, tmp_path, {})


def test_claim_numbers_name_observed_extras_theory_and_pass_mark() -> None:
    plain = run_claim(_claim("a", 0.5, extra={"n": 7, "ratio": 0.25}))
    marked = run_claim(_claim("b", 2.0, True, pass_mark=1.5))
    assert claim_numbers({"t.a": plain, "t.b": marked}) == {
        "t.a": 0.5,
        "t.a.n": 7.0,
        "t.a.ratio": 0.25,
        "t.a.theory": 1.0,
        "t.b": 2.0,
        "t.b.theory": 1.0,
        "t.b.pass_mark": 1.5,
    }


def test_size_numbers_keep_numbers_and_bound_sequences() -> None:
    sizes = {
        "d": 8,
        "tol": 1e-10,
        "separabilities": (0.1, 0.8, 0.5),
        "batch": 2 ** np.arange(3, 6),
        "flag": True,
        "name": "x",
        "empty": (),
    }
    assert size_numbers("hs", sizes) == {
        "hs.size.d": 8.0,
        "hs.size.tol": 1e-10,
        "hs.size.separabilities.min": 0.1,
        "hs.size.separabilities.max": 0.8,
        "hs.size.batch.min": 8.0,
        "hs.size.batch.max": 32.0,
    }


def test_a_size_named_like_a_claims_number_is_refused() -> None:
    outcome = run_claim(_claim("size", 0.5, extra={"d": 1.0}))
    with pytest.raises(ValueError, match=r"t\.size\.d"):
        page_numbers("t", {"t.size": outcome}, {"d": 3})


def test_open_glues_parameters_every_claim_number_and_the_sizes() -> None:
    glued: dict[str, object] = {}

    def record(name: str, value: object, display: bool = True) -> None:
        assert not display and name not in glued, name
        glued[name] = value

    page = open_chapter("reparametrization", profile="quick", seed=0, results_dir="unused", glue=record)
    assert glued["profile"] == "quick" and glued["seed"] == 0 and "results_dir" not in glued
    # the sizes of the quick profile, written out here independently of the module
    assert {k: v for k, v in glued.items() if ".size." in k} == {
        "reparametrization.size.n_population": 4000.0,
        "reparametrization.size.d": 6.0,
        "reparametrization.size.batch_sizes.min": 8.0,
        "reparametrization.size.batch_sizes.max": 1024.0,
        "reparametrization.size.samples": 32768.0,
    }
    records = [o.record() for o in page.outcomes.values()]
    assert [r["id"] for r in records] == [c.id for c in claims.chapter_claims("reparametrization")]
    for r in records:
        assert glued[r["id"]] == r["observed"]
        assert all(glued[f"{r['id']}.{k}"] == v for k, v in r["extra"].items())
        assert (f"{r['id']}.pass_mark" in glued) == (r["pass_mark"] is not None)
    assert page.evidence["minibatch_rate"] is page.outcomes["reparametrization.minibatch_rate"].evidence
    assert (page.profile, page.seed) == ("quick", 0)


@pytest.mark.parametrize(
    "bad, message", [({"profile": "fast"}, "profile must be one of"), ({"chapter": "nosuch"}, "chapter must be one of")]
)
def test_open_refuses_bad_input_before_running(bad: dict[str, str], message: str) -> None:
    arguments = {"chapter": "ols", "profile": "quick", **bad}
    with pytest.raises(ValueError, match=message):
        open_chapter(
            arguments.pop("chapter"),
            seed=0,
            results_dir="unused",
            glue=lambda *a, **k: pytest.fail("glued before the check"),
            **arguments,
        )


def test_close_saves_claims_tables_and_parameters_and_returns_the_table(tmp_path: Path) -> None:
    page = _page(tmp_path, _claim("ok", 0.5), _claim("neg", 2.0, True))
    table = page.close(tables={"fig": pd.DataFrame({"x": [1, 2]})})
    saved = json.loads((tmp_path / "t" / "claims.json").read_text())
    assert saved["parameters"] == {"profile": "quick", "seed": 3}
    assert [(c["id"], c["status"]) for c in saved["claims"]] == [("t.ok", "pass"), ("t.neg", "expected failure")]
    assert pd.read_csv(tmp_path / "t" / "fig.csv")["x"].tolist() == [1, 2]
    assert table.plain["id"].tolist() == ["t.ok", "t.neg"]


def test_close_with_a_failing_claim_names_it_and_saves_nothing(tmp_path: Path) -> None:
    page = _page(tmp_path, _claim("ok", 0.5), _claim("broken", 3.0), _claim("neg_holds", 0.5, True))
    with pytest.raises(claims.ClaimFailed, match=r"2 claim\(s\) failed:\n  t\.broken: .*\n  t\.neg_holds: "):
        page.close()
    assert list(tmp_path.iterdir()) == []


def _driver(profile: str, seed: int) -> Evidence:
    """A driver whose source the page shows."""
    return Evidence(observed=0.5, theory=1.0)


def test_driver_shows_the_source_of_the_claims_computation_collapsed(tmp_path: Path) -> None:
    claim = Claim("t.driven", "t", "a statement", "<=", 0.0, _driver)
    block = _page(tmp_path, claim, _claim("other", 0.5)).driver("t.driven")
    html = block._repr_html_()
    assert html.startswith("<details><summary><small>the driver of t.driven</small></summary>")
    assert "def _driver(profile: str, seed: int) -&gt; Evidence:" in html
    assert "A driver whose source the page shows." in html
    assert block._repr_markdown_().startswith("*the driver of t.driven*\n\n```python\ndef _driver(")
    with pytest.raises(KeyError, match=r"'t\.missing' is not a claim of chapter 't'; it has t\.driven, t\.other"):
        _page(tmp_path, claim, _claim("other", 0.5)).driver("t.missing")
