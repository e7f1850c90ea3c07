"""Every claim can fail: under each of its sabotages (a plausible wrong implementation) it fails.

A claim that passes under a sabotage tests less than it says. The runs use the quick profile;
the sabotaged runs recompute what the sound runs cache, and leave no sabotaged result in a cache.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from bnrates import claims
from bnrates.claims.core import Claim, Evidence, chapter_claims_factory, injected, run_claim, run_sabotage

ROOT = Path(__file__).resolve().parents[2]
CASES = [(c, name) for c in claims.registry() for name in c.sabotages]
MEMORY_LIMIT = 6 * 2**30
"""Address space allowed to a sabotaged run: a wrong implementation that runs away raises MemoryError."""


@pytest.fixture
def memory_limit() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize(("claim", "sabotage"), CASES, ids=[f"{c.id}[{n}]" for c, n in CASES])
@pytest.mark.usefixtures("memory_limit")
def test_every_claim_fails_under_each_of_its_sabotages(claim: Claim, sabotage: str) -> None:
    outcome = run_sabotage(claim, sabotage, "quick", 0)
    assert outcome.status == "fail", f"{claim.id} survives the sabotage {sabotage!r}: {outcome.record()}"


@pytest.mark.parametrize("claim", claims.registry(), ids=lambda c: c.id)
def test_every_claim_has_a_sabotage_and_names_an_existing_label(claim: Claim) -> None:
    labels = claims.chapter_labels(ROOT / "chapters")
    assert claim.sabotages, f"{claim.id} has no sabotage"
    assert claim.label in labels, f"{claim.id} names the label {claim.label!r}, which no chapter defines"
    assert labels[claim.label] == claim.chapter, f"{claim.id}: label {claim.label!r} is in {labels[claim.label]}"


def test_pass_marks_and_tolerances_carry_their_reason() -> None:
    for claim in claims.registry():
        if claim.pass_mark is not None or claim.tolerance:
            assert claim.reason, claim.id
    with pytest.raises(ValueError, match="needs its reason"):
        Claim("t.x", "t", "s", "<=", 0.0, lambda p, s: Evidence(0.0, 0.0), pass_mark=1e-9)


def test_the_statement_is_formatted_from_the_claims_own_numbers() -> None:
    make = chapter_claims_factory("t")
    claim = make(
        "x",
        "at least {pass_mark:g}x, within {tolerance:.0%}, by {k}",
        ">=",
        0.25,
        lambda p, s: Evidence(7.0, None),
        pass_mark=5.0,
        reason="r",
        fmt={"k": 3},
    )
    assert claim.statement == "at least 5x, within 25%, by 3"
    assert run_claim(claim).status == "pass"  # 7 >= 5 (1 - 0.25); the theory value may be absent


def test_a_sabotage_leaves_no_trace_in_the_cached_runs() -> None:
    claim = claims.get("ols.rate")
    sound = run_claim(claim, "quick", 0).evidence.observed
    assert run_sabotage(claim, "step without the factor 2", "quick", 0).status == "fail"
    assert run_claim(claim, "quick", 0).evidence.observed == sound


def test_injected_replaces_the_name_where_it_is_looked_up_and_restores_it() -> None:
    import bnrates.claims.ols as ols

    original = ols.rayleigh
    seen = []
    compute = injected(
        lambda p, s: Evidence(float(ols.rayleigh is original), 0.0),
        "bnrates.claims.ols:rayleigh",
        lambda f: seen.append(f) or (lambda *a: 0.0),
    )
    assert compute("quick", 0).observed == 0.0 and seen == [original]
    assert ols.rayleigh is original


def test_the_recorded_sabotage_runs_the_report_shows_match_the_registry(tmp_path: Path) -> None:
    from bnrates.book import report

    table = report.load_sabotage(ROOT / "data" / "sabotage")
    assert list(table["id"]) == [c.id for c in claims.registry()]
    assert (table["caught"] == table["sabotages"]).all()
    changed = table.assign(names=table["names"].where(table["id"] != "ols.rate", "another sabotage"))
    changed.to_csv(tmp_path / "sabotage.csv", index=False)
    with pytest.raises(report.ReportError, match=r"changed since.*ols\.rate"):
        report.load_sabotage(tmp_path)
    table.assign(caught=table["caught"] - (table["id"] == "ols.rate")).to_csv(tmp_path / "sabotage.csv", index=False)
    with pytest.raises(report.ReportError, match=r"survived: ols\.rate"):
        report.load_sabotage(tmp_path)
