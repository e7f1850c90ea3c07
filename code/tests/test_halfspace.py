"""Tests of the losses and the halfspace problems (theory notes, sections 3 and 7)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from bnrates.empirical import EmpiricalHalfspace
from bnrates.halfspace import (
    GaussianHalfspace,
    MixtureHalfspace,
    gaussian_expectations,
    halfspace_instances,
    halfspace_smoothness,
    logistic_minimizer,
    monte_carlo_grad,
)
from bnrates.losses import LOSSES, get_loss
from bnrates.numerics import central_gradient, cosine, directional_derivative
from bnrates.problems import random_spd
from bnrates.rayleigh import rayleigh_argmin
from bnrates.reparametrization import s_norm

FAST = settings(max_examples=15, deadline=None)


def _points(problem: GaussianHalfspace, scale: float, seed: int) -> np.ndarray:
    """Random effective weights with ``||w~||_S = scale``, shape ``(B, d)``."""
    w = np.random.default_rng(seed).standard_normal(problem.u.shape)
    return scale * w / s_norm(w, problem.S)[:, None]


# ---------------------------------------------------------------- losses


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_derivatives_match_finite_differences(name: str) -> None:
    loss = get_loss(name)
    t = np.linspace(-30, 30, 121)
    eps = 1e-6
    np.testing.assert_allclose(directional_derivative(loss.phi, t, 1.0, eps), loss.dphi(t), atol=1e-9)
    fd2 = directional_derivative(loss.dphi, t, 1.0, eps)
    np.testing.assert_allclose(fd2, loss.d2phi(t), atol=1e-9)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_are_stable_for_large_arguments(name: str) -> None:
    loss = get_loss(name)
    t = np.array([-1e300, -1e4, 1e4, 1e300])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for f in (loss.phi, loss.dphi, loss.d2phi, *loss.derivatives(t)):
            assert np.all(np.isfinite(f(t) if callable(f) else f))
    if name == "logistic":
        np.testing.assert_allclose(loss.phi(np.array([1e4])), [1e4])


def test_loss_bounds() -> None:
    t = np.linspace(-40, 40, 200001)
    for loss in LOSSES.values():
        assert np.max(np.abs(loss.d2phi(t))) <= loss.curvature_bound * (1 + 1e-12)
        assert np.max(np.abs(loss.d2phi(t))) >= loss.curvature_bound * (1 - 1e-6)
        assert np.max(np.abs(loss.dphi(t))) <= loss.slope_bound
        third = np.max(np.abs(np.gradient(loss.d2phi(t), t)))
        assert loss.third_derivative_bound * (1 - 1e-6) <= third <= loss.third_derivative_bound * (1 + 1e-6)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_one_pass_derivatives_and_fast_softplus(name: str) -> None:
    loss = get_loss(name)
    t = np.concatenate([np.linspace(-700, 700, 14001), np.random.default_rng(0).standard_normal(10_000) * 5])
    first, second = loss.derivatives(t)
    np.testing.assert_allclose(first, loss.dphi(t), rtol=2e-15, atol=0)
    np.testing.assert_allclose(second, loss.d2phi(t), rtol=2e-15, atol=0)
    if name == "logistic":
        np.testing.assert_allclose(loss.phi(t), np.logaddexp(0.0, t), rtol=1e-15, atol=0)


def test_unknown_loss_name() -> None:
    with pytest.raises(ValueError, match=r"loss must be one of 'logistic', 'sigmoid', 'smoothed_hinge'; got 'x'"):
        get_loss("x")
    with pytest.raises(ValueError, match="loss must be one of"):
        halfspace_instances(3, 2.0, 0.5, [0], loss="hinge")


# ---------------------------------------------------------------- quadrature


def test_quadrature_matches_a_much_finer_rule() -> None:
    for loss in LOSSES:
        for separability in (0.1, 0.5, 0.95):
            coarse = halfspace_instances(6, 10.0, separability, [0, 1, 2], loss=loss)
            fine = GaussianHalfspace(coarse.S, coarse.u, loss, n_nodes=65537)
            g_star = 2 * np.sqrt(separability) / (1 - separability)
            for scale in (0.1, 1.0, 2 * g_star):
                wt = _points(coarse, scale, 3)
                for a, b in ((coarse.value(wt), fine.value(wt)), (coarse.grad(wt), fine.grad(wt))):
                    assert np.max(np.abs(a - b)) <= 1e-10 * np.max(np.abs(b))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_wide_gaussians_use_an_accurate_rule(name: str) -> None:
    """Beyond ``s h = 0.45`` the kink-centred rule takes over; check it on both sides."""
    loss = get_loss(name)
    fs = [loss.phi, loss.dphi, loss.d2phi]
    s = np.array([30.0, 66.0, 70.0, 300.0, 3000.0])
    m = np.array([0.3, -2.0, 0.0, 1.0, -0.5]) * s
    ref = gaussian_expectations(fs, m, s, n_nodes=2**19 + 1)
    got = gaussian_expectations(fs, m, s)
    scale = np.max(np.abs(ref), axis=1, keepdims=True)
    assert np.max(np.abs(got - ref) / scale) <= 1e-12
    # s -> infinity: E[sigma'(m + s xi)] ~ pdf(m / s) / s
    r, s_big = 0.3, 1e6
    e = gaussian_expectations([get_loss("logistic").d2phi], r * s_big, s_big)[0]
    assert abs(e * s_big / (np.exp(-(r**2) / 2) / np.sqrt(2 * np.pi)) - 1) <= 1e-10


def test_zero_variance_and_zero_weights() -> None:
    P = halfspace_instances(4, 3.0, 0.5, [0, 1])
    zero = np.zeros((2, 4))
    np.testing.assert_allclose(P.value(zero), np.log(2), rtol=1e-15)
    np.testing.assert_allclose(P.grad(zero), P.u / 2, rtol=1e-15)
    np.testing.assert_allclose(gaussian_expectations([np.cos], 0.7, 0.0), [np.cos(0.7)], rtol=1e-15)


def test_batch_equals_single_instances() -> None:
    P = halfspace_instances(5, 10.0, 0.7, [3, 4, 5])
    wt = _points(P, 1.5, 0)
    for b in range(3):
        Pb = GaussianHalfspace(P.S[b], P.u[b])
        np.testing.assert_allclose(Pb.value(wt[b]), P.value(wt)[b], rtol=1e-14)
        np.testing.assert_allclose(Pb.grad(wt[b]), P.grad(wt)[b], rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- gradient


@FAST
@given(
    seed=st.integers(0, 10_000),
    separability=st.floats(0.05, 0.95),
    scale=st.floats(0.05, 20.0),
    loss=st.sampled_from(sorted(LOSSES)),
)
def test_gradient_matches_central_differences(seed: int, separability: float, scale: float, loss: str) -> None:
    P = halfspace_instances(4, 10.0, separability, [seed], loss=loss)
    wt = _points(P, scale, seed + 1)
    fd = central_gradient(P.value, wt, 1e-5 * max(scale, 1.0))
    grad = P.grad(wt)
    assert np.linalg.norm(fd - grad) <= 1e-7 * np.linalg.norm(grad) + 1e-13


def test_stein_form_matches_the_direct_expectation() -> None:
    """``E[phi'(z^T w~) z]`` without Stein: ``z = u + (S - uu^T) w~ xi / s + (part orthogonal)``."""
    for loss_name in LOSSES:
        P = halfspace_instances(5, 20.0, 0.8, [0, 1], loss=loss_name)
        wt = _points(P, 3.0, 7)
        m = np.einsum("bi,bi->b", P.u, wt)
        Cw = np.einsum("bij,bj->bi", P.cov, wt)
        s = np.sqrt(np.einsum("bi,bi->b", wt, Cw))
        dphi = P.loss.dphi
        e1 = gaussian_expectations([dphi], m, s)[0]
        # E[phi'(m + s xi) xi] on the same rule, via a node-dependent integrand
        e_xi = np.array(
            [
                gaussian_expectations([lambda t, mb=mb, sb=sb, f=dphi: f(t) * (t - mb) / sb], mb, sb)[0]
                for mb, sb in zip(m, s, strict=True)
            ]
        )
        direct = e1[:, None] * P.u + (e_xi / s)[:, None] * Cw
        c1, c2 = P.stein_coefficients(wt)
        stein = c1[:, None] * P.u + c2[:, None] * np.einsum("bij,bj->bi", P.S, wt)
        np.testing.assert_allclose(stein, direct, rtol=1e-10, atol=1e-14)
        np.testing.assert_array_equal(P.grad(wt), stein)


def test_quadrature_agrees_with_monte_carlo() -> None:
    P = halfspace_instances(5, 10.0, 0.6, [0, 1, 2])
    wt = _points(P, 2.0, 1)
    mean, se = monte_carlo_grad(P, wt, 200_000, seed=0)
    assert np.all(np.abs(mean - P.grad(wt)) <= 4 * se)
    assert np.all(se < 3 / np.sqrt(200_000))


def test_sample_moments() -> None:
    P = halfspace_instances(3, 5.0, 0.5, [0])
    z = P.sample(400_000, np.random.default_rng(1))
    assert z.shape == (400_000, 1, 3)
    np.testing.assert_allclose(z.mean(axis=0), P.u, atol=1e-2)
    np.testing.assert_allclose(np.einsum("nbi,nbj->bij", z, z) / z.shape[0], P.S, atol=1e-2)


# ---------------------------------------------------------------- structure


def test_instances_have_the_requested_separability_and_spectrum() -> None:
    P = halfspace_instances(8, 50.0, 0.9, [0, 1, 2, 3])
    np.testing.assert_allclose(P.separability, 0.9, rtol=1e-12)
    eig = np.linalg.eigvalsh(P.S)
    np.testing.assert_allclose(eig[:, -1], 1.0, rtol=1e-12)
    np.testing.assert_allclose(eig[:, 0], 1 / 50, rtol=1e-10)
    np.testing.assert_allclose(halfspace_smoothness(P), 0.25, rtol=1e-12)


def test_critical_point_is_aligned_with_S_inv_u() -> None:
    P = halfspace_instances(5, 10.0, 0.6, [11])
    S, u = P.S[0], P.u[0]
    Q = GaussianHalfspace(S, u)
    res = minimize(Q.value, np.zeros(5), jac=Q.grad, method="BFGS", options={"gtol": 1e-11, "maxiter": 500})
    wt = res.x
    assert np.linalg.norm(Q.grad(wt)) <= 1e-9
    v = rayleigh_argmin(S, u)
    assert cosine(wt, v) >= 1 - 1e-8
    np.testing.assert_allclose(wt, logistic_minimizer(S, u), rtol=1e-7)


@pytest.mark.parametrize("separability", [0.1, 0.5, 0.9, 0.99])
def test_logistic_minimizer_is_stationary(separability: float) -> None:
    P = halfspace_instances(6, 100.0, separability, [0, 1])
    wt = logistic_minimizer(P.S, P.u)
    g = P.grad(wt)
    assert np.max(np.abs(g)) <= 1e-12 * max(1.0, np.max(np.abs(wt)))
    np.testing.assert_allclose(s_norm(wt, P.S), 2 * np.sqrt(separability) / (1 - separability), rtol=1e-12)


# ---------------------------------------------------------------- empirical data


def _data(n: int = 300, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_empirical_gradient_matches_finite_differences(loss: str) -> None:
    X, y = _data()
    P = EmpiricalHalfspace(X, y, loss)
    wt = np.random.default_rng(1).standard_normal((3, 4))
    fd = central_gradient(P.value, wt, 1e-6)
    np.testing.assert_allclose(fd, P.grad(wt), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(P.S, (X.T @ X) / len(y), rtol=1e-14)
    np.testing.assert_allclose(P.u, -(y @ X) / len(y), rtol=1e-14)


def test_empirical_monte_carlo_resampling() -> None:
    X, y = _data()
    P = EmpiricalHalfspace(X, y)
    wt = np.array([0.3, -0.2, 0.1, 0.5])
    mean, se = monte_carlo_grad(P, wt, 100_000, seed=3)
    assert np.all(np.abs(mean - P.grad(wt)) <= 4 * se)


# ---------------------------------------------------------------- validation


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"separability must lie in \(0, 1\)"):
        halfspace_instances(3, 2.0, 1.0, [0])
    with pytest.raises(ValueError, match=r"separability must lie in \(0, 1\)"):
        halfspace_instances(3, 2.0, 0.0, [0])
    S = np.eye(3)
    with pytest.raises(ValueError, match=r"u must satisfy u\^T S\^-1 u < 1"):
        GaussianHalfspace(S, np.array([1.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="u must have shape"):
        GaussianHalfspace(S, np.zeros(2))
    with pytest.raises(ValueError, match="positive definite"):
        GaussianHalfspace(-S, np.zeros(3))
    X, y = _data()
    with pytest.raises(ValueError, match="y must have shape"):
        EmpiricalHalfspace(X, y[:-1])
    with pytest.raises(ValueError, match="labels -1 and \\+1"):
        EmpiricalHalfspace(X, (y + 1) / 2)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        EmpiricalHalfspace(X_nan, y)
    with pytest.raises(ValueError, match="full column rank"):
        EmpiricalHalfspace(np.c_[X, X[:, :1]], y)


def test_mixture_has_the_stated_moments_and_a_correct_gradient() -> None:
    rng = np.random.default_rng(5)
    C = random_spd(4, 5.0, [1])[0] * 0.4
    u, delta = 0.3 * rng.standard_normal(4), 0.3 * rng.standard_normal(4)
    problem = MixtureHalfspace(C, u, delta, (0.25, 1.5))
    np.testing.assert_allclose(problem.S, 0.875 * C + np.outer(u, u) + np.outer(delta, delta), rtol=1e-12)
    wt = rng.standard_normal(4)
    fd = np.array([(problem.value(wt + 1e-6 * e) - problem.value(wt - 1e-6 * e)) / 2e-6 for e in np.eye(4)])
    np.testing.assert_allclose(problem.grad(wt), fd, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match=r"spreads\[1\] must lie in \(0, inf\)"):
        MixtureHalfspace(C, u, delta, (1.0, 0.0))
