"""Claims of the sections "The problem" and "Global structure" (book: ass-halfspace, lem-halfspace-critical).

The quadrature of the objective and the Stein form of its gradient, the critical points BFGS finds
(on the line ``S^{-1} u``, the closed form of rem-logistic-closed-form), the non-Gaussian negative
control of the assumption, and the landscape of the figure fig-hs-landscape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import norm

from ...gdnp import gd, gdnp
from ...halfspace import (
    HALF_WIDTH,
    RESOLUTION,
    GaussianHalfspace,
    MixtureHalfspace,
    halfspace_instances,
    halfspace_smoothness,
    logistic_minimizer,
    monte_carlo_grad,
)
from ...numerics import central_gradient, cosine
from ...problems import random_spd
from ...rayleigh import rayleigh_argmin
from ...reparametrization import matvec, s_norm
from ..core import Claim, Evidence, chapter_claims_factory, injected
from .quad import LOGISTIC_BY_QUAD, c1_by_quad, expectation_by_quad, moments_of
from .setting import CHAPTER, FD, KAPPA, SIZES, instance_batch, stein_sabotages


def _fd_grad(problem: GaussianHalfspace, wt: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences of ``problem.value``, batched over instances, shape ``(B, d)``."""
    return central_gradient(problem.value, wt, h)


def _probe_points(profile: str, seed: int, length: float = 2.0) -> tuple[GaussianHalfspace, np.ndarray]:
    """Every instance of the sweep (4097 trapezoid nodes) and a random ``w~`` of ``||w~||_S = length`` for each."""
    problem, _ = instance_batch(profile, seed, SIZES[profile]["separabilities"], (KAPPA,), n_nodes=4097)
    wt = np.random.default_rng([seed, 32]).standard_normal(problem.u.shape)
    return problem, wt * length / s_norm(wt, problem.S)[:, None]


QUADRATURE_LENGTHS = (0.5, 2.0, 400.0)
"""``||w~||_S`` of the probes of :func:`quadrature_accuracy`: the first two on the trapezoid rule, the
last on the kink rule (there ``s >= 400 sqrt(1 - 0.9) > 0.45 / h = 65.8``, :data:`~bnrates.halfspace.RESOLUTION`)."""


def _scaled_weights(rule: tuple[np.ndarray, np.ndarray], factor: float) -> tuple[np.ndarray, np.ndarray]:
    """A quadrature rule's nodes with its weights times ``factor`` (a wrong rule)."""
    return rule[0], factor * rule[1]


def quadrature_accuracy(profile: str, seed: int) -> Evidence:
    """Value and gradient against ``scipy.integrate.quad`` (relative error, logistic loss), both rules.

    ``f = E[phi(z^T w~)]`` and ``grad f = c1 u + c2 S w~`` with the expectations by
    :func:`expectation_by_quad`, independent of the book's quadrature rules, at the lengths
    :data:`QUADRATURE_LENGTHS`. ``extra``: the largest error on each rule and the share of probes
    on the kink rule (:func:`~bnrates.halfspace.kink_rule`).

    Book: lem-halfspace-critical.
    """
    errors, kink = [], []
    for length in QUADRATURE_LENGTHS:
        problem, wt = _probe_points(profile, seed, length)
        m, s = (x.ravel() for x in moments_of(problem, wt))
        value = np.array([expectation_by_quad(LOGISTIC_BY_QUAD["phi"], mi, si) for mi, si in zip(m, s, strict=True)])
        c2 = np.array([expectation_by_quad(LOGISTIC_BY_QUAD["d2phi"], mi, si) for mi, si in zip(m, s, strict=True)])
        c1 = np.vectorize(c1_by_quad)(m, s)
        grad = c1[:, None] * problem.u + c2[:, None] * matvec(problem.S, wt)
        err_v = np.abs(problem.value(wt) - value) / np.abs(value)
        err_g = np.linalg.norm(problem.grad(wt) - grad, axis=-1) / np.linalg.norm(grad, axis=-1)
        errors.append(np.maximum(err_v, err_g))
        kink.append(s * HALF_WIDTH * 2 / (problem.n_nodes - 1) > RESOLUTION)
    err, on_kink = np.concatenate(errors), np.concatenate(kink)
    return Evidence(
        observed=float(err.max()),
        theory=0.0,
        extra={
            "trapezoid_error": float(err[~on_kink].max()),
            "kink_error": float(err[on_kink].max()),
            "kink_share": float(on_kink.mean()),
        },
    )


