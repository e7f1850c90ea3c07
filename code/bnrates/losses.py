"""Scalar losses ``phi: R -> R+`` for the halfspace problem, Eq. (16) (paper Sec. 4, book: thm-gdnp).

Each loss comes with its first and second derivatives. All are numerically stable for large
``|t|``: no ``exp`` of a large positive number is ever formed (only ``exp(-|t|)``, and
``scipy.special.expit`` for the logistic sigmoid), so ``t = +-1e300`` gives finite values and
derivatives that underflow cleanly to zero.

- ``logistic``: ``phi(t) = log(1 + e^t)`` (softplus), ``phi' = expit(t)``,
  ``phi'' = expit(t) expit(-t)``. Convex, ``|phi'| <= 1``, ``0 < phi'' <= 1/4``,
  ``|phi'''| <= 1 / (6 sqrt(3))``.
- ``sigmoid``: ``phi(t) = expit(t)``, ``phi' = expit(t) expit(-t)``,
  ``phi'' = phi' (expit(-t) - expit(t))``. Bounded and non-convex, ``|phi'| <= 1/4``,
  ``|phi''| <= 1 / (6 sqrt(3))``, ``|phi'''| <= 1/8``; on the Gaussian halfspace problem its
  optimal length is infinite (the bracket assumption of Algorithm 1 fails, paper Sec. 4, book: thm-gdnp).
- ``smoothed_hinge``: ``phi(t) = E[max(0, t + xi)] = t Phi(t) + phi_N(t)``, ``xi ~ N(0, 1)``
  (the Perceptron's hinge ``max(0, t)`` smoothed by Gaussian noise; ``Phi``, ``phi_N`` the
  normal CDF and density), ``phi' = Phi(t)``, ``phi'' = phi_N(t)``. Convex, ``|phi'| <= 1``,
  ``0 < phi'' <= 1 / sqrt(2 pi)``, ``|phi'''| = |t| phi_N(t) <= phi_N(1)``; like the logistic
  loss it meets the assumptions of the GDNP theorem (smooth, bounded slope, finite optimal
  length on non-separable Gaussian data), with Gaussian instead of exponential tails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, ndtr

Array = NDArray[np.float64]
ScalarFunction = Callable[[ArrayLike], Array]


@dataclass(frozen=True)
class Loss:
    """A loss ``phi`` with its derivatives, all elementwise on arrays of any shape.

    Attributes
    ----------
    name : str
        ``"logistic"``, ``"sigmoid"`` or ``"smoothed_hinge"``.
    phi, dphi, d2phi : callable
        ``t -> phi(t)``, ``t -> phi'(t)``, ``t -> phi''(t)``, same shape as ``t``.
    derivatives : callable
        ``t -> (phi'(t), phi''(t))`` from one pass over ``t`` (the length search needs both).
    curvature_bound : float
        ``sup_t |phi''(t)|``; ``lambda_max(S) * curvature_bound`` bounds the smoothness
        constant ``zeta`` of ``f(w~) = E[phi(z^T w~)]`` (its Hessian is ``E[phi'' z z^T]``).
    slope_bound : float
        ``Phi = sup_t |phi'(t)|`` of the GDNP theorem (paper Sec. 4, book: thm-gdnp).
    third_derivative_bound : float
        ``sup_t |phi'''(t)|``: with ``E|z^T w|^3`` it bounds the curvature of the length
        derivative (:func:`~bnrates.gdnp.newton_length`).
    """

    name: str
    phi: ScalarFunction
    dphi: ScalarFunction
    d2phi: ScalarFunction
    derivatives: Callable[[ArrayLike], tuple[Array, Array]]
    curvature_bound: float = np.inf
    slope_bound: float = np.inf
    third_derivative_bound: float = np.inf


def softplus(t: ArrayLike) -> Array:
    """``log(1 + e^t) = max(t, 0) + log1p(e^{-|t|})``, stable for large ``|t|``.

    Agrees with ``np.logaddexp(0, t)`` to 1e-15 relative and is about twice as fast (numpy's
    ``exp`` and ``log1p`` loops are vectorised, ``logaddexp`` is not).
    """
    t = np.asarray(t, dtype=np.float64)
    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))


def logistic_d2(t: ArrayLike) -> Array:
    """``expit(t) expit(-t) = e^t / (1 + e^t)^2``, the second derivative of the softplus."""
    return expit(t) * expit(np.negative(t))


def logistic_derivatives(t: ArrayLike) -> tuple[Array, Array]:
    """``(expit(t), expit(t) expit(-t))`` from one ``e = exp(-|t|)``, each of the shape of ``t``.

    With ``r = 1 / (1 + e)``: ``expit(t) = r`` for ``t >= 0`` and ``e r`` otherwise (blended as
    ``e r + [t >= 0] (r - e r)``: ``np.where`` on a mask of random signs is twice as slow), and
    ``expit(t) expit(-t) = e r^2``. Agrees with the ``expit`` forms to 1e-15 relative.
    """
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-np.abs(t))
    r = 1.0 / (1.0 + e)
    er = e * r
    return er + (t >= 0) * (r - er), er * r


def sigmoid_d2(t: ArrayLike) -> Array:
    """Second derivative of ``expit``: ``expit(t) expit(-t) (expit(-t) - expit(t))``."""
    return sigmoid_derivatives(t)[1]


def sigmoid_derivatives(t: ArrayLike) -> tuple[Array, Array]:
    """``(phi'(t), phi''(t))`` of ``phi = expit`` from one pair ``p = expit(t)``, ``q = expit(-t)``."""
    p, q = expit(t), expit(np.negative(t))
    pq = p * q
    return pq, pq * (q - p)


NORMAL_DENSITY_PEAK = 1 / np.sqrt(2 * np.pi)


def normal_density(t: ArrayLike) -> Array:
    """``phi_N(t) = exp(-t^2 / 2) / sqrt(2 pi)``, the second derivative of the smoothed hinge."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(over="ignore"):  # t^2 = inf for |t| > 1e154: the density underflows to 0, as it should
        return NORMAL_DENSITY_PEAK * np.exp(-(t * t) / 2)


def smoothed_hinge(t: ArrayLike) -> Array:
    """``E[max(0, t + xi)] = t Phi(t) + phi_N(t)``, ``xi ~ N(0, 1)``; ``>= max(0, t)``, ``> 0``.

    Formed as ``max(t, 0) + phi_N(t) - |t| Phi(-|t|)``, whose last two terms are both tiny for
    large ``|t|``: the absolute error stays at round-off of ``phi_N(t)``.
    """
    t = np.asarray(t, dtype=np.float64)
    return np.maximum(t, 0.0) + normal_density(t) - np.abs(t) * ndtr(-np.abs(t))


def smoothed_hinge_derivatives(t: ArrayLike) -> tuple[Array, Array]:
    """``(Phi(t), phi_N(t))``, each of the shape of ``t``."""
    return ndtr(t), normal_density(t)


LOSSES: dict[str, Loss] = {
    "logistic": Loss(
        "logistic",
        softplus,
        expit,
        logistic_d2,
        logistic_derivatives,
        curvature_bound=0.25,
        slope_bound=1.0,
        third_derivative_bound=1 / (6 * np.sqrt(3)),
    ),
    "sigmoid": Loss(
        "sigmoid",
        expit,
        logistic_d2,
        sigmoid_d2,
        sigmoid_derivatives,
        curvature_bound=1 / (6 * np.sqrt(3)),
        slope_bound=0.25,
        third_derivative_bound=0.125,
    ),
    "smoothed_hinge": Loss(
        "smoothed_hinge",
        smoothed_hinge,
        ndtr,
        normal_density,
        smoothed_hinge_derivatives,
        curvature_bound=float(NORMAL_DENSITY_PEAK),
        slope_bound=1.0,
        third_derivative_bound=float(NORMAL_DENSITY_PEAK * np.exp(-0.5)),
    ),
}


def get_loss(name: str | Loss = "logistic") -> Loss:
    """The :class:`Loss` called ``name`` (a :class:`Loss` is returned unchanged).

    Raises
    ------
    ValueError
        If ``name`` is not one of the keys of :data:`LOSSES`.
    """
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}; got {name!r}")
    return LOSSES[name]
