"""Numbers the chapters' prose reads off a table (bnrates.plotting), against hand-made tables."""

from __future__ import annotations

import pandas as pd

from bnrates.plotting.experiments import BENCHOPT_SUMMARY, benchopt_summary


def test_benchopt_summary_takes_each_solvers_last_point_by_stop_val_not_by_row_order() -> None:
    rows = []
    for i, label in enumerate(BENCHOPT_SUMMARY.values()):
        for stop_val in (30, 10, 20):  # the last point (stop_val 30) comes first in the file
            rows.append(
                {
                    "dataset": "breast_cancer",
                    "label": label,
                    "stop_val": stop_val,
                    "time": i + stop_val / 100,
                    "objective_suboptimality": 10.0 ** -(i + stop_val),
                }
            )
        rows.append(
            {"dataset": "digits", "label": label, "stop_val": 99, "time": -1.0, "objective_suboptimality": -1.0}
        )
    numbers = benchopt_summary(pd.DataFrame(rows))
    assert numbers == {
        "lbfgs_time": 0.3,
        "lbfgs_suboptimality": 1e-30,
        "gdnp_time": 1.3,
        "gdnp_suboptimality": 1e-31,
        "newton_time": 2.3,
        "newton_suboptimality": 1e-32,
        "agd_time": 3.3,
        "agd_suboptimality": 1e-33,
    }