def gradient_quadrature(profile: str, seed: int) -> Evidence:
    """The Stein-form gradient against central finite differences of the value (book: lem-halfspace-critical)."""
    problem, wt = _probe_points(profile, seed)
    grad = problem.grad(wt)
    err = np.linalg.norm(grad - _fd_grad(problem, wt), axis=-1) / np.linalg.norm(grad, axis=-1)
    return Evidence(observed=float(err.max()), theory=1e-7)


def gradient_monte_carlo(profile: str, seed: int) -> Evidence:
    """The quadrature gradient against a Monte-Carlo mean: the largest ``|z|``-score.

    The theory value is the two-sided Bonferroni critical value at level 0.1 % for all the
    ``z``-scores (instances times coordinates): exceeding it by chance has probability < 0.001.

    Book: lem-halfspace-critical.
    """
    problem, wt = _probe_points(profile, seed)
    keep = slice(0, 6)
    problem = GaussianHalfspace(problem.S[keep], problem.u[keep])
    mean, stderr = monte_carlo_grad(problem, wt[keep], SIZES[profile]["n_mc"], seed)
    z = np.abs(mean - problem.grad(wt[keep])) / stderr
    critical = float(norm.isf(0.001 / (2 * z.size)))
    return Evidence(
        observed=float(z.max()),
        theory=None,
        pass_mark=critical,
        extra={"n_samples": float(SIZES[profile]["n_mc"]), "n_scores": float(z.size)},
    )


