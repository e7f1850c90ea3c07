"""The claim registry and ``python -m bnrates verify``: the same checks the chapters show."""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys

import pytest

from bnrates import claims
from bnrates.claims.core import Claim, Evidence, relation_holds, run_claim


@functools.cache
def quick_outcome(claim_id: str) -> claims.Outcome:
    """The claim's quick-profile outcome at seed 0, computed once per test session (other test files share it)."""
    return run_claim(claims.get(claim_id), "quick", 0)


@pytest.mark.parametrize("claim", claims.registry(), ids=lambda c: c.id)
def test_every_registered_claim_is_ok_in_the_quick_profile(claim: Claim) -> None:
    outcome = quick_outcome(claim.id)
    assert outcome.status == ("expected failure" if claim.negative_control else "pass"), outcome.record()


def test_registry_ids_are_unique_and_named_after_their_chapter() -> None:
    ids = [c.id for c in claims.registry()]
    assert len(ids) == len(set(ids))
    assert all(c.id.startswith(c.chapter + ".") for c in claims.registry())
    assert {
        "ols.length_elimination",
        "ols.rate",
        "ols.rate_tight",
        "ols.rate_negative_control",
        "ols.same_order_as_gd",
    } <= set(ids)


@pytest.mark.parametrize(
    ("relation", "observed", "theory", "tol", "expected"),
    [
        ("<=", 1.0, 1.0, 0.0, True),
        ("<=", 1.0 + 2e-9, 1.0, 1e-9, False),
        ("<=", 1.0 + 5e-10, 1.0, 1e-9, True),
        (">=", 0.985, 1.0, 0.01, False),
        ("≈", -0.45, -0.5, 0.1, True),
        ("≈", -0.44, -0.5, 0.1, False),
        ("<=", math.nan, 1.0, 1.0, False),
        ("≈", 1.0, math.inf, 1.0, False),
    ],
)
def test_relation_semantics(relation, observed: float, theory: float, tol: float, expected: bool) -> None:
    assert relation_holds(relation, observed, theory, tol) is expected


def _claim(observed: float, negative: bool) -> Claim:
    return Claim(
        "t.x", "t", "a test claim", "<=", 0.0, lambda profile, seed: Evidence(observed, 1.0), negative_control=negative
    )


def test_status_of_ordinary_claims_and_negative_controls() -> None:
    assert run_claim(_claim(0.5, False)).status == "pass"
    assert run_claim(_claim(2.0, False)).status == "fail"
    assert run_claim(_claim(2.0, True)).status == "expected failure"
    # a negative control that does not violate its relation is a failure, not a pass
    assert run_claim(_claim(0.5, True)).status == "fail"


def test_verify_rejects_a_bad_profile_and_an_unknown_pattern() -> None:
    with pytest.raises(ValueError, match="profile must be one of 'quick', 'full'"):
        claims.verify("ols", profile="fast")
    with pytest.raises(ValueError, match="no claim matches"):
        claims.verify("no-such-claim")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bnrates", *args], capture_output=True, text=True, check=False)


def test_cli_verify_ols_exits_zero_and_json_parses() -> None:
    table = _cli("verify", "--only", "ols")
    assert table.returncode == 0, table.stderr
    assert "ols.rate_negative_control" in table.stdout and "expected failure" in table.stdout
    result = _cli("verify", "--only", "ols", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["id"] for r in records} >= {"ols.rate", "ols.rate_tight"}
    assert set(records[0]) >= {"id", "observed", "theory", "relation", "status", "seconds"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("verify", "--profile", "fast"), "profile must be one of"),
        (("verify", "--only", "nothing-matches-this"), "matches no claim"),
        (("verify", "--seed", "-3"), "--seed must be a non-negative integer"),
    ],
)
def test_cli_errors_are_clear(args: tuple[str, ...], message: str) -> None:
    result = _cli(*args)
    assert result.returncode == 64
    assert message in result.stderr


@pytest.mark.slow
def test_two_runs_in_separate_processes_give_identical_numbers() -> None:
    first, second = (_cli("verify", "--json") for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr

    def observed(result: subprocess.CompletedProcess[str]) -> dict[str, float]:
        return {r["id"]: r["observed"] for r in map(json.loads, result.stdout.splitlines())}

    assert observed(first) == observed(second)


def test_require_raises_on_a_failing_claim_and_names_it() -> None:
    ok = {"t.ok": run_claim(_claim(0.5, False)), "t.neg": run_claim(_claim(2.0, True))}
    claims.require(ok)
    bad = {**ok, "t.x": run_claim(_claim(2.0, False))}
    with pytest.raises(claims.ClaimFailed, match=r"1 claim\(s\) failed:\n  t.x: observed 2.0 <= theory 1.0"):
        claims.require(bad)
