"""The race's kernels in the eigenbasis against the reference implementations on the original, rotated instance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnrates import eigenbasis, gdnp
from bnrates.acceleration import METHODS, T_S, TOL, SweepHalfspace, instance, race
from bnrates.eigenbasis import MAX_NODES, DiagonalHalfspace, Oracles, expectations, nodes_needed
from bnrates.halfspace import gaussian_expectations, halfspace_instances
from bnrates.losses import get_loss
from bnrates.problems import random_starts
from bnrates.reparametrization import inv_norm_sq


def reference(problem: SweepHalfspace, w0: np.ndarray, method: str, cap: int) -> np.ndarray:
    """``||grad f||^2_{S^-1}`` of the method as :mod:`bnrates.gdnp` runs it on the dense ``S``."""
    step = 1.0 / problem.loss.curvature_bound
    wt0 = np.zeros_like(w0)
    if method == "GD":
        run = gdnp.gd(problem, wt0, cap, step, tol=TOL)
    elif method == "AGD":
        run = gdnp.agd(problem, wt0, cap, step, tol=TOL)
    elif method == "GDNP":
        run = gdnp.gdnp(problem, w0, cap, T_S, L=np.ones(1), tol=TOL)
    elif method == "BN-GD":
        run = gdnp.bngd(problem, w0, np.zeros(1), cap, step, step, tol=TOL)
    else:
        run = gdnp.lbfgs(problem, wt0, cap, TOL)
    return run.grad_norm_sq[:, 0]


@pytest.mark.parametrize("s", [0.0, 0.3, 1.0, 2.5, 6.0, 12.0, 16.0, 17.0, 40.0, 300.0])
def test_each_expectation_is_exact_with_the_nodes_its_spread_needs(s: float) -> None:
    """Trapezoid sums with ``nodes_needed(s)`` nodes, or the kink rule beyond, match an 8193-node rule to 1e-13."""
    n = nodes_needed(s)
    assert n >= 65 and ((n - 1) & (n - 2) == 0) and s * 28 / (n - 1) <= 0.45
    for name in ("logistic", "smoothed_hinge"):
        loss = get_loss(name)
        oracles = Oracles()
        for m in (-3.0, 0.3, 0.5 * s):
            got = expectations((loss.phi, loss.dphi, loss.d2phi), m, s, oracles, "value")
            fine = gaussian_expectations([loss.phi, loss.dphi, loss.d2phi], m, s, 8193)
            for g, f in zip(got, fine, strict=True):
                assert abs(g - f) <= 1e-13 * max(abs(f), 1e-3), (name, s, m, g, f)
        assert set(oracles.calls) == {("value", n if n <= MAX_NODES else 0)}


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1e4))
def test_nodes_needed_is_the_fewest_that_resolve_the_spread(s: float) -> None:
    """``2^k + 1`` nodes, ``h = 28 / 2^k``: the smallest ``k >= 6`` with ``s h <= 0.45`` (the integer rule)."""
    n = nodes_needed(s)
    k = 6
    while s * 28 / 2**k > 0.45:
        k += 1
    assert n == 2**k + 1, (s, n, k)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("d", "kappa", "separability", "loss"),
    [(10, 40.0, 0.9, "logistic"), (30, 1600.0, 0.5, "smoothed_hinge"), (10, 1.0, 0.95, "logistic")],
)
def test_kernel_runs_the_reference_iterations(
    method: str, d: int, kappa: float, separability: float, loss: str
) -> None:
    """Rotation-equivariance [D]: the same gradient norms in the eigenbasis as on the dense S, and the same count."""
    inst = instance(d, kappa, separability, loss, 0)
    got = race(inst, method, 80).grad_norm_sq
    want = reference(inst.problem, inst.w0, method, 80)
    assert len(got) == len(want)
    resolved = want > 1e-6 * want[0]  # below, both sit at the round-off of a tiny gradient
    np.testing.assert_allclose(got[resolved], want[resolved], rtol=1e-6)  # L-BFGS grows round-off to 1e-8
    assert np.all(got[~resolved] < 1e-5 * want[0])


@settings(max_examples=8, deadline=None)
@given(st.integers(2, 40), st.floats(1.0, 1e3), st.floats(0.05, 0.9), st.integers(0, 10**6))
def test_gdnp_kernel_is_algorithm_1_on_random_instances(d: int, kappa: float, separability: float, seed: int) -> None:
    base = halfspace_instances(d, kappa, separability, [seed])
    problem = SweepHalfspace(base.S, base.u, "logistic", 1025)
    w0 = random_starts(d, [seed])
    diagonal = DiagonalHalfspace.of(problem)
    got = eigenbasis.gdnp(diagonal, diagonal.to_eigenbasis(w0[0]), 15, T_S, 1.0, 0.0)
    want = gdnp.gdnp(problem, w0, 15, T_S, L=np.ones(1)).grad_norm_sq[:, 0]
    np.testing.assert_allclose(got.grad_norm_sq, want, rtol=1e-7, atol=1e-14 * want[0])


def test_the_oracle_calls_are_those_the_reference_makes() -> None:
    """Counted independently: the reference's calls of ``d_g f`` and gradients, through a wrapped problem."""
    inst = instance(10, 40.0, 0.9, "logistic", 0)
    calls = {"length": 0, "gradient": 0}

    class Counting(SweepHalfspace):
        def length_derivative(self, w, g):
            calls["length"] += int(np.all(np.asarray(g) != 0))  # at g = 0 it is phi'(0) u^T w, no quadrature
            return super().length_derivative(w, g)

        def stein_coefficients(self, wt):
            calls["gradient"] += 1
            return super().stein_coefficients(wt)

    counting = Counting(inst.problem.S, inst.problem.u, "logistic", 1025)
    gdnp.gdnp(counting, inst.w0, 6, T_S, L=np.ones(1))
    run = race(inst, "GDNP", 6, tol=1e-300)
    assert run.oracles.count("length") == calls["length"] >= 7 * (T_S + 2)
    assert run.oracles.count("gradient") == 7 == calls["gradient"] // 2  # the reference asks twice per iterate
    assert run.oracles.count("value") == 0
    gd_run = race(inst, "GD", 6, tol=1e-300)
    assert gd_run.oracles.count("gradient") == 7
    agd_run = race(inst, "AGD", 6, tol=1e-300)
    assert agd_run.oracles.count("gradient") == 7 + 6 - 2  # x_t each iteration, y_t once beta_t > 0