def _bfgs_minimisers(problem, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``problem`` (one instance) from each start with BFGS; minimisers and gradient norms."""
    xs, norms = [], []
    for x0 in starts:
        res = minimize(
            lambda x: float(problem.value(x)),
            x0,
            jac=problem.grad,
            method="BFGS",
            options={"gtol": 1e-11, "maxiter": 2000},
        )
        xs.append(res.x)
        norms.append(np.linalg.norm(problem.grad(res.x)))
    return np.array(xs), np.array(norms)


@dataclass(frozen=True)
class CriticalPoints:
    """BFGS endpoints from three random starts on every instance of the sweep (one row per start)."""

    cosines: np.ndarray
    """``|cos(w~, S^-1 u)|``, Euclidean."""
    distances: np.ndarray
    """``||w~ - w~*|| / ||w~*||`` to the closed form :func:`~bnrates.halfspace.logistic_minimizer`."""
    grad_norms: np.ndarray
    """``||grad f(w~)||``, Euclidean, at the endpoint."""


@lru_cache(maxsize=4)
def critical_points(profile: str, seed: int) -> CriticalPoints:
    """BFGS from random starts on every instance (book: lem-halfspace-critical, rem-logistic-closed-form)."""
    size = SIZES[profile]
    batch, labels = instance_batch(profile, seed, size["separabilities"], (KAPPA,), n_nodes=4097)
    starts = np.random.default_rng([seed, 33]).standard_normal((3, size["d"]))
    cosines, dist, norms = [], [], []
    for b in range(len(labels)):
        problem = GaussianHalfspace(batch.S[b], batch.u[b])
        xs, gn = _bfgs_minimisers(problem, starts)
        cosines.append(cosine(xs, rayleigh_argmin(problem.S, problem.u)))
        closed = logistic_minimizer(problem.S, problem.u)
        dist.append(np.linalg.norm(xs - closed, axis=-1) / np.linalg.norm(closed))
        norms.append(gn)
    return CriticalPoints(np.concatenate(cosines), np.concatenate(dist), np.concatenate(norms))


def critical_points_aligned(profile: str, seed: int) -> Evidence:
    """Every critical point BFGS finds lies on the line ``S^{-1} u``: the smallest ``|cos|``.

    Book: lem-halfspace-critical.
    """
    points = critical_points(profile, seed)
    return Evidence(
        observed=float(np.min(points.cosines)),
        theory=1.0,
        extra={"one_minus_cos": float(1 - np.min(points.cosines))},
    )


def critical_points_stationary(profile: str, seed: int) -> Evidence:
    """The points of :func:`critical_points_aligned` are critical: the largest ``||grad f||``.

    Book: lem-halfspace-critical.
    """
    return Evidence(observed=float(np.max(critical_points(profile, seed).grad_norms)), theory=0.0)


def critical_points_closed_form(profile: str, seed: int) -> Evidence:
    """The points of :func:`critical_points_aligned` are the closed-form minimiser: the largest relative distance.

    Book: rem-logistic-closed-form.
    """
    return Evidence(observed=float(np.max(critical_points(profile, seed).distances)), theory=0.0)


def _offset_minimisers(f: Callable[..., Any]) -> Callable[..., Any]:
    """``_bfgs_minimisers`` returning points moved by ``1e-4`` in every coordinate, with their true gradient norms."""

    def wrong(problem, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs = f(problem, starts)[0] + 1e-4
        return xs, np.linalg.norm(problem.grad(xs), axis=-1)

    return wrong


def mixture_problem(seed: int, spreads: tuple[float, float]) -> MixtureHalfspace:
    """A non-Gaussian (two-component) instance in ``d = 4`` with ``u^T S^{-1} u`` about 0.5."""
    rng = np.random.default_rng([seed, 34])
    C = random_spd(4, 5.0, [seed])[0]
    u = rng.standard_normal(4)
    delta = rng.standard_normal(4)
    u *= 0.5 / np.linalg.norm(u)
    delta *= 0.5 / np.linalg.norm(delta)
    return MixtureHalfspace(0.4 * C, u, delta, spreads)


def non_gaussian_negative_control(profile: str, seed: int) -> Evidence:
    """For a heteroscedastic Gaussian mixture the minimiser is *not* aligned with ``S^{-1} u`` (book: ass-halfspace)."""
    starts = np.random.default_rng([seed, 35]).standard_normal((2, 4))
    problem = mixture_problem(seed, (0.25, 1.5))
    xs, gn = _bfgs_minimisers(problem, starts)
    symmetric = mixture_problem(seed, (1.0, 1.0))
    xs_sym, _ = _bfgs_minimisers(symmetric, starts[:1])
    cos = float(cosine(xs, rayleigh_argmin(problem.S, problem.u)).min())
    return Evidence(
        observed=cos,
        theory=1.0,
        extra={
            "max_grad_norm": float(gn.max()),
            "one_minus_cos": 1 - cos,
            "equal_spread_deviation": float(1 - cosine(xs_sym, rayleigh_argmin(symmetric.S, symmetric.u))[0]),
        },
    )


@dataclass(frozen=True)
class Landscape:
    """The logistic objective of one ``d = 2`` instance on a grid, with GD and GDNP paths."""

    grid: pd.DataFrame
    line: np.ndarray
    minimiser: np.ndarray
    paths: pd.DataFrame


def landscape(seed: int, n_grid: int = 121) -> Landscape:
    """``f(w~)`` on a square grid around the minimiser, the line ``S^{-1} u`` and two paths.

    Returns
    -------
    Landscape
        ``grid`` has columns ``w1, w2, f``; ``line`` is the unit vector along ``S^{-1} u``;
        ``paths`` has columns ``method, iteration, w1, w2`` (effective weights ``w~_t``).
    """
    problem = halfspace_instances(2, 8.0, 0.6, [seed])
    single = GaussianHalfspace(problem.S[0], problem.u[0])
    star = logistic_minimizer(single.S, single.u)
    half = 1.6 * np.linalg.norm(star)
    axis = np.linspace(-half, half, n_grid)
    w1, w2 = np.meshgrid(axis, axis)
    points = np.stack([w1.ravel(), w2.ravel()], axis=-1)
    grid = pd.DataFrame({"w1": points[:, 0], "w2": points[:, 1], "f": single.value(points)})
    line = rayleigh_argmin(single.S, single.u)
    start = np.array([[0.2 * half, -0.8 * half]])
    step = 1 / halfspace_smoothness(problem)
    paths = {
        "GD": gd(problem, start, 150, step).wt[:, 0],
        "GDNP": gdnp(problem, start, 8, 30).wt[:, 0],
    }
    rows = [
        pd.DataFrame({"method": name, "iteration": np.arange(len(p)), "w1": p[:, 0], "w2": p[:, 1]})
        for name, p in paths.items()
    ]
    return Landscape(grid, line / np.linalg.norm(line), star, pd.concat(rows, ignore_index=True))


_claim = chapter_claims_factory(CHAPTER)
HERE = __name__

CLAIMS: tuple[Claim, ...] = (
    _claim(
        "quadrature_accuracy",
        "The quadrature of value and gradient agrees with scipy's adaptive quad to {pass_mark:.0e} (relative), "
        "on the trapezoid rule (||w~||_S = 0.5, 2) and on the kink rule (||w~||_S = 400).",
        "<=",
        0.0,
        quadrature_accuracy,
        label="lem-halfspace-critical",
        pass_mark=1e-10,
        reason="both rules are accurate to ~1e-13; float64 round-off of a 1-D sum is ~1e-15",
        sabotages={
            "trapezoid rule truncated to [-4, 4]": injected(
                quadrature_accuracy, "bnrates.halfspace:trapezoid_rule", lambda f: lambda n, half_width=14.0: f(n, 4.0)
            ),
            "kink-rule weights off by 1 %": injected(
                quadrature_accuracy,
                "bnrates.halfspace:kink_rule",
                lambda f: lambda m, s: _scaled_weights(f(m, s), 1.01),
            ),
            **stein_sabotages(quadrature_accuracy),
        },
    ),
    _claim(
        "gradient_quadrature",
        "The Stein-form gradient matches finite differences to {pass_mark:.0e}.",
        "<=",
        0.0,
        gradient_quadrature,
        label="lem-halfspace-critical",
        pass_mark=1e-7,
        reason=FD,
        sabotages=stein_sabotages(gradient_quadrature),
    ),
    _claim(
        "gradient_monte_carlo",
        "The gradient agrees with a Monte-Carlo mean (max |z| below the 0.1% Bonferroni critical value).",
        "<=",
        0.0,
        gradient_monte_carlo,
        label="lem-halfspace-critical",
        reason="a statistical test: the critical value bounds the chance of a false alarm by 0.1%",
        sabotages=stein_sabotages(gradient_monte_carlo),
    ),
    _claim(
        "critical_points_aligned",
        "Every critical point lies on the line S^-1 u (|cos| >= 1 - {tolerance:.0e}).",
        "≈",
        1e-8,
        critical_points_aligned,
        source="S",
        label="lem-halfspace-critical",
        reason="BFGS stops at gradient norm ~1e-11, which leaves the direction accurate to ~1e-9",
        sabotages={
            "the line u in place of S^-1 u": injected(
                critical_points_aligned, f"{HERE}:rayleigh_argmin", lambda f: lambda S, u: u
            )
        },
    ),
    _claim(
        "critical_points_stationary",
        "The BFGS endpoints are critical points: ||grad f|| <= {pass_mark:.0e}.",
        "<=",
        0.0,
        critical_points_stationary,
        label="lem-halfspace-critical",
        pass_mark=1e-7,
        reason="BFGS (gtol 1e-11) stops where float64 no longer resolves a decrease of f (~1e-16 relative), "
        "at gradient norms ~1e-8; an endpoint 1e-4 off the minimiser has a gradient norm ~1e-5",
        sabotages={
            "endpoints offset by 1e-4": injected(
                critical_points_stationary, f"{HERE}:_bfgs_minimisers", _offset_minimisers
            )
        },
    ),
    _claim(
        "critical_points_closed_form",
        "The BFGS endpoints are the closed-form minimiser -2 S^-1 u / (1 - u^T S^-1 u) to {pass_mark:.0e} (relative).",
        "<=",
        0.0,
        critical_points_closed_form,
        label="rem-logistic-closed-form",
        pass_mark=1e-5,
        reason="the distance to the minimiser is at most ||grad f|| over the Hessian's smallest eigenvalue: "
        "~1e-8 / 1e-2 relative to ||w~*|| ~ 1 gives ~1e-6",
        sabotages={
            "endpoints offset by 1e-4": injected(
                critical_points_closed_form, f"{HERE}:_bfgs_minimisers", _offset_minimisers
            ),
            "closed form without the factor 2": injected(
                critical_points_closed_form, f"{HERE}:logistic_minimizer", lambda f: lambda S, u: f(S, u) / 2
            ),
        },
    ),
    _claim(
        "non_gaussian_negative_control",
        "For non-Gaussian inputs (a Gaussian mixture) the minimiser is not aligned with S^-1 u.",
        "≈",
        1e-8,
        non_gaussian_negative_control,
        negative_control=True,
        label="ass-halfspace",
        reason="as for critical_points_aligned",
        sabotages={
            "mixture whose spreads are ignored (equal)": injected(
                non_gaussian_negative_control,
                f"{HERE}:MixtureHalfspace",
                lambda f: lambda C, u, delta, spreads: f(C, u, delta, (1.0, 1.0)),
            )
        },
    ),
)
