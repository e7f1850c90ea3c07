"""Numerical checks shared by the code and the tests: central differences and cosines.

Central differences follow ``scipy.optimize.approx_fprime`` and ``check_grad``, with the
symmetric quotient ``(f(x + h e_k) - f(x - h e_k)) / (2h)`` (error ``O(h^2)``) and vectorised
over leading batch axes: ``f`` maps points of shape ``(..., d)`` to values of shape ``(...)``.
The cosines are absolute values, in the Euclidean or the ``S`` inner product.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .reparametrization import matvec, s_norm

Array = NDArray[np.float64]


def central_gradient(f: Callable[[Array], ArrayLike], x: ArrayLike, h: float) -> Array:
    """Central-difference gradient ``grad_k = (f(x + h e_k) - f(x - h e_k)) / (2h)``, shape ``(..., d)``.

    Parameters
    ----------
    f : callable
        Maps ``(..., d)`` to ``(...)`` (one value per point of the batch).
    x : array, shape ``(..., d)``
    h : float
        The step (``~ eps^{1/3}`` times the scale of ``x`` balances truncation and round-off).
    """
    x = np.asarray(x, dtype=np.float64)
    return np.stack(
        [(np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h) for e in np.eye(x.shape[-1])], axis=-1
    )


def central_jacobian(F: Callable[[Array], ArrayLike], x: ArrayLike, h: float) -> Array:
    """Central-difference Jacobian ``J[i, k] = (F(x + h e_k)_i - F(x - h e_k)_i) / (2h)``, shape ``(m, d)``.

    All ``2 d`` perturbed points go to ``F`` as one batch: ``F`` maps ``(2d, d)`` to ``(2d, m)``.

    Parameters
    ----------
    F : callable
    x : array, shape ``(d,)``
    h : float
    """
    x = np.asarray(x, dtype=np.float64)
    d = x.size
    pert = h * np.eye(d)
    values = np.asarray(F(np.concatenate([x + pert, x - pert])))
    return ((values[:d] - values[d:]) / (2 * h)).T


def directional_derivative(f: Callable[[Array], ArrayLike], x: ArrayLike, v: ArrayLike, h: float) -> Array:
    """Central difference along ``v``: ``(f(x + h v) - f(x - h v)) / (2h)``, shape of ``f``'s values."""
    x, v = np.asarray(x, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


def cosine(a: ArrayLike, b: ArrayLike) -> Array:
    """``|a^T b| / (||a|| ||b||)``: the absolute Euclidean cosine, shape ``(...)`` for ``(..., d)`` inputs."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(np.sum(a * b, axis=-1)) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def s_cosine(a: Array, b: Array, S: Array) -> Array:
    """``|a^T S b| / (||a||_S ||b||_S)``: the cosine in the ``S`` inner product, shape ``(...)``."""
    return np.abs(np.sum(a * matvec(S, b), axis=-1)) / (s_norm(a, S) * s_norm(b, S))
