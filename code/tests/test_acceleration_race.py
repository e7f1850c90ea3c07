"""Who wins the acceleration race: a censored run never does (bnrates.claims.acceleration)."""

from __future__ import annotations

import pandas as pd

from bnrates.claims import acceleration as ac

INSTANCE = {"d": 10, "kappa": 1.0, "separability": 0.5, "loss": "logistic", "seed": 0}


def race(runs: dict[str, tuple[int, bool]]) -> pd.DataFrame:
    """A sweep table of one instance: ``method -> (iterations, censored)``."""
    return pd.DataFrame([{**INSTANCE, "method": m, "iterations": i, "censored": c} for m, (i, c) in runs.items()])


def test_a_run_that_stopped_early_without_converging_does_not_win() -> None:
    # AGD stopped after 10 iterations without reaching the tolerance (fewer than the cap)
    table = race({"GD": (500, True), "AGD": (10, True), "GDNP": (20, False), "L-BFGS": (500, True)})
    assert ac.winners(table)["winner"].tolist() == ["GDNP"]
    assert ac.decided_iterations(table).loc[tuple(INSTANCE.values()), "AGD"] == float("inf")


def test_the_fewest_iterations_win_and_no_convergence_is_none() -> None:
    table = race({"GD": (30, False), "AGD": (12, False), "GDNP": (20, False), "L-BFGS": (8, False)})
    assert ac.winners(table)["winner"].tolist() == ["L-BFGS"]
    assert ac.winners(table, exclude=("L-BFGS",))["winner"].tolist() == ["AGD"]
    nobody = race({"GD": (500, True), "AGD": (40, True), "GDNP": (500, True)})
    assert ac.winners(nobody)["winner"].tolist() == ["none"]