def test_diagonal_needs_a_batch_of_one() -> None:
    base = halfspace_instances(5, 4.0, 0.5, [0, 1])
    with pytest.raises(ValueError, match=r"batch of one instance, u of shape \(1, d\)"):
        DiagonalHalfspace.of(SweepHalfspace(base.S, base.u, "logistic", 1025))


def test_agd_with_constant_momentum_runs_the_reference() -> None:
    inst = instance(10, 40.0, 0.5, "logistic", 0)
    step, beta = 1.0 / inst.problem.loss.curvature_bound, 0.8
    got = eigenbasis.agd(inst.diagonal, np.zeros(10), 60, step, TOL, momentum=beta).grad_norm_sq
    want = gdnp.agd(inst.problem, np.zeros((1, 10)), 60, step, momentum=beta, tol=TOL).grad_norm_sq[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-8)


def test_armijo_kernel_replays_on_the_dense_reference_and_counts_every_trial() -> None:
    """Backtracking replayed with the dense problem's value and gradient: the same gradient norms."""
    inst = instance(10, 6.0, 0.9, "logistic", 0)
    D, P = inst.diagonal, inst.problem
    run = eigenbasis.gd_armijo(D, np.zeros(10), 400, 64.0, TOL)
    assert run.grad_norm_sq[-1] < TOL < run.grad_norm_sq[0]
    iterations = len(run.grad_norm_sq) - 1
    trials, wt, step, gns = 0, np.zeros((1, 10)), 32.0, []
    for _ in range(iterations):
        grad, f0 = P.grad(wt), P.value(wt)[0]
        gns.append(inv_norm_sq(grad, P.S)[0])
        step *= 2
        while True:
            trials += 1
            if P.value(wt - step * grad)[0] <= f0 - 1e-4 * step * float(np.sum(grad * grad)):
                break
            step /= 2
        wt = wt - step * grad
    np.testing.assert_allclose(run.grad_norm_sq[:-1], gns, rtol=1e-6)
    assert run.oracles.count("gradient") == iterations + 1
    assert run.oracles.count("value") == trials + 1  # every trial, and f(w~_0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 400.0), min_size=1, max_size=12),
    st.floats(-30.0, 30.0),
    st.sampled_from(["logistic", "smoothed_hinge"]),
)
def test_batch_expectations_are_the_single_ones_row_by_row(spreads: list[float], shift: float, name: str) -> None:
    """Each row of ``batch_expectations`` is ``expectations`` of that row (1e-13), with the same calls counted."""
    loss = get_loss(name)
    funcs = (loss.phi, loss.dphi, loss.d2phi)
    s = np.array(spreads)
    m = shift + 0.1 * s
    batch, single = Oracles(), Oracles()
    got = eigenbasis.batch_expectations(funcs, m, s, batch, "gradient")
    for k in range(len(s)):
        want = expectations(funcs, float(m[k]), float(s[k]), single, "gradient")
        for j in range(3):
            assert abs(got[j, k] - want[j]) <= 1e-13 * max(abs(want[j]), 1e-3), (s[k], m[k], j)
    assert batch.calls == single.calls


