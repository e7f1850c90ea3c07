"""The shared numerical helpers against independent computations (scipy's integrators and differences)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import approx_fprime
from scipy.special import expit
from scipy.stats import norm

from bnrates.losses import softplus
from bnrates.numerics import central_gradient, central_jacobian, cosine, directional_derivative, s_cosine
from bnrates.problems import random_spd
from bnrates.quadrature import trapezoid_rule


def _f(x: np.ndarray) -> np.ndarray:
    return np.sin(x[..., 0]) * np.exp(x[..., 1]) + x[..., 2] ** 3


def _grad_f(x: np.ndarray) -> np.ndarray:
    return np.stack(
        [np.cos(x[..., 0]) * np.exp(x[..., 1]), np.sin(x[..., 0]) * np.exp(x[..., 1]), 3 * x[..., 2] ** 2], axis=-1
    )


def test_central_gradient_matches_the_analytic_gradient_and_is_more_accurate_than_scipys_forward_difference() -> None:
    x = np.array([0.3, -0.4, 0.7])
    ours = central_gradient(_f, x, 1e-5)
    forward = approx_fprime(x, _f, 1e-7)
    np.testing.assert_allclose(ours, _grad_f(x), rtol=1e-9)
    np.testing.assert_allclose(forward, _grad_f(x), rtol=1e-5)
    assert np.abs(ours - _grad_f(x)).max() < np.abs(forward - _grad_f(x)).max()


def test_central_gradient_is_batched_over_leading_axes() -> None:
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    batched = central_gradient(_f, x, 1e-5)
    assert batched.shape == (4, 2, 3)
    for idx in np.ndindex(4, 2):
        np.testing.assert_allclose(batched[idx], approx_fprime(x[idx], _f, 1e-8), rtol=1e-5, atol=1e-6)


def test_central_jacobian_and_directional_derivative_match_analytic_derivatives() -> None:
    x = np.array([0.3, -0.4, 0.7])
    jac = central_jacobian(lambda X: _grad_f(X), x, 1e-5)
    exact = np.array(
        [
            [-np.sin(x[0]) * np.exp(x[1]), np.cos(x[0]) * np.exp(x[1]), 0.0],
            [np.cos(x[0]) * np.exp(x[1]), np.sin(x[0]) * np.exp(x[1]), 0.0],
            [0.0, 0.0, 6 * x[2]],
        ]
    )
    np.testing.assert_allclose(jac, exact, atol=1e-9)
    v = np.array([1.0, 2.0, -0.5])
    np.testing.assert_allclose(directional_derivative(_f, x, v, 1e-5), _grad_f(x) @ v, rtol=1e-9)


def test_cosines_match_the_angle_by_hand() -> None:
    a, b = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([0.0, -2.0])
    np.testing.assert_allclose(cosine(a, b), [0.0, np.sqrt(0.5)], atol=1e-15)
    S = random_spd(4, 10.0, [3])[0]
    C = np.linalg.cholesky(S)
    p, q = np.random.default_rng(1).standard_normal((2, 4))
    # the S-cosine is the Euclidean cosine after the change of variables x -> C^T x (S = C C^T)
    np.testing.assert_allclose(s_cosine(p, q, S), cosine(C.T @ p, C.T @ q), rtol=1e-13)
    loop = abs(sum(p[i] * S[i, j] * q[j] for i in range(4) for j in range(4)))
    np.testing.assert_allclose(s_cosine(p, q, S), loop / np.sqrt((p @ S @ p) * (q @ S @ q)), rtol=1e-13)


@pytest.mark.parametrize(("n_nodes", "half_width"), [(4097, 14.0), (145, 9.0)])
@pytest.mark.parametrize(("m", "s"), [(0.3, 1.0), (-1.0, 4.0)])
def test_trapezoid_rule_matches_adaptive_quadrature(n_nodes: int, half_width: float, m: float, s: float) -> None:
    xi, w = trapezoid_rule(n_nodes, half_width)
    assert xi.shape == w.shape == (n_nodes,) and abs(w.sum() - 1) < 1e-15
    for psi in (softplus, expit):
        exact = quad(lambda t, psi=psi: psi(m + s * t) * norm.pdf(t), -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
        np.testing.assert_allclose(w @ psi(m + s * xi), exact, rtol=1e-11)


def test_trapezoid_rule_degenerate_and_bad_input() -> None:
    xi, w = trapezoid_rule(1, 9.0)
    assert xi.tolist() == [0.0] and w.tolist() == [1.0]
    with pytest.raises(ValueError, match="n_nodes"):
        trapezoid_rule(0, 9.0)
    with pytest.raises(ValueError, match="half_width"):
        trapezoid_rule(5, -1.0)
