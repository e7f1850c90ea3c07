"""Tests of the one-hidden-layer model (theory notes, sections 4 and 7)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.stats import norm

from bnrates.claims import mlp as claims_mlp
from bnrates.halfspace import halfspace_instances
from bnrates.mlp import OneHiddenLayer, aligned_cosines, direction_cosine, gdnp_unit, unit_weights
from bnrates.problems import spectrum_bounds
from bnrates.rates import contraction_ratios, theory_factor
from bnrates.reparametrization import s_norm

FAST = settings(max_examples=8, deadline=None)


def _net(seed: int, outer: str, d: int = 5, separability: float = 0.3, theta=(1.0, 0.6)) -> OneHiddenLayer:
    p = halfspace_instances(d, 10.0, separability, [seed])
    return OneHiddenLayer(p.S[0], p.u[0], theta, outer)


@pytest.mark.parametrize("outer", ["linear", "logistic"])
@given(seed=st.integers(0, 1000))
@FAST
def test_gradient_matches_finite_differences(outer: str, seed: int) -> None:
    net = _net(seed, outer)
    wt = np.random.default_rng(seed).standard_normal((2, 5))
    g = net.grad(wt)
    fd = np.zeros_like(wt)
    for idx in np.ndindex(*wt.shape):
        e = np.zeros_like(wt)
        e[idx] = 1e-5
        fd[idx] = (net.value(wt + e) - net.value(wt - e)) / 2e-5
    np.testing.assert_allclose(g, fd, atol=1e-8 * max(1.0, np.abs(g).max()))


def test_linear_outer_loss_decouples() -> None:
    """For linear l the value is the sum of the units' one-unit values and B is diagonal."""
    net = _net(3, "linear", theta=(1.0, -0.5, 2.0))
    wt = np.random.default_rng(3).standard_normal((3, 5))
    # independent of the model's quadrature: f = sum_i theta_i E[tanh(a_i)], a_i ~ N(w~_i^T u, w~_i^T C w~_i),
    # each a one-dimensional integral by scipy's adaptive quad
    C = net.S - np.outer(net.u, net.u)

    def unit(theta: float, m: float, s: float) -> float:
        return theta * quad(lambda x: np.tanh(m + s * x) * norm.pdf(x), -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13)[0]

    single = [unit(t, wt[i] @ net.u, np.sqrt(wt[i] @ C @ wt[i])) for i, t in enumerate(net.theta)]
    assert net.value(wt) == pytest.approx(sum(single), rel=1e-10)
    beta = net.expectations(wt).beta
    assert np.all(beta[~np.eye(3, dtype=bool)] == 0)


