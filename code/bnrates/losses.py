"""Scalar losses ``phi: R -> R+`` for the halfspace problem, Eq. (16) (theory notes, section 3).

Each loss comes with its first and second derivatives. All three are numerically stable for
large ``|t|``: no ``exp`` of a large positive number is ever formed (``np.logaddexp`` for the
softplus, ``scipy.special.expit`` for the logistic sigmoid), so ``t = +-1e300`` gives finite
values and derivatives that underflow cleanly to zero.

- ``logistic``: ``phi(t) = log(1 + e^t)`` (softplus), ``phi' = expit(t)``,
  ``phi'' = expit(t) expit(-t)``. Convex, ``|phi'| <= 1``, ``0 < phi'' <= 1/4``.
- ``sigmoid``: ``phi(t) = expit(t)``, ``phi' = expit(t) expit(-t)``,
  ``phi'' = phi' (expit(-t) - expit(t))``. Bounded and non-convex, ``|phi'| <= 1/4``,
  ``|phi''| <= 1 / (6 sqrt(3))``; on the Gaussian halfspace problem its optimal length is
  infinite (the bracket assumption of Algorithm 1 fails, notes section 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

Array = NDArray[np.float64]
ScalarFunction = Callable[[ArrayLike], Array]


@dataclass(frozen=True)
class Loss:
    """A loss ``phi`` with its derivatives, all elementwise on arrays of any shape.

    Attributes
    ----------
    name : str
        ``"logistic"`` or ``"sigmoid"``.
    phi, dphi, d2phi : callable
        ``t -> phi(t)``, ``t -> phi'(t)``, ``t -> phi''(t)``, same shape as ``t``.
    curvature_bound : float
        ``sup_t |phi''(t)|``; ``lambda_max(S) * curvature_bound`` bounds the smoothness
        constant ``zeta`` of ``f(w~) = E[phi(z^T w~)]`` (its Hessian is ``E[phi'' z z^T]``).
    slope_bound : float
        ``Phi = sup_t |phi'(t)|`` of the GDNP theorem (notes section 3).
    """

    name: str
    phi: ScalarFunction
    dphi: ScalarFunction
    d2phi: ScalarFunction
    curvature_bound: float = np.inf
    slope_bound: float = np.inf


def softplus(t: ArrayLike) -> Array:
    """``log(1 + e^t)``, stable for large ``|t|``."""
    return np.logaddexp(0.0, t)


def logistic_d2(t: ArrayLike) -> Array:
    """``expit(t) expit(-t) = e^t / (1 + e^t)^2``, the second derivative of the softplus."""
    return expit(t) * expit(-t)


def sigmoid_d2(t: ArrayLike) -> Array:
    """Second derivative of ``expit``: ``expit(t) expit(-t) (expit(-t) - expit(t))``."""
    p, q = expit(t), expit(-t)
    return p * q * (q - p)


LOSSES: dict[str, Loss] = {
    "logistic": Loss("logistic", softplus, expit, logistic_d2, curvature_bound=0.25, slope_bound=1.0),
    "sigmoid": Loss(
        "sigmoid", expit, logistic_d2, sigmoid_d2, curvature_bound=1 / (6 * np.sqrt(3)), slope_bound=0.25
    ),
}


def get_loss(name: str | Loss = "logistic") -> Loss:
    """The :class:`Loss` called ``name`` (a :class:`Loss` is returned unchanged).

    Raises
    ------
    ValueError
        If ``name`` is not one of ``'logistic'``, ``'sigmoid'``.
    """
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"loss must be one of 'logistic', 'sigmoid'; got {name!r}")
    return LOSSES[name]
