"""The expectations of "Learning halfspaces" by ``scipy.integrate.quad``: the independent side of its checks.

Value, Stein coefficient ``c1`` and length derivative of the logistic loss as one-dimensional
Gaussian integrals, computed with ``math`` and adaptive Gauss-Kronrod, apart from
:mod:`bnrates.losses` and the book's quadrature rules (:mod:`bnrates.halfspace`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from ...halfspace import (
    GaussianHalfspace,
)
from ...reparametrization import quadratic_form

SQRT_2PI = math.sqrt(2 * math.pi)


def _expit(t: float) -> float:
    return 1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t))


def _softplus(t: float) -> float:
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


LOGISTIC_BY_QUAD = {"phi": _softplus, "dphi": _expit, "d2phi": lambda t: _expit(t) * _expit(-t)}
"""The logistic loss and its derivatives as scalar ``math`` functions, apart from :mod:`bnrates.losses`."""


def expectation_by_quad(f, m: float, s: float) -> float:
    """``E[f(m + s xi)]``, ``xi ~ N(0, 1)``, by ``scipy.integrate.quad`` on ``[-14, 14]`` split at the kink ``-m/s``.

    An independent computation of what :func:`~bnrates.halfspace.gaussian_expectations` computes
    (adaptive Gauss-Kronrod instead of the book's trapezoid and Gauss-Legendre rules).
    """
    points = [min(max(-m / s, -13.9), 13.9)] if s > 0 else None
    return integrate.quad(
        lambda x: f(m + s * x) * math.exp(-x * x / 2) / SQRT_2PI,
        -14.0,
        14.0,
        points=points,
        epsabs=1e-14,
        epsrel=1e-13,
        limit=200,
    )[0]


def c1_by_quad(m: float, s: float) -> float:
    """Stein's ``c1 = E[phi'(X)] - E[phi''(X)] m``, ``X ~ N(m, s^2)``, logistic loss, by quad.

    The coefficient of the lemma (label ``lem-halfspace-critical``), computed independently of
    :meth:`~bnrates.halfspace.GaussianHalfspace.stein_coefficients`.
    """
    e1, e2 = (expectation_by_quad(LOGISTIC_BY_QUAD[k], m, s) for k in ("dphi", "d2phi"))
    return e1 - e2 * m


def moments_of(problem: GaussianHalfspace, wt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``u^T w~`` and standard deviation ``||w~||_{S - uu^T}`` of ``z^T w~``, shape ``(...)``."""
    m = np.einsum("...i,...i->...", np.broadcast_to(problem.u, wt.shape), wt)
    cov = np.broadcast_to(problem.cov, (*wt.shape, wt.shape[-1]))
    return m, np.sqrt(np.maximum(quadratic_form(wt, cov), 0.0))


def c1_of(problem: GaussianHalfspace, wt: np.ndarray) -> np.ndarray:
    """:func:`c1_by_quad` at each effective weight ``wt`` (logistic loss), shape ``(...)``."""
    return np.vectorize(c1_by_quad)(*moments_of(problem, wt))


def length_derivative_by_quad(mv: float, sv: float, g: float) -> float:
    """``d_g f(w, g) = E[phi'(X) X] / g``, ``X ~ N(g mv, g^2 sv^2)``, logistic loss, by quad.

    ``mv = u^T w / ||w||_S`` and ``sv^2 = w^T (S - u u^T) w / ||w||^2_S``: an independent computation
    of :meth:`~bnrates.halfspace.GaussianHalfspace.length_derivative`.
    """
    if g == 0:
        return LOGISTIC_BY_QUAD["dphi"](0.0) * mv
    return expectation_by_quad(lambda t: LOGISTIC_BY_QUAD["dphi"](t) * t, g * mv, abs(g) * sv) / g
