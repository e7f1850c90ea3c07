"""The errata: every row names registered claims with a consistent status and links to an existing label."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_claims import quick_outcome

from bnrates import claims
from bnrates.claims import errata

ROOT = Path(__file__).resolve().parents[2]
TOPICS = (
    "OLS step size",
    "generalized Rayleigh lemma",
    "Faster than gradient descent",
    "form of h",
    "Phi^2 and the observed |c1|",
    "length term 2^-T_s",
    "Bounded optimal lengths",
    "one-hidden-layer lemma",
)


def test_the_issues_rows_are_all_there_and_name_registered_claims_and_existing_labels() -> None:
    registered = {c.id for c in claims.registry()}
    labels = claims.chapter_labels(ROOT / "chapters")
    for topic in TOPICS:
        assert any(topic in e.topic for e in errata.ERRATA), topic
    for e in errata.ERRATA:
        assert set(e.claims) <= registered, e.topic
        assert e.where in labels, e.topic
        assert e.given_source in ("P", "S")
        used = {f if f in registered else f.rpartition(".")[0] for f in e.fields()}
        assert used <= set(e.claims), e.topic


@pytest.fixture(scope="module")
def saved() -> pd.DataFrame:
    needed = sorted({c for e in errata.ERRATA for c in e.claims})
    outcomes = [quick_outcome(c) for c in needed]  # shared with test_claims: each claim runs once per session
    return pd.DataFrame([o.record() for o in outcomes])


def test_the_table_fills_every_number_from_a_quick_run_and_is_saved(saved: pd.DataFrame, tmp_path: Path) -> None:
    table = errata.table(saved, claims.chapter_labels(ROOT / "chapters"))
    assert len(table) == len(errata.ERRATA)
    assert not table["numbers"].str.contains("nan|{", regex=True).any(), table["numbers"].tolist()
    path = errata.write_csv(table, tmp_path)
    assert pd.read_csv(path)["topic"].tolist() == table["topic"].tolist()
    assert [p.name for p in tmp_path.iterdir()] == ["errata.csv"]  # no temporary file left


def test_a_wrong_status_a_missing_claim_or_an_unknown_label_is_rejected(saved: pd.DataFrame) -> None:
    labels = claims.chapter_labels(ROOT / "chapters")
    flipped = saved.assign(status=saved["status"].map({"pass": "expected failure", "expected failure": "pass"}))
    with pytest.raises(errata.ErrataError, match=r"not pass|not expected failure"):
        errata.table(flipped, labels)
    with pytest.raises(errata.ErrataError, match="no saved result"):
        errata.table(saved[saved["id"] != "ols.rate"], labels)
    with pytest.raises(errata.ErrataError, match="not defined"):
        errata.table(saved, {})
    wrong = errata.Erratum("t", "g", "S", "h", "{ols.rate.no_such_extra}", ("ols.rate",), "thm-ols")
    with pytest.raises(errata.ErrataError, match="no extra number"):
        errata.table(saved, labels, (wrong,))
    unknown = errata.Erratum("t", "g", "S", "h", "{ols.nothing}", ("ols.nothing",), "thm-ols")
    with pytest.raises(errata.ErrataError, match="not a registered claim"):
        errata.table(saved, labels, (unknown,))
