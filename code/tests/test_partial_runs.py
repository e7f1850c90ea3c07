"""A run of some claims or solvers merges into the record under ``data/``: the other rows stay as they were.

``python -m bnrates sabotage --only NEWCHAPTER`` once replaced the 68 rows of
``data/sabotage/sabotage.csv`` by the new chapter's 2. Each command that writes under ``data/``
with a subset option is run here on a copy of its record.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from bnrates.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_sabotage_of_one_claim_merges_into_the_record(tmp_path: Path) -> None:
    shutil.copy(ROOT / "data" / "sabotage" / "sabotage.csv", tmp_path / "sabotage.csv")
    lines = (tmp_path / "sabotage.csv").read_text().splitlines()
    stale = [line if not line.startswith("ols.rate_tight,") else "ols.rate_tight,1,0,an old name,x" for line in lines]
    (tmp_path / "sabotage.csv").write_text("\n".join(stale) + "\n")
    assert main(["sabotage", "--only", "ols.rate_tight", "--out", str(tmp_path)]) == 0
    after = (tmp_path / "sabotage.csv").read_text().splitlines()
    assert after == lines  # the stale row is updated in its place, every other row is as it was


def test_seeds_of_some_claims_leave_the_profiles_record_alone(tmp_path: Path) -> None:
    record = pd.DataFrame(
        {"claim": ["ols.rate", "reparametrization.population_bn"], "profile": "quick", "seed": 0}
        | {"observed": [0.5, 1e-14], "theory": [0.6, 0.0], "status": "pass", "error": ""}
    )
    record.to_csv(tmp_path / "quick.csv", index=False)
    record.to_csv(tmp_path / "quick-ols.rate_tight.csv", index=False)  # a subset's own table, with another claim
    before = (tmp_path / "quick.csv").read_text()
    assert main(["seeds", "--only", "ols.rate_tight", "--seeds", "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "quick.csv").read_text() == before
    subset = pd.read_csv(tmp_path / "quick-ols.rate_tight.csv", keep_default_na=False, na_values=[""])
    assert list(subset["claim"]) == [*record["claim"], "ols.rate_tight"]
    assert (tmp_path / "quick-ols.rate_tight.csv").read_text().splitlines()[:3] == before.splitlines()
    assert subset["status"].iloc[-1] == "pass"
    summary = pd.read_csv(tmp_path / "quick-ols.rate_tight-summary.csv")
    assert set(summary["claim"]) == {*record["claim"], "ols.rate_tight"}


def test_a_partial_benchopt_run_merges_into_the_table(tmp_path: Path) -> None:
    record = tmp_path / "halfspace.parquet"
    shutil.copy(ROOT / "data" / "benchopt" / "halfspace.parquet", record)
    table = pd.read_parquet(record)
    run = table[table["solver_name"] == "GD"].assign(objective_value=-1.0)
    run.to_parquet(tmp_path / "run.parquet")
    assert (
        main(
            [
                "merge",
                str(tmp_path / "run.parquet"),
                str(record),
                "--key",
                "objective_name",
                "dataset_name",
                "solver_name",
            ]
        )
        == 0
    )
    merged = pd.read_parquet(record)
    others = table["solver_name"] != "GD"
    pd.testing.assert_frame_equal(merged[merged["solver_name"] != "GD"], table[others])
    assert len(merged) == len(table) and (merged.loc[merged["solver_name"] == "GD", "objective_value"] == -1.0).all()
