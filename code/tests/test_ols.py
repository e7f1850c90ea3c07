"""Least squares in BN parametrization: Rayleigh quotient, the theorem, its negative control."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import dims, kappas, random_point, seeds
from hypothesis import given, settings
from hypothesis import strategies as st

from bnrates.algorithms import gd_rayleigh, step_without_factor_two
from bnrates.numerics import central_gradient
from bnrates.problems import OLS, ols_instances, ols_worst_case, random_spd, spectrum_bounds
from bnrates.rates import contraction_ratios, fit_contraction, least_squares_gap, rayleigh_gap, theory_factor
from bnrates.rayleigh import (
    ols_objective_wg,
    optimal_length,
    rayleigh,
    rayleigh_argmin,
    rayleigh_grad,
    rayleigh_min,
    rayleigh_terms,
)
from bnrates.reparametrization import quadratic_form, reparametrize


@settings(max_examples=40, deadline=None)
@given(d=dims, kappa=kappas, seed=seeds)
def test_rayleigh_gradient_matches_finite_differences(d: int, kappa: float, seed: int) -> None:
    P = ols_instances(d, kappa, [seed])
    w = random_point(d, seed)[0][0]
    fd = central_gradient(lambda x: float(rayleigh(x, P.S[0], P.u[0])), w, 1e-6)
    grad = rayleigh_grad(w, P.S[0], P.u[0])
    np.testing.assert_allclose(grad, fd, atol=1e-6 * (1 + np.abs(grad).max()) * kappa)


@settings(max_examples=20, deadline=None)
@given(d=dims, kappa=kappas, seed=seeds)
def test_rayleigh_terms_agree_with_the_separate_formulas(d: int, kappa: float, seed: int) -> None:
    P = ols_instances(d, kappa, [seed, seed + 1])
    w = np.stack([random_point(d, seed)[0][0], random_point(d, seed + 1)[0][0]])
    norm_sq, rho, _ = rayleigh_terms(w, P.S, P.u)
    np.testing.assert_allclose(norm_sq, quadratic_form(w, P.S), rtol=1e-14)
    np.testing.assert_allclose(rho, rayleigh(w, P.S, P.u), rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(d=dims, kappa=kappas, seed=seeds)
def test_length_elimination_and_gap_identity(d: int, kappa: float, seed: int) -> None:
    P = ols_instances(d, kappa, [seed])
    S, u = P.S[0], P.u[0]
    w = random_point(d, seed)[0][0]
    g_star = optimal_length(w, S, u)
    rho = rayleigh(w, S, u)
    np.testing.assert_allclose(ols_objective_wg(w, g_star, S, u), rho, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(P.value(reparametrize(w, g_star, S)), rho, rtol=1e-10, atol=1e-14)
    for g in (g_star - 0.1, g_star + 0.3):
        assert ols_objective_wg(w, g, S, u) >= rho
    np.testing.assert_allclose(
        rayleigh_gap(w, S[None], u[None])[0], rho - rayleigh_min(S, u), rtol=1e-7, atol=1e-12 * abs(rayleigh_min(S, u))
    )
    w_star = rayleigh_argmin(S, u)
    np.testing.assert_allclose(
        reparametrize(w_star, optimal_length(w_star, S, u), S), P.solution()[0], rtol=1e-8, atol=1e-12
    )


@settings(max_examples=25, deadline=None)
@given(d=st.integers(2, 30), kappa=st.floats(1.5, 500.0), seed=seeds)
def test_ols_theorem_bound_holds_on_random_instances(d: int, kappa: float, seed: int) -> None:
    P = ols_instances(d, kappa, [seed, seed + 1])
    mu, L = spectrum_bounds(P.S)
    w0 = np.random.default_rng(seed).standard_normal((2, d))
    gap = rayleigh_gap(gd_rayleigh(P.S, P.u, w0, 200, L), P.S, P.u)
    ratios = contraction_ratios(gap, 1e-9 * np.abs(rayleigh_min(P.S, P.u)))
    finite = np.isfinite(ratios)
    # ratios are NaN once the gap is below its floor: every instance must have steps above it
    assert finite.sum(axis=0).min() >= 1, finite.sum(axis=0)
    assert np.all(ratios[finite] <= np.broadcast_to(theory_factor(mu, L), ratios.shape)[finite] * (1 + 1e-9))


def test_negative_control_violates_the_bound() -> None:
    P = ols_instances(10, 2.0, np.arange(6))
    mu, L = spectrum_bounds(P.S)
    w0 = np.random.default_rng(0).standard_normal((6, 10))
    gap = rayleigh_gap(gd_rayleigh(P.S, P.u, w0, 50, L, step_without_factor_two), P.S, P.u)
    ratios = contraction_ratios(gap, 1e-9 * np.abs(rayleigh_min(P.S, P.u)))
    assert np.nanmax(ratios / theory_factor(mu, L)) > 1.5


def test_worst_case_instances_attain_the_bound() -> None:
    P, w0 = ols_worst_case(20, 10.0, np.arange(3))
    mu, L = spectrum_bounds(P.S)
    gap = rayleigh_gap(gd_rayleigh(P.S, P.u, w0, 80, L), P.S, P.u)
    fitted = fit_contraction(gap, 1e-9 * np.abs(rayleigh_min(P.S, P.u)))
    np.testing.assert_allclose(fitted, theory_factor(mu, L), rtol=1e-3)


def test_least_squares_gap_is_objective_difference() -> None:
    P = ols_instances(5, 10.0, [1])
    wt = np.random.default_rng(1).standard_normal((1, 5))
    f_star = P.value(P.solution())
    np.testing.assert_allclose(least_squares_gap(wt, P.S, P.u), P.value(wt) - f_star, rtol=1e-10)


def test_random_spd_has_the_requested_spectrum() -> None:
    S = random_spd(7, 40.0, [0, 1, 2])
    mu, L = spectrum_bounds(S)
    np.testing.assert_allclose(L / mu, 40.0, rtol=1e-10)
    np.testing.assert_allclose(S, np.swapaxes(S, -1, -2), atol=1e-15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: random_spd(0, 10.0, [0]), "d must be an integer >= 1"),
        (lambda: random_spd(3, 0.5, [0]), r"kappa must lie in \[1, inf\]"),
        (lambda: random_spd(3, float("nan"), [0]), "kappa must be a finite number"),
        (lambda: random_spd(3, 10.0, [-1]), "seeds must be non-negative"),
        (lambda: OLS([[1.0, 2.0], [0.0, 1.0]], [1.0, 1.0]), "S must be symmetric"),
        (lambda: OLS([[1.0, 0.0], [0.0, -1.0]], [1.0, 1.0]), "S must be positive definite"),
        (lambda: OLS(np.eye(2), [1.0, 1.0, 1.0]), r"u must have shape \(2,\)"),
        (lambda: OLS(np.eye(2), [np.nan, 1.0]), "u contains NaN"),
        (lambda: OLS(np.ones(3), [1.0]), "S must have at least 2 axes"),
        (
            lambda: gd_rayleigh(np.eye(2)[None], np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), 5, np.ones(1)),
            "u\\^T w0 != 0",
        ),
        (
            lambda: gd_rayleigh(np.eye(2)[None], np.ones((1, 2)), np.ones((1, 2)), -1, np.ones(1)),
            "n_steps must be an integer >= 0",
        ),
    ],
)
def test_bad_inputs_give_clear_errors(call, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call()
