"""Optimisation algorithms of the paper and their baselines (paper Secs. 3-4).

All of them run a batch of ``B`` independent instances as one numpy computation: iterates have
shape ``(B, d)``, and the returned trajectories ``(T + 1, B, d)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .rayleigh import rayleigh_terms
from .reparametrization import inv_norm_sq, matvec, quadratic_form
from .validation import check_array, check_int, check_real

Array = NDArray[np.float64]

StepRule = Callable[[Array, Array, Array], Array]
"""``step(norm_sq, rho, L) -> eta``: the step size of GD on ``rho`` from ``||w||^2_S``, ``rho(w)``, ``L``."""


def theorem_step(norm_sq: Array, rho: Array, L: Array) -> Array:
    """The OLS theorem's step ``eta_t = ||w_t||^2_S / (2 L |rho(w_t)|)`` (paper Sec. 3, book: thm-ols)."""
    return norm_sq / (2 * L * np.abs(rho))


def step_without_factor_two(norm_sq: Array, rho: Array, L: Array) -> Array:
    """``||w_t||^2_S / (L |rho(w_t)|)``: twice the theorem's step (the negative control)."""
    return norm_sq / (L * np.abs(rho))


def gd_rayleigh(S: Array, u: Array, w0: Array, n_steps: int, L: Array, step: StepRule = theorem_step) -> Array:
    """Gradient descent on the Rayleigh quotient, ``w_{t+1} = w_t - eta_t grad rho(w_t)``.

    This is BN gradient descent on OLS once the length is at its optimum (paper Sec. 3, book: thm-ols).

    Parameters
    ----------
    S : ndarray, shape ``(B, d, d)``
    u : ndarray, shape ``(B, d)``
    w0 : ndarray, shape ``(B, d)``
        Start; needs ``u^T w0 != 0``.
    n_steps : int
    L : ndarray, shape ``(B,)``
        Largest eigenvalue of each ``S``.
    step : StepRule
        :func:`theorem_step` (default) or another rule.

    Returns
    -------
    ndarray, shape ``(n_steps + 1, B, d)``
        The iterates ``w_0, ..., w_T``.
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    if np.any(np.einsum("...i,...i->...", u, w0) == 0):
        raise ValueError("w0 must satisfy u^T w0 != 0 (rho is flat at zero there)")
    ws = np.empty((n_steps + 1, *w0.shape))
    ws[0] = w0
    for t in range(n_steps):
        norm_sq, rho, grad = rayleigh_terms(ws[t], S, u)
        ws[t + 1] = ws[t] - step(norm_sq, rho, L)[..., None] * grad
    return ws


def gd_least_squares(S: Array, u: Array, wt0: Array, n_steps: int, L: Array) -> Array:
    """Plain GD on Eq. (10), ``w~_{t+1} = w~_t - (1 / 2L)(2u + 2 S w~_t)``.

    The step ``1 / (2L)`` is ``1 / smoothness`` of Eq. (10), whose Hessian is ``2S``.

    Returns
    -------
    ndarray, shape ``(n_steps + 1, B, d)``
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    ws = np.empty((n_steps + 1, *wt0.shape))
    ws[0] = wt0
    for t in range(n_steps):
        grad = 2 * u + 2 * matvec(S, ws[t])
        ws[t + 1] = ws[t] - grad / (2 * L[..., None])
    return ws


@dataclass(frozen=True)
class BNGDHistory:
    """Trajectory of :func:`bngd_ols`; index ``t = 0 .. T`` first.

    Attributes
    ----------
    gap : ndarray, shape ``(T + 1, B)``
        Relative suboptimality ``(f(w_t, g_t) - f*) / |f*| = ||w~_t + S^{-1}u||^2_S / (u^T S^{-1} u)``.
    w_norm_sq : ndarray, shape ``(T + 1, B)``
        ``||w_t||^2`` (Euclidean).
    effective_step : ndarray, shape ``(T + 1, B)``
        ``lr_w / ||w_t||^2_S``: the step the direction actually takes (auto rate-tuning).
    """

    gap: Array
    w_norm_sq: Array
    effective_step: Array


def bngd_ols(S: Array, u: Array, w0: Array, g0: Array, n_steps: int, lr_w: ArrayLike, lr_g: float) -> BNGDHistory:
    """Vanilla BN gradient descent on Eq. (11), ``f(w, g) = 2 g u^T w / ||w||_S + g^2``.

    Simultaneous GD with fixed learning rates:
    ``w_{t+1} = w_t - lr_w grad_w f``, ``g_{t+1} = g_t - lr_g d_g f`` with
    ``grad_w f = (2 g / ||w||_S) (u - (u^T w / ||w||_S^2) S w)`` and
    ``d_g f = 2 u^T w / ||w||_S + 2 g`` (paper Sec. 3, book: rem-ex-cai).

    Parameters
    ----------
    S : ndarray, shape ``(B, d, d)``
    u, w0 : ndarray, shape ``(B, d)``
    g0 : ndarray, shape ``(B,)``
    n_steps : int
    lr_w : float or ndarray of shape ``(B,)``
        Any positive value (Cai et al.: convergence for every ``lr_w``).
    lr_g : float
        In ``(0, 1)`` for the length iteration ``g <- g - lr_g (2 g + 2 a)`` to contract; outside
        it the length oscillates with growing amplitude (the negative control uses ``1.05``).
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    lr_g = check_real("lr_g", lr_g, minimum=0.0, strict=True)
    lr_w_arr = np.broadcast_to(check_array("lr_w", lr_w, ndim_min=0), g0.shape)
    if np.any(lr_w_arr <= 0):
        raise ValueError("lr_w must be positive")
    f_star_abs = inv_norm_sq(u, S)  # |f*| = u^T S^-1 u
    sol = np.linalg.solve(S, u[..., None])[..., 0]
    w, g = w0.copy(), g0.copy()
    gaps, norms, steps = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps + 1):
            nsq = quadratic_form(w, S)
            norm = np.sqrt(nsq)
            wt = (g / norm)[:, None] * w
            gaps.append(quadratic_form(wt + sol, S) / f_star_abs)
            norms.append(np.sum(w * w, axis=-1))
            steps.append(lr_w_arr / nsq)
            if t == n_steps:
                break
            a = np.sum(u * w, axis=-1)
            grad_w = (2 * g / norm)[:, None] * (u - (a / nsq)[:, None] * matvec(S, w))
            grad_g = 2 * a / norm + 2 * g
            w = w - lr_w_arr[:, None] * grad_w
            g = g - lr_g * grad_g
    return BNGDHistory(np.stack(gaps), np.stack(norms), np.stack(steps))