def _solo_iterations(run: eigenbasis.Run) -> int | None:
    """Iterations to the tolerance of a solo kernel's run, ``None`` if it never got there."""
    below = np.flatnonzero(run.grad_norm_sq < TOL)
    return int(below[0]) if below.size else None


@pytest.mark.parametrize(
    ("kappa", "separability", "loss"),
    [(1.0, 0.5, "logistic"), (6.0, 0.8, "logistic"), (40.0, 0.5, "smoothed_hinge")],
)
def test_a_race_in_lockstep_picks_the_step_whose_solo_run_is_first(kappa: float, separability: float, loss: str):
    """``tune_gd``, ``tune_agd``, ``tune_bngd`` against their solo kernels, step by step: the winner's solo run
    reaches the tolerance at the race's iteration with the gradients the race counts to it, every step
    before it in the grid later or never, every step after it no sooner."""
    cap = 3000
    inst = instance(10, kappa, separability, loss, 7)
    problem, w0 = inst.diagonal, inst.w0_diagonal
    zero, unit = 0 * w0, 1.0 / problem.loss.curvature_bound
    steps = unit * 2.0 ** np.arange(0, 12, 2)
    pairs = [(a, b) for a in steps[1:] for b in steps[1:]]
    lr_w, lr_g = (np.array(x) for x in zip(*pairs, strict=True))
    cases = [
        (
            eigenbasis.tune_gd(problem, zero, cap, steps, TOL),
            [eigenbasis.gd(problem, zero, cap, a, TOL) for a in steps],
        ),
        (
            eigenbasis.tune_agd(problem, zero, cap, steps, TOL),
            [eigenbasis.agd(problem, zero, cap, a, TOL) for a in steps],
        ),
        (
            eigenbasis.tune_bngd(problem, w0, 0.0, cap, lr_w, lr_g, TOL),
            [eigenbasis.bngd(problem, w0, 0.0, cap, a, b, TOL) for a, b in pairs],
        ),
    ]
    for tuned, solos in cases:
        counts = [_solo_iterations(run) for run in solos]
        reached = [c for c in counts if c is not None]
        assert reached, ("every family reaches the tolerance on these instances within the cap", counts)
        assert tuned.best is not None and counts[tuned.best] == tuned.iterations == min(reached), (counts, tuned)
        assert all(c is None or c > tuned.iterations for c in counts[: tuned.best])
        assert tuned.gradients[tuned.best] == solos[tuned.best].oracles.count("gradient")


def test_a_race_that_no_step_wins_stops_at_the_cap_and_flags_the_diverged_steps() -> None:
    """A cap too short for every step: no winner, the race at the cap; a step of ``1e300`` overflows, flagged."""
    inst = instance(10, 250.0, 0.9, "logistic", 7)
    problem = inst.diagonal
    unit = 1.0 / problem.loss.curvature_bound
    tuned = eigenbasis.tune_gd(problem, 0 * inst.w0_diagonal, 5, unit * np.array([1.0, 1e300]), TOL)
    assert tuned.best is None and tuned.iterations == 5
    assert tuned.diverged.tolist() == [False, True]


@pytest.mark.parametrize("steps", [np.array([]), np.array([1.0, 0.0]), np.array([[1.0]]), np.array([-1.0])])
def test_a_race_needs_positive_steps(steps: np.ndarray) -> None:
    """An empty, non-positive or 2-d grid of steps is refused by name before any gradient."""
    inst = instance(10, 6.0, 0.8, "logistic", 7)
    with pytest.raises(ValueError, match="steps must be a non-empty 1-d array of positive steps"):
        eigenbasis.tune_gd(inst.diagonal, 0 * inst.w0_diagonal, 10, steps, TOL)
