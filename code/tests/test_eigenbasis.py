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
