"""Identities of the length-direction reparametrization (theory notes, section 1)."""

from __future__ import annotations

import numpy as np
from conftest import dims, kappas, random_point, seeds
from hypothesis import given, settings

from bnrates.numerics import central_gradient
from bnrates.problems import grad_wg, ols_instances, value_wg
from bnrates.reparametrization import (
    batch_norm,
    direction_projector,
    inv_norm_sq,
    length_direction_split,
    quadratic_form,
    reparametrize,
    s_norm,
    weight_norm,
)


@settings(max_examples=40, deadline=None)
@given(d=dims, kappa=kappas, seed=seeds)
def test_gradients_in_w_and_g_match_finite_differences(d: int, kappa: float, seed: int) -> None:
    P = ols_instances(d, kappa, [seed])
    w, g = random_point(d, seed)
    gw, gg = grad_wg(P, w, g)
    fd_w = central_gradient(lambda x: float(value_wg(P, x[None], g)[0]), w[0], 1e-6)
    fd_g = (value_wg(P, w, g + 1e-6) - value_wg(P, w, g - 1e-6)) / 2e-6
    scale = 1 + np.abs(gw).max()
    np.testing.assert_allclose(gw[0], fd_w, atol=1e-6 * scale * kappa)
    np.testing.assert_allclose(gg, fd_g, rtol=1e-6, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(d=dims, kappa=kappas, seed=seeds)
def test_direction_gradient_is_orthogonal_to_w_and_scale_invariant(d: int, kappa: float, seed: int) -> None:
    P = ols_instances(d, kappa, [seed])
    w, g = random_point(d, seed)
    gw, _ = grad_wg(P, w, g)
    assert abs(float(np.sum(w * gw))) <= 1e-10 * np.linalg.norm(w) * np.linalg.norm(gw) + 1e-14
    np.testing.assert_allclose(value_wg(P, 3.7 * w, g), value_wg(P, w, g), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(reparametrize(-w, g, P.S), -reparametrize(w, g, P.S), rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(d=dims, kappa=kappas, seed=seeds)
def test_projector_is_s_inverse_orthogonal_and_kills_s_w(d: int, kappa: float, seed: int) -> None:
    S = ols_instances(d, kappa, [seed]).S[0]
    w = random_point(d, seed)[0][0]
    P = direction_projector(w, S)
    S_inv = np.linalg.inv(S)
    np.testing.assert_allclose(P @ P, P, atol=1e-10 * kappa)
    np.testing.assert_allclose(S_inv @ P, (S_inv @ P).T, atol=1e-9 * kappa**2)
    np.testing.assert_allclose(P @ (S @ w), 0, atol=1e-12 * np.linalg.norm(S @ w) * kappa)


@settings(max_examples=40, deadline=None)
@given(d=dims, kappa=kappas, seed=seeds)
def test_length_direction_split_is_exact(d: int, kappa: float, seed: int) -> None:
    P = ols_instances(d, kappa, [seed])
    w, g = random_point(d, seed)
    direction, length = length_direction_split(*grad_wg(P, w, g), w, g, P.S)
    total = inv_norm_sq(P.grad(reparametrize(w, g, P.S)), P.S)
    np.testing.assert_allclose(direction + length, total, rtol=1e-10)


def test_s_norm_of_reparametrized_weights_is_the_length(rng: np.random.Generator) -> None:
    P = ols_instances(6, 30.0, [3, 4])
    w = rng.standard_normal((2, 6))
    g = np.array([2.0, -0.5])
    np.testing.assert_allclose(s_norm(reparametrize(w, g, P.S), P.S), np.abs(g), rtol=1e-13)
    v = rng.standard_normal((2, 6))
    # against explicit double sums over the entries (not against s_norm, which is defined as its root)
    by_hand = [sum(w[b, i] * P.S[b, i, j] * w[b, j] for i in range(6) for j in range(6)) for b in range(2)]
    bilinear = [sum(v[b, i] * P.S[b, i, j] * w[b, j] for i in range(6) for j in range(6)) for b in range(2)]
    np.testing.assert_allclose(quadratic_form(w, P.S), by_hand, rtol=1e-13)
    np.testing.assert_allclose(quadratic_form(v, P.S, w), bilinear, rtol=1e-12)
    np.testing.assert_allclose(s_norm(w, P.S), np.sqrt(by_hand), rtol=1e-13)


def test_batch_norm_with_population_statistics_is_the_reparametrization(rng: np.random.Generator) -> None:
    X = rng.standard_normal((500, 4)) @ rng.standard_normal((4, 4))
    X -= X.mean(axis=0)
    S = X.T @ X / len(X)
    w = rng.standard_normal(4)
    np.testing.assert_allclose(batch_norm(X, w, 1.5), X @ reparametrize(w, 1.5, S), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weight_norm(w, 2.0), reparametrize(w, 2.0, np.eye(4)), rtol=1e-14)
