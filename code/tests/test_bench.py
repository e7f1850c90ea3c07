"""The benchmark runs (quick mode) and writes a well-formed file; its numbers are judged by people, not here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import ROOT

from bnrates import bench

SECTIONS = ("P1", "P2", "P3", "P4", "P5", "P6", "memory", "S1", "S2")


def test_measurement_compares_value_with_target() -> None:
    assert bench.measurement(1.0, 1.1, "<=", "ratio")["met"] is True
    assert bench.measurement(0.4, 0.5, ">=", "fraction")["met"] is False
    assert bench.measurement(2, 2, "==", "chapters")["met"] is True
    assert bench.measurement(3.0, None, "<=", "s")["met"] is None
    with pytest.raises(ValueError, match="relation"):
        bench.measurement(1.0, 1.0, "<", "s")


@pytest.mark.slow
def test_quick_benchmark_writes_a_well_formed_file(tmp_path: Path) -> None:
    assert bench.main(["--quick", "--root", str(ROOT), "--out", str(tmp_path)]) == 0
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and files[0].name.endswith("-quick.json")
    saved = json.loads(files[0].read_text())
    assert saved["quick"] is True
    assert {"system", "machine", "cpus"} <= set(saved["machine"])
    assert saved["packages"]["numpy"] not in ("", "missing") and saved["python"]
    assert set(saved["sections"]) == set(SECTIONS)
    for key in SECTIONS:
        measurements = saved["sections"][key]["measurements"]
        assert measurements, key
        for name, m in measurements.items():
            assert isinstance(m["value"], float) and math.isfinite(m["value"]), (key, name)
            assert m["target"] is None or isinstance(m["target"], float), (key, name)
            assert m["met"] is (None if m["target"] is None else m["met"]) and m["met"] in (True, False, None)
            assert m["relation"] in ("<=", ">=", "==") and m["unit"] and isinstance(m["notes"], str)
    assert saved["sections"]["P2"]["measurements"]["touched_module_chapters"]["expected"]
    assert any(name.startswith("kernel_peak_rss_") for name in saved["sections"]["memory"]["measurements"])
    p6 = saved["sections"]["P6"]["measurements"]["jobs2_to_jobs1_ratio"]
    assert p6["jobs1_seconds"] > 0 and p6["jobs2_seconds"] > 0 and 0 < p6["ideal_ratio"] <= 1
    assert "P1" in bench.table(saved) and "ratio_ours_to_jupyter_book" in bench.table(saved)


def test_unknown_section_is_rejected_before_measuring(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown benchmark section 'S9'; sections: P1, .*S1"):
        bench.run(ROOT, quick=True, only=["S9"])


def test_the_acceleration_chapter_quotes_the_newest_s2_record() -> None:
    """The chapter's sentence on S2 names the newest record, and its bounds hold there and are tight."""
    newest = max((ROOT / "data" / "benchmarks").glob("*-S2.json"))
    chapter = " ".join((ROOT / "chapters" / "acceleration.md").read_text().split())
    assert f"(`data/benchmarks/{newest.name}`, $d$ = 10, 100 and 1000)" in chapter
    ratios = {
        k.removeprefix("oracle_floor_ratio_"): v["value"]
        for k, v in json.loads(newest.read_text())["sections"]["S2"]["measurements"].items()
        if k.startswith("oracle_floor_ratio_")
    }

    def worst(*methods: str) -> float:
        return max(v for k, v in ratios.items() if k.rsplit("_d", 1)[0] in methods)

    within = worst("GD", "AGD", "GDNP", "GD:grid", "AGD:grid", "BN-GD:grid")
    assert within <= 3, "GD, AGD, GDNP and the tuned grids stay within three times that floor"
    assert "BN-GD within 3.6 and L-BFGS within 5." in chapter
    assert 3.0 < worst("BN-GD") <= 3.6 and 3.6 < worst("L-BFGS") <= 5.0, ratios
    assert "Most of L-BFGS's excess is scipy's own work per iteration" in chapter
    measured = json.loads(newest.read_text())["sections"]["S2"]["measurements"]
    for d in (100, 1000):  # where L-BFGS passes three times its floor
        run = measured[f"oracle_floor_ratio_L-BFGS_d{d}"]
        excess = run["ms_per_iteration"] - run["floor_ms_per_iteration"]
        assert measured[f"lbfgs_own_work_d{d}"]["value"] > excess / 2, (d, excess)


def test_readme_quotes_the_large_grid_cost_of_the_newest_s1_record() -> None:
    import re

    from bnrates import sweeps
    from bnrates.acceleration import SWEEP

    newest = max((ROOT / "data" / "benchmarks").glob("*-S1.json"))
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"`data/benchmarks/{newest.name}`" in readme
    m = json.loads(newest.read_text())["sections"]["S1"]["measurements"]["large_grid_worst_case_per_task"]
    n_tasks = len(sweeps.tasks(SWEEP, sweeps.check_grid(SWEEP, "large")))
    core_hours = m["value"] * n_tasks / 3600
    assert f"at most {core_hours:.0f} core-hours" in readme
    assert f"({m['value']:.1f} s per task on average" in readme
    workers = re.search(
        r"on (\d+) single-threaded Dask workers at most about (\d+(?:\.\d+)?) hours, on (\d+) about (\d+(?:\.\d+)?)",
        readme,
    )
    assert workers, "the README states the hours on N Dask workers"
    n1, h1, n2, h2 = workers.groups()
    for n, h in ((n1, h1), (n2, h2)):
        assert abs(float(h) - core_hours / int(n)) <= 0.05 + 0.01 * core_hours / int(n), (n, h, core_hours)
