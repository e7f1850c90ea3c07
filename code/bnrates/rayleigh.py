"""The generalized Rayleigh quotient of OLS in BN parametrization (paper Sec. 3, book: thm-ols).

Eliminating the length ``g`` from Eq. (11) at its optimum ``g*(w) = -u^T w / ||w||_S`` leaves

    rho(w) = -(u^T w)^2 / (w^T S w),     rho* = min rho = -u^T S^{-1} u   on the ray  w ~ S^{-1} u.

Shapes broadcast: ``w`` and ``u`` are ``(..., d)``, ``S`` is ``(..., d, d)``.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import NDArray

from .reparametrization import inv_norm_sq, matvec, quadratic_form, s_norm

Array = NDArray[np.float64]


def _dot(a: Array, b: Array) -> Array:
    return np.einsum("...i,...i->...", a, b)


def rayleigh(w: Array, S: Array, u: Array) -> Array:
    """``rho(w) = -(u^T w)^2 / ||w||^2_S``, shape ``(...)``."""
    return -(_dot(u, w) ** 2) / quadratic_form(w, S)


def rayleigh_min(S: Array, u: Array) -> Array:
    """``rho* = -u^T S^{-1} u``, shape ``(...)``."""
    return -inv_norm_sq(u, S)


def rayleigh_argmin(S: Array, u: Array) -> Array:
    """A minimiser ``w* = S^{-1} u`` of ``rho`` (any positive or negative multiple also is)."""
    # numpy's stubs type solve's result as floating[Any]; float64 operands give float64
    return cast(Array, np.linalg.solve(S, u[..., None])[..., 0])


def rayleigh_grad(w: Array, S: Array, u: Array) -> Array:
    """``grad rho(w) = -(2 u^T w / ||w||^2_S) (u - (u^T w / ||w||^2_S) S w)``, shape ``(..., d)``."""
    return rayleigh_terms(w, S, u)[2]


def rayleigh_terms(w: Array, S: Array, u: Array) -> tuple[Array, Array, Array]:
    """``||w||^2_S``, ``rho(w)`` and ``grad rho(w)`` from one product ``S w``.

    One gradient step needs all three (the theorem's step size uses the first two); forming
    ``S w`` once instead of once per quantity makes a batched step about three times cheaper.

    Returns
    -------
    norm_sq, rho : ndarray, shape ``(...)``
    grad : ndarray, shape ``(..., d)``
        ``-(2 u^T w / ||w||^2_S) (u - (u^T w / ||w||^2_S) S w)`` (paper Sec. 3, book: thm-ols).
    """
    Sw = matvec(S, w)
    a = _dot(u, w)
    b = _dot(w, Sw)
    ratio = a / b
    return b, -a * ratio, -(2 * ratio)[..., None] * (u - ratio[..., None] * Sw)


def optimal_length(w: Array, S: Array, u: Array) -> Array:
    """The length minimising Eq. (11) for direction ``w``: ``g*(w) = -u^T w / ||w||_S``."""
    return -_dot(u, w) / s_norm(w, S)


def ols_objective_wg(w: Array, g: Array, S: Array, u: Array) -> Array:
    """Eq. (11): ``f(w, g) = 2 g u^T w / ||w||_S + g^2``, shape ``(...)``."""
    return 2 * g * _dot(u, w) / s_norm(w, S) + g**2
