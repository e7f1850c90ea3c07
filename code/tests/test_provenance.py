"""Results with provenance, the reproducibility report and drift checks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bnrates import claims
from bnrates.book import provenance, report


def test_atomic_write_survives_an_interruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ols"
    provenance.write_atomically(folder, {"a.csv": "old a\n", "b.csv": "old b\n"})
    original = Path.write_text
    calls = {"n": 0}

    def interrupted(self: Path, text: str, *args, **kwargs) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated interruption")
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        provenance.write_atomically(folder, {"a.csv": "new a\n", "b.csv": "new b\n"})
    monkeypatch.undo()
    assert {p.name: p.read_text() for p in folder.iterdir() if p.name != provenance.MANIFEST} == {
        "a.csv": "old a\n",
        "b.csv": "old b\n",
    }
    assert provenance.manifest_problems(folder) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ols"]


def test_save_chapter_records_claims_tables_and_environment(tmp_path: Path) -> None:
    outcomes = claims.verify("reparametrization.", profile="quick")
    folder = provenance.save_chapter(
        tmp_path,
        "reparametrization",
        outcomes,
        {"profile": "quick", "seed": 0},
        tables={"extra": pd.DataFrame({"x": [1, 2]})},
    )
    saved = json.loads((folder / "claims.json").read_text())
    assert [c["id"] for c in saved["claims"]] == list(outcomes)
    assert saved["parameters"] == {"profile": "quick", "seed": 0}
    assert saved["packages"]["numpy"] and saved["python"] and saved["commit"]
    assert (folder / "reparametrization.minibatch_rate.csv").is_file()
    assert pd.read_csv(folder / "extra.csv")["x"].tolist() == [1, 2]


def test_report_check_fails_on_a_missing_or_failed_claim() -> None:
    records = [{"id": c.id, "status": "expected failure" if c.negative_control else "pass"} for c in claims.registry()]
    report.check_complete(pd.DataFrame(records))
    with pytest.raises(report.ReportError, match=r"missing: ols\.rate"):
        report.check_complete(pd.DataFrame([r for r in records if r["id"] != "ols.rate"]))
    failed = [{**r, "status": "fail"} if r["id"] == "ols.rate" else r for r in records]
    with pytest.raises(report.ReportError, match=r"failed: ols\.rate"):
        report.check_complete(pd.DataFrame(failed))


def test_report_shows_each_sections_newest_benchmark(tmp_path: Path) -> None:
    assert report.latest_benchmark(tmp_path) is None

    def run(name: str, value: float) -> None:
        section = {
            "measurements": {
                "ratio": {"value": value, "target": 1.2, "relation": "<=", "unit": "ratio", "met": value <= 1.2},
                "time": {"value": 0.012345678, "target": None, "relation": "<=", "unit": "ms", "met": None},
            }
        }
        (tmp_path / f"{name}.json").write_text(json.dumps({"sections": {"P3": section}}))

    run("2026-11-23", 1.5)
    run("2026-11-24", 1.0312345)
    run("2026-11-25-quick", 9.0)
    name, table = report.latest_benchmark(tmp_path)
    assert name == "2026-11-24.json"
    run_file = {"run": "2026-11-24.json"}
    assert table.to_dict("records") == [
        {"section": "P3", "measurement": "ratio", "value": "1.031", "unit": "ratio", "target": "<= 1.2", "met": "yes"}
        | run_file,
        {"section": "P3", "measurement": "time", "value": "0.01235", "unit": "ms", "target": "-", "met": "-"}
        | run_file,
    ]
    only = {"measurements": {"speed": {"value": 2.0, "target": 3.0, "relation": "<=", "unit": "x", "met": True}}}
    (tmp_path / "2026-11-26-S1.json").write_text(json.dumps({"sections": {"S1": only}}))
    name, table = report.latest_benchmark(tmp_path)  # a section-only run adds its section, keeps the others
    assert name == "2026-11-24.json, 2026-11-26-S1.json"
    assert list(zip(table["section"], table["run"], strict=True)) == [
        ("P3", "2026-11-24.json"),
        ("P3", "2026-11-24.json"),
        ("S1", "2026-11-26-S1.json"),
    ]


def test_report_page_lists_every_registered_claim(built: Path) -> None:
    page = (built / "_build" / "html" / "chapters" / "report.html").read_text()
    for claim in claims.registry():
        assert f"<b>{claim.id}</b>" in page, claim.id


def _verify_against(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bnrates", "verify", "--only", "ols.", "--against", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_verify_against_saved_results_reports_drift(built: Path, tmp_path: Path) -> None:
    saved = built / "_build" / "results" / "quick"
    same = _verify_against(saved)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "0 of 5 claims drifted" in same.stdout
    moved = tmp_path / "results"
    shutil.copytree(saved, moved)
    record = json.loads((moved / "ols" / "claims.json").read_text())
    record["claims"][1]["observed"] *= 0.9
    (moved / "ols" / "claims.json").write_text(json.dumps(record))
    damaged = _verify_against(moved)
    assert damaged.returncode == 64
    assert "ols/claims.json damaged" in damaged.stderr and len(damaged.stderr.strip().splitlines()) == 1
    files = {p.name: p.read_text() for p in (moved / "ols").iterdir() if p.name != provenance.MANIFEST}
    provenance.write_atomically(moved / "ols", files)
    drifted = _verify_against(moved)
    assert drifted.returncode == 1
    assert "DRIFT: observed" in drifted.stdout and "1 of 5 claims drifted" in drifted.stdout