def test_value_based_direction_checks_see_a_coupling_the_stein_form_cannot() -> None:
    """The claims' value-based gradients match the Stein form; a coupling added to the value shows in them.

    ``f + eps w~_1^T w~_2`` has the unit-2 gradient ``grad + eps w~_1`` (computed here by hand).
    """
    net = _net(5, "linear")
    rng = np.random.default_rng(5)
    wt = rng.standard_normal((4, 2, 5))
    w = wt[:, 1] / 1.7
    np.testing.assert_allclose(claims_mlp._fd_unit_grad(net, wt, 1), net.grad(wt)[:, 1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        direction_cosine(net, wt, 1, w, grad=net.grad(wt)[:, 1]), direction_cosine(net, wt, 1, w)
    )
    np.testing.assert_allclose(direction_cosine(net, wt, 1, w), 1.0, atol=1e-12)  # linear l decouples
    coupled = net.grad(wt)[:, 1] + 0.05 * wt[:, 0]
    assert np.all(1 - direction_cosine(net, wt, 1, w, grad=coupled) > 1e-6)
    g = np.array([0.7, -1.9])
    assert claims_mlp._direction_gradient_error(net, g, wt[0]) < 1e-8


@given(seed=st.integers(0, 1000))
@FAST
def test_lemma_linear_loss_critical_directions_aligned(seed: int) -> None:
    """Linear l, lengths fixed: the direction minimum found by L-BFGS has every unit on the line S^-1 u."""
    net = _net(seed, "linear")
    rng = np.random.default_rng(seed)
    g = rng.uniform(0.3, 3.0, 2) * rng.choice([-1.0, 1.0], 2)
    wt, gn = claims_mlp._direction_minimum(net, g, rng.standard_normal((2, 5)))
    assert gn < 1e-6
    np.testing.assert_allclose(aligned_cosines(wt, net.S, net.u), 1.0, atol=1e-8)


def test_logistic_counterexample_reproduces() -> None:
    ce = claims_mlp.counterexample("quick", 0)
    assert ce.value_aligned == pytest.approx(0.5116507, abs=5e-8)
    assert ce.value_nonaligned == pytest.approx(0.5116051, abs=2e-7)
    assert ce.grad_nonaligned < 1e-8
    assert ce.eig_aligned.min() < -1e-4
    assert aligned_cosines(ce.nonaligned, ce.net.S, ce.net.u).min() < 0.999


def test_counterexample_depends_on_separability_only() -> None:
    """The loss is invariant under the instance: a different d, kappa and seed give the same aligned value."""
    p = halfspace_instances(4, 50.0, claims_mlp.SEPARABILITY_COUNTEREXAMPLE, [7])
    net = OneHiddenLayer(p.S[0], p.u[0], claims_mlp.THETA, "logistic")
    v = np.linalg.solve(net.S, net.u)
    t = claims_mlp.counterexample("quick", 0).aligned @ claims_mlp.counterexample("quick", 0).net.u
    wt = np.outer(t / net.separability, v)
    assert net.value(wt) == pytest.approx(0.5116507, abs=5e-8)


def test_per_unit_rate_with_other_unit_zero() -> None:
    p = halfspace_instances(6, 20.0, 0.3, [0, 1])
    net = OneHiddenLayer(p.S, p.u, (1.0, 0.6), "logistic")
    w0 = np.random.default_rng(1).standard_normal((2, 6))
    w0 *= -np.sign(np.sum(w0 * p.u, axis=-1))[:, None]
    hist = gdnp_unit(net, np.zeros((2, 2, 6)), 0, w0, 12, 25)
    mu, L = spectrum_bounds(p.S)
    ratios = contraction_ratios(hist.rayleigh_gap, 1e-9 * net.separability) / theory_factor(mu, L)
    assert np.nanmax(ratios) <= 1 + 1e-9


def test_bad_inputs_give_clear_errors() -> None:
    p = halfspace_instances(3, 10.0, 0.3, [0])
    S, u = p.S[0], p.u[0]
    with pytest.raises(ValueError, match="theta must be a 1-D"):
        OneHiddenLayer(S, u, [[1.0, 0.6]])
    with pytest.raises(ValueError, match="outer must be one of"):
        OneHiddenLayer(S, u, [1.0], outer="sigmoid")
    with pytest.raises(ValueError, match="u must satisfy"):
        OneHiddenLayer(S, 10 * u, [1.0])
    net = OneHiddenLayer(S, u, [1.0, 0.6])
    with pytest.raises(ValueError, match=r"wt must have shape \(\.\.\., m, d\) = \(\.\.\., 2, 3\)"):
        net.value(np.ones((3, 3)))
    with pytest.raises(ValueError, match="direction w_i must be non-zero"):
        unit_weights(np.zeros((2, 3)), [1.0, 1.0], S)
    with pytest.raises(ValueError, match="index must be an integer >= 0 and <= 1"):
        gdnp_unit(OneHiddenLayer(p.S, p.u, [1.0, 0.6]), np.zeros((1, 2, 3)), 2, np.ones((1, 3)), 2, 5)
    with pytest.raises(ValueError, match="resolution must lie in"):
        OneHiddenLayer(S, u, [1.0], resolution=2.0)


def test_zero_unit_is_handled_exactly() -> None:
    """A unit with g = 0 contributes tanh(0) = 0: same value as the network without it."""
    net = _net(0, "logistic")
    wt = np.random.default_rng(0).standard_normal((2, 5))
    wt[1] = 0
    alone = OneHiddenLayer(net.S, net.u, [1.0], "logistic")
    assert net.value(wt) == pytest.approx(float(alone.value(wt[:1])), rel=1e-13)
    assert s_norm(wt[1], net.S) == 0
