"""``python -m bnrates verify``: every claim reported, exit status counting failures, threads pinned, fair drift."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from bnrates import __main__ as cli
from bnrates import claims
from bnrates.book import provenance
from bnrates.claims.core import Claim, Evidence, run_claim


def _claim(name: str, compute, negative_control: bool = False) -> Claim:
    return Claim(f"t.{name}", "t", "a test claim", "<=", 0.0, compute, negative_control=negative_control)


def _boom(profile: str, seed: int) -> Evidence:
    raise ZeroDivisionError("a bug inside the computation")


def test_a_raising_claim_is_reported_failed_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = [
        _claim("first", lambda p, s: Evidence(0.5, 1.0)),
        _claim("crash", _boom),
        _claim("crash_control", _boom, negative_control=True),
        _claim("last", lambda p, s: Evidence(2.0, 1.0)),
    ]
    monkeypatch.setattr(claims, "registry", lambda pattern=None: tuple(chosen))
    status = cli.main(["verify", "--only", "t."])
    out = capsys.readouterr().out
    assert status == 3  # crash, crash_control, last
    assert "t.first" in out and "t.last" in out
    assert out.count("ERROR: ZeroDivisionError: a bug inside the computation") == 2
    assert "1 passed, 3 failed" in out
    status = cli.main(["verify", "--only", "t.", "--json"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in records] == ["pass", "fail", "fail", "fail"]
    assert records[1]["error"].startswith("ZeroDivisionError") and "error" not in records[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("verify", "--seed", str(2**70)), "--seed must be a non-negative integer in [0, 4294967295]"),
        (("verify", "--seed", "-1"), "in [0, 4294967295]"),
        (("verify", "--seed", "1e3"), "invalid int value"),
        (("verify", "--against", "/nonexistent/folder"), "no <chapter>/claims.json found"),
    ],
)
def test_verify_user_errors_exit_64_without_a_traceback(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        sys.exit(cli.main(list(args)))
    assert stop.value.code == cli.EX_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bench_refuses_a_bad_out_folder_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bnrates import bench

    (tmp_path / "file").write_text("x")
    assert bench.main(["--quick", "--root", str(ROOT), "--out", str(tmp_path / "file")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert bench.main(["--quick", "--root", str(tmp_path)]) == 2
    assert "no _toc.yml found" in capsys.readouterr().err


def _outcome(observed: float, theory: float, relation: str = "<=", tolerance: float = 0.0):
    claim = Claim("t.x", "t", "s", relation, tolerance, lambda p, s: Evidence(observed, theory), reason="a test")
    return run_claim(claim)


def _saved(observed: float, status: str = "pass") -> dict[str, object]:
    return {"observed": observed, "status": status}


def test_drift_is_judged_on_the_scale_of_the_pass_mark() -> None:
    # the false alarm: a round-off value against a pass mark of 1e-12
    assert cli.drift(_outcome(4.26e-16, 1e-12), _saved(4.02e-16)) is None
    # a round-off value that moved half-way to its pass mark is drift
    assert "observed" in cli.drift(_outcome(5e-13, 1e-12), _saved(4.02e-16))
    # a contraction factor close to its bound: little room, so a small move is drift
    assert cli.drift(_outcome(0.99999981397, 1.0, tolerance=1e-9), _saved(0.9999998139752656)) is None
    assert "observed" in cli.drift(_outcome(0.9999, 1.0, tolerance=1e-9), _saved(0.9999998139752656))
    assert cli.drift(_outcome(11.0, 5.0, ">="), _saved(11.001)) is None
    assert "observed" in cli.drift(_outcome(9.0, 5.0, ">="), _saved(11.0))
    assert cli.drift(_outcome(2.0, 1.0), _saved(0.5)).startswith("status pass -> fail")


def _verify_json(threads: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    return subprocess.run(
        [sys.executable, "-m", "bnrates", "verify", *args], capture_output=True, text=True, check=False, env=env
    )


def test_verify_gives_the_same_numbers_and_verdict_with_one_and_two_blas_threads(tmp_path: Path) -> None:
    one = _verify_json("1", "--only", "ols.", "--json")
    assert one.returncode == 0, one.stderr
    records = [json.loads(line) for line in one.stdout.splitlines()]
    provenance.write_atomically(
        tmp_path / "ols",
        {"claims.json": json.dumps({"commit": "x", "parameters": {"profile": "quick"}, "claims": records})},
    )
    against = [_verify_json(threads, "--only", "ols.", "--against", str(tmp_path)) for threads in ("1", "2")]
    for result in against:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 of 5 claims drifted" in result.stdout
    two = _verify_json("2", "--only", "ols.", "--json")
    assert [json.loads(line)["observed"] for line in two.stdout.splitlines()] == [r["observed"] for r in records]
