"""Optimisation algorithms of the paper and their baselines (paper Secs. 3-4).

All of them run a batch of ``B`` independent instances as one numpy computation: iterates have
shape ``(B, d)``, and the returned trajectories ``(T + 1, B, d)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from .rayleigh import rayleigh_terms
from .reparametrization import matvec
from .validation import check_int

Array = NDArray[np.float64]

StepRule = Callable[[Array, Array, Array], Array]
"""``step(norm_sq, rho, L) -> eta``: the step size of GD on ``rho`` from ``||w||^2_S``, ``rho(w)``, ``L``."""


def theorem_step(norm_sq: Array, rho: Array, L: Array) -> Array:
    """The OLS theorem's step ``eta_t = ||w_t||^2_S / (2 L |rho(w_t)|)`` (paper Sec. 3, book: thm-ols)."""
    return norm_sq / (2 * L * np.abs(rho))


def step_without_factor_two(norm_sq: Array, rho: Array, L: Array) -> Array:
    """``||w_t||^2_S / (L |rho(w_t)|)``: twice the theorem's step (the negative control)."""
    return norm_sq / (L * np.abs(rho))


def gd_rayleigh(
    S: Array, u: Array, w0: Array, n_steps: int, L: Array, step: StepRule = theorem_step
) -> Array:
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
