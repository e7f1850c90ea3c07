"""Claims at the seeds readers pick: a few seeds besides the default in CI; the ``seeds`` tool's tables."""

from __future__ import annotations

import math

import pytest

from bnrates import claims
from bnrates.claims import seeds
from bnrates.claims.core import Claim, Evidence, run_safely

READER_SEEDS = (3, 9, 17)
"""Besides the default 0: seed 3 is the one the exercises suggest; 9 was the worst of 20 for the network claim."""


@pytest.mark.parametrize("seed", READER_SEEDS)
@pytest.mark.parametrize("pattern", ["ols.", "reparametrization.", "experiments.bn_network_trains"])
def test_claims_hold_at_other_seeds(pattern: str, seed: int) -> None:
    outcomes = claims.verify(pattern, profile="quick", seed=seed)
    assert [o.claim.id for o in outcomes.values() if not o.ok] == []


def _claim(name: str, observed, relation: str = ">=", tolerance: float = 0.0) -> Claim:
    return Claim(f"t.{name}", "t", "s", relation, tolerance, lambda p, s: Evidence(observed(s), 5.0))


def test_the_seed_table_and_its_summary() -> None:
    chosen = [
        _claim("steady", lambda s: 6.0),
        _claim("shaky", lambda s: 4.0 if s == 2 else 6.0 + s),
        _claim("broken", lambda s: 1 / 0),
    ]
    table = seeds.run_seeds(chosen, "quick", range(4), run_safely, log=lambda _: None)
    assert len(table) == 12 and set(table["seed"]) == {0, 1, 2, 3}
    assert table.loc[table["claim"] == "t.broken", "error"].str.startswith("ZeroDivisionError").all()
    summary = seeds.summary(table, chosen).set_index("claim")
    assert summary.loc["t.steady", "failed"] == 0 and summary.loc["t.steady", "worst_margin"] == pytest.approx(0.2)
    assert summary.loc["t.shaky", "failed"] == 1
    assert summary.loc["t.shaky", "worst_margin"] == pytest.approx(-0.2)
    assert (summary.loc["t.shaky", "observed_min"], summary.loc["t.shaky", "observed_max"]) == (4.0, 9.0)
    assert summary.loc["t.broken", "failed"] == 4 and math.isnan(summary.loc["t.broken", "observed_min"])


def test_an_interrupted_seed_run_resumes_where_it_stopped() -> None:
    calls: list[int] = []
    chosen = [_claim("steady", lambda s: calls.append(s) or 6.0)]
    saved: list[int] = []
    first = seeds.run_seeds(
        chosen, "quick", range(2), run_safely, log=lambda _: None, save=lambda t: saved.append(len(t))
    )
    assert saved == [1, 2] and calls == [0, 1]
    again = seeds.run_seeds(chosen, "quick", range(4), run_safely, log=lambda _: None, done=first)
    assert calls == [0, 1, 2, 3] and list(again["seed"]) == [0, 1, 2, 3]
