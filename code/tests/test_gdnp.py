"""Tests of Algorithm 1 (GDNP), the bisection, and the GD/AGD baselines (notes sections 3, 7)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnrates.algorithms import bngd_ols, gd_rayleigh
from bnrates.gdnp import (
    agd,
    bisection,
    bngd,
    gd,
    gdnp,
    iterations_to,
    lbfgs,
    length_derivative_of,
    newton_length,
)
from bnrates.halfspace import GaussianHalfspace, halfspace_instances, halfspace_smoothness, logistic_minimizer
from bnrates.losses import get_loss
from bnrates.problems import grad_wg, ols_instances, spectrum_bounds
from bnrates.rates import theory_factor
from bnrates.rayleigh import rayleigh_argmin, rayleigh_grad
from bnrates.reparametrization import gradient_wg, inv_norm_sq, quadratic_form, reparametrize, s_norm

FAST = settings(max_examples=10, deadline=None)


def _start(P: GaussianHalfspace, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(P.u.shape)


# ---------------------------------------------------------------- bisection


def test_bisection_error_halves_per_step() -> None:
    roots = np.array([-37.3, -0.2, 0.0004, 5.5, 1000.1])
    widths = []
    for n in range(0, 30):
        g, a0, b0 = bisection(lambda g: g - roots, n)
        widths.append(b0 - a0)
        assert np.all(a0 < roots) and np.all(roots < b0)
        assert np.all(np.abs(g - roots) <= 2.0 ** -(n + 1) * (b0 - a0))
    np.testing.assert_array_equal(widths[0], [65.0, 2.0, 2.0, 9.0, 1025.0])


@pytest.mark.parametrize(
    ("root", "doublings"),
    [(0.3, 0), (5.3, 3), (-5.3, 3), (1000.1, 10)],  # [-1, 1] -> the first power of two past |root|
)
def test_bisection_evaluates_only_the_bracket_end_that_moved(root: float, doublings: int) -> None:
    """One evaluation per end at the start, one per doubling of the end that moves, one per halving."""
    n_steps = 7
    calls = []

    def dg(g: np.ndarray) -> np.ndarray:
        calls.append(float(np.ravel(g)[0]))
        return g - np.array([root])

    g, a0, b0 = bisection(dg, n_steps)
    assert len(calls) == 2 + doublings + n_steps
    assert len(set(calls[: 2 + doublings])) == 2 + doublings  # no point evaluated twice
    assert abs(float(g[0]) - root) <= 2.0 ** -(n_steps + 1) * float(b0[0] - a0[0])


@given(st.lists(st.floats(-500.0, 500.0), min_size=2, max_size=5), st.integers(0, 40))
def test_bisection_of_one_instance_is_the_batched_bisection_to_the_bit(roots: list[float], n_steps: int) -> None:
    """The one-instance halvings (Python floats) against the batched ones (numpy), on ``g^3 + g - r``."""
    r = np.array(roots)
    batched, a0, b0 = bisection(lambda g: g * g * g + g - r, n_steps)
    for k, root in enumerate(roots):
        one, a1, b1 = bisection(lambda g, root=root: g * g * g + g - np.array([root]), n_steps)
        assert one.shape == (1,)
        assert (float(one[0]), float(a1[0]), float(b1[0])) == (batched[k], a0[k], b0[k])


def test_bisection_finds_the_optimal_logistic_length() -> None:
    separability = np.array([0.1, 0.5, 0.9, 0.95])
    P = [halfspace_instances(5, 10.0, s, [int(100 * s)]) for s in separability]
    S = np.concatenate([p.S for p in P])
    u = np.concatenate([p.u for p in P])
    Q = GaussianHalfspace(S, u)
    w = -rayleigh_argmin(S, u)  # the optimal direction, g* > 0
    g, a0, b0 = bisection(partial(length_derivative_of, Q, w), 45)
    np.testing.assert_allclose(g, 2 * np.sqrt(separability) / (1 - separability), rtol=1e-11)
    assert np.all(b0 - a0 <= 4 * (2 * np.sqrt(separability) / (1 - separability)) + 2)


def testlength_derivative_of_matches_the_chain_rule() -> None:
    for loss in ("logistic", "sigmoid"):
        P = halfspace_instances(6, 10.0, 0.7, [0, 1, 2], loss=loss)
        w = _start(P)
        for g in (-3.0, 0.0, 0.4, 10.0):
            chain = grad_wg(P, w, g)[1]
            np.testing.assert_allclose(P.length_derivative(w, g), chain, rtol=1e-11, atol=1e-15)


def test_sigmoid_has_no_bracket() -> None:
    P = halfspace_instances(6, 10.0, 0.7, [0, 1, 2, 3], loss="sigmoid")
    with pytest.raises(ValueError, match=r"no bracket found.*unbounded"):
        gdnp(P, _start(P), 3, 20)


def _margin_problem(seed: int, n: int = 2000, B: int = 4):
    """Margins ``(B, n)`` of skewed, shifted data with mean square one, and the logistic length derivatives."""
    rng = np.random.default_rng(seed)
    m = rng.gamma(2.0, 1.0, (B, n)) - rng.uniform(1.0, 3.0, (B, 1))
    m /= np.sqrt(np.mean(m * m, axis=-1, keepdims=True))
    loss = get_loss("logistic")

    def dg(g):
        return np.mean(loss.dphi(np.asarray(g)[..., None] * m) * m, axis=-1)

    def both(g):
        first, second = loss.derivatives(g[:, None] * m)
        return np.mean(first * m, axis=-1), np.mean(second * m * m, axis=-1)

    return dg, both, loss.third_derivative_bound * np.mean(np.abs(m) ** 3, axis=-1)


@FAST
@given(seed=st.integers(0, 10_000), start=st.floats(-20.0, 20.0), exponent=st.integers(10, 40))
def test_newton_length_is_certified(seed: int, start: float, exponent: int) -> None:
    """Where it says certified, the root lies within tol: d_g f changes sign on [g - tol, g + tol]."""
    dg, both, curvature = _margin_problem(seed)
    tol = 2.0**-exponent
    found = newton_length(both, np.full(4, start), curvature, tol, max_steps=30)
    assert found.certified.all()
    assert np.all(dg(found.g - tol) <= 0) and np.all(dg(found.g + tol) >= 0)
    reference = bisection(dg, 60)[0]
    assert np.all(np.abs(found.g - reference) <= tol + 1e-15)


def test_newton_length_needs_one_evaluation_from_a_close_start() -> None:
    dg, both, curvature = _margin_problem(1)
    root = bisection(dg, 60)[0]
    found = newton_length(both, root + 1e-5, curvature, 2.0**-30)
    assert found.evaluations == 1 and found.certified.all()
    assert np.all(np.abs(found.g - root) <= 2.0**-30)


def test_newton_length_certifies_by_the_bracket_when_no_curvature_bound_is_known() -> None:
    """A useless curvature bound (C = 1e300) disables the Taylor bound; the signs around the root still certify it."""
    roots = np.array([-3.7, 0.2, 12.5])

    def tanh_shift(g):
        return np.tanh(g - roots), 1 / np.cosh(g - roots) ** 2

    found = newton_length(tanh_shift, np.zeros(3), np.full(3, 1e300), 1e-10)
    assert found.certified.all() and found.evaluations < 60
    assert np.all(np.abs(found.g - roots) <= 1e-10)


def test_newton_length_without_the_curvature_term_is_not_certified_negative_control() -> None:
    """With C = 0 (as if d_g f were linear) the 'bound' is met at once, far from the root."""
    dg, both, _ = _margin_problem(2)
    root = bisection(dg, 60)[0]
    found = newton_length(both, np.full(4, 8.0), np.zeros(4), 2.0**-30, max_steps=30)
    assert found.certified.all() and found.evaluations == 1
    assert np.max(np.abs(found.g - root)) > 1e-3


def test_newton_length_reports_what_it_cannot_certify() -> None:
    found = newton_length(lambda g: (np.exp(g), np.exp(g)), np.zeros(2), np.ones(2), 1e-9, max_steps=5)
    assert not found.certified.any() and found.evaluations == 5
    with pytest.raises(ValueError, match=r"tol must lie in \(0, inf\), got 0"):
        newton_length(lambda g: (g, np.ones_like(g)), np.zeros(1), np.zeros(1), 0.0)
    with pytest.raises(ValueError, match=r"max_steps"):
        newton_length(lambda g: (g, np.ones_like(g)), np.zeros(1), np.zeros(1), 1e-9, max_steps=0)


def test_bisection_rejects_bad_brackets() -> None:
    with pytest.raises(ValueError, match="a < 0 < b"):
        bisection(lambda g: g, 5, a=1.0, b=2.0)
    with pytest.raises(ValueError, match="no bracket found"):
        bisection(lambda g: np.ones_like(g), 5, max_doublings=10)


# ---------------------------------------------------------------- identities


@FAST
@given(
    seed=st.integers(0, 10_000),
    separability=st.floats(0.05, 0.95),
    g=st.floats(-20, 20).filter(lambda x: abs(x) > 1e-3),
)
def test_decoupling_identity(seed: int, separability: float, g: float) -> None:
    """``grad_w f = (g c1 / ||w||_S) P_w u = -(g c1 ||w||_S / (2 u^T w)) grad rho(w)``."""
    P = halfspace_instances(5, 10.0, separability, [seed])
    w = _start(P, seed)
    grad_w, _ = grad_wg(P, w, g)
    c1, _ = P.stein_coefficients(reparametrize(w, g, P.S))
    rg = rayleigh_grad(w, P.S, P.u)
    uw = np.einsum("bi,bi->b", P.u, w)
    predicted = -(g * c1 * s_norm(w, P.S) / (2 * uw))[:, None] * rg
    assert np.linalg.norm(grad_w - predicted) <= 1e-12 * np.linalg.norm(grad_w)
    # parallel, without using c1
    alpha = np.sum(grad_w * rg) / np.sum(rg * rg)
    assert np.linalg.norm(grad_w - alpha * rg) <= 1e-12 * np.linalg.norm(grad_w)


def test_direction_identity_and_split() -> None:
    """``||w||^2_S ||grad_w f||^2_{S^-1} = g^2 c1^2 (rho - rho*)``; the two parts add up."""
    P = halfspace_instances(8, 20.0, 0.8, [0, 1, 2])
    H = gdnp(P, _start(P), 15, 30)
    np.testing.assert_allclose(H.direction, H.c1**2 * H.rayleigh_gap, rtol=1e-9)
    np.testing.assert_allclose(H.direction + H.length, H.grad_norm_sq, rtol=1e-9)


# ---------------------------------------------------------------- GDNP


@pytest.mark.parametrize("separability", [0.2, 0.9])
def test_gdnp_equals_rayleigh_gradient_descent(separability: float) -> None:
    P = halfspace_instances(6, 30.0, separability, [0, 1, 2, 3])
    w0 = _start(P)
    H = gdnp(P, w0, 25, 25)
    ws = gd_rayleigh(P.S, P.u, w0, 25, spectrum_bounds(P.S)[1])
    rel = np.linalg.norm(H.w - ws, axis=-1) / np.linalg.norm(ws, axis=-1)
    assert np.max(rel) <= 1e-8


def test_summary_form_differs_unless_g_is_the_norm() -> None:
    P = halfspace_instances(6, 30.0, 0.7, [0, 1, 2])
    w0 = _start(P)
    stein = gdnp(P, w0, 5, 30)
    summary = gdnp(P, w0, 5, 30, h="summary")
    assert np.all(np.abs(stein.g[0] / s_norm(w0, P.S) - 1) > 0.1)
    rel = np.linalg.norm(stein.w[1] - summary.w[1], axis=-1) / np.linalg.norm(stein.w[1], axis=-1)
    assert np.all(rel > 1e-3)
    # rescale w0 so that ||w0||_S = g0: the first steps coincide
    w_scaled = w0 * (np.abs(stein.g[0]) / s_norm(w0, P.S))[:, None]
    a = gdnp(P, w_scaled, 1, 45)
    b = gdnp(P, w_scaled, 1, 45, h="summary")
    pos = a.g[0] > 0  # the summary form assumes g = +||w||_S
    assert pos.any()
    np.testing.assert_allclose(a.w[1][pos], b.w[1][pos], rtol=1e-8)


def test_gdnp_direction_contracts_at_the_theorem_rate() -> None:
    P = halfspace_instances(10, 10.0, 0.5, [0, 1, 2, 3, 4])
    H = gdnp(P, _start(P), 40, 30)
    mu, L = spectrum_bounds(P.S)
    gaps = H.rayleigh_gap
    valid = gaps[:-1] > 1e-9 * np.abs(np.einsum("bi,bi->b", P.u, rayleigh_argmin(P.S, P.u)))
    ratios = gaps[1:] / gaps[:-1]
    bound = np.broadcast_to(theory_factor(mu, L) * (1 + 1e-9), ratios.shape)
    assert valid.sum() > 50
    assert np.all(ratios[valid] <= bound[valid])


def test_gdnp_reaches_a_stationary_point() -> None:
    P = halfspace_instances(5, 5.0, 0.5, [0, 1])
    H = gdnp(P, _start(P), 60, 45)
    assert np.all(H.grad_norm_sq[-1] < 1e-12)
    assert H.w.shape == (61, 2, 5) and H.g.shape == (61, 2) and H.bracket_width.shape == (61, 2)


def test_gdnp_rejects_bad_inputs() -> None:
    P = halfspace_instances(4, 5.0, 0.5, [0, 1])
    with pytest.raises(ValueError, match="w0 must have shape"):
        gdnp(P, np.ones((2, 3)), 2, 5)
    w = np.zeros((2, 4))
    with pytest.raises(ValueError, match="u\\^T w0 != 0"):
        gdnp(P, w, 2, 5)
    with pytest.raises(ValueError, match="h must be one of"):
        gdnp(P, _start(P), 2, 5, h="paper")  # type: ignore[arg-type]


# ---------------------------------------------------------------- baselines


def test_gd_and_agd_converge_with_step_one_over_zeta() -> None:
    P = halfspace_instances(5, 5.0, 0.3, [0, 1, 2])
    step = 1 / halfspace_smoothness(P)
    wt0 = np.zeros((3, 5))
    Hg = gd(P, wt0, 300, step)
    Ha = agd(P, wt0, 300, step)
    assert np.all(np.diff(Hg.value, axis=0) <= 1e-15)  # GD with 1/zeta is monotone
    assert np.all(iterations_to(Hg.grad_norm_sq, 1e-12) > 0)
    assert np.all(iterations_to(Ha.grad_norm_sq, 1e-12) > 0)
    np.testing.assert_allclose(Hg.grad_norm_sq[0], 0.3 / 4, rtol=1e-12)  # ||u/2||^2_{S^-1} = separability/4


def test_gd_rejects_bad_inputs() -> None:
    P = halfspace_instances(4, 5.0, 0.5, [0, 1])
    with pytest.raises(ValueError, match="step must be positive"):
        gd(P, np.zeros((2, 4)), 3, -1.0)
    with pytest.raises(ValueError, match="wt0 must have shape"):
        agd(P, np.zeros(4), 3, 1.0)
    with pytest.raises(ValueError, match="momentum"):
        agd(P, np.zeros((2, 4)), 3, 1.0, momentum=1.5)


def test_chain_rule_consistency() -> None:
    P = halfspace_instances(4, 5.0, 0.5, [0])
    w = _start(P)
    gw, _ = gradient_wg(P.grad(reparametrize(w, 1.3, P.S)), w, 1.3, P.S)
    assert abs(np.sum(w * gw)) <= 1e-14 * np.linalg.norm(w) * np.linalg.norm(gw)


def test_early_stopping_ends_every_method_below_the_tolerance() -> None:
    problem = halfspace_instances(5, 5.0, 0.3, [0, 1])
    step = 1 / halfspace_smoothness(problem)
    wt0 = np.zeros_like(problem.u)
    w0 = -problem.u + 0.3 * np.random.default_rng(0).standard_normal(problem.u.shape)
    for history in (
        gd(problem, wt0, 5000, step, tol=1e-10),
        agd(problem, wt0, 5000, step, tol=1e-10),
        gdnp(problem, w0, 500, 30, tol=1e-10),
    ):
        assert history.grad_norm_sq.shape[0] < 500
        assert np.all(history.grad_norm_sq[-1] < 1e-10)
        assert not np.all(history.grad_norm_sq[-2] < 1e-10)


def test_bngd_on_ols_follows_the_closed_form_bngd_of_the_experiments() -> None:
    problem = ols_instances(6, 20.0, [1, 2, 3])
    w0 = np.random.default_rng(5).standard_normal(problem.u.shape)
    g0 = np.array([0.3, 1.0, 2.0])
    ours = bngd(problem, w0, g0, 40, 0.7, 0.2)
    theirs = bngd_ols(problem.S, problem.u, w0, g0, 40, 0.7, 0.2)
    gap = quadratic_form(ours.wt + rayleigh_argmin(problem.S, problem.u), problem.S) / inv_norm_sq(problem.u, problem.S)
    np.testing.assert_allclose(gap, theirs.gap, rtol=1e-9, atol=1e-14)


def test_lbfgs_reaches_the_logistic_closed_form() -> None:
    problem = halfspace_instances(8, 30.0, 0.6, [4])
    run = lbfgs(problem, np.zeros((1, 8)), 500, 1e-14)
    assert run.grad_norm_sq[-1, 0] < 1e-14 <= run.grad_norm_sq[-2, 0]
    star = logistic_minimizer(problem.S, problem.u)
    assert np.linalg.norm(run.wt[-1] - star) < 1e-5 * np.linalg.norm(star)
    with pytest.raises(ValueError, match=r"lbfgs runs one instance"):
        lbfgs(halfspace_instances(8, 30.0, 0.6, [4, 5]), np.zeros((2, 8)), 5, 1e-10)
