"""Input validation shared by the problems, algorithms and the command line.

Every public entry point checks its inputs here *before* any computation, and every error
names the parameter and the allowed range, so a reader who mistypes a value learns what to
change instead of meeting a NaN three cells later.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def check_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking ``minimum <= value <= maximum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    upper = "" if maximum is None else f" and <= {maximum}"
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer >= {minimum}{upper}, got {value}")
    return value


def check_real(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` within ``[minimum, maximum]``.

    With ``strict=True`` the bounds are exclusive.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    lo = "-inf" if minimum is None else f"{minimum:g}"
    hi = "inf" if maximum is None else f"{maximum:g}"
    interval = f"({lo}, {hi})" if strict else f"[{lo}, {hi}]"
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    below = minimum is not None and (value <= minimum if strict else value < minimum)
    above = maximum is not None and (value >= maximum if strict else value > maximum)
    if below or above:
        raise ValueError(f"{name} must lie in {interval}, got {value:g}")
    return value


def check_array(name: str, value: ArrayLike, *, ndim_min: int = 1) -> NDArray[np.float64]:
    """Return ``value`` as a float64 array with at least ``ndim_min`` axes and no NaN/inf."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} axes, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def check_spd(name: str, value: ArrayLike, *, rtol: float = 1e-10) -> NDArray[np.float64]:
    """Check that ``value`` is a (batch of) symmetric positive-definite matrices.

    Parameters
    ----------
    name
        Parameter name used in error messages.
    value
        Array of shape ``(..., d, d)``.
    rtol
        Relative tolerance for the symmetry check, ``|S - S^T| <= rtol * max|S|``.

    Returns
    -------
    ndarray, shape ``(..., d, d)``
        The matrix as float64.
    """
    S = check_array(name, value, ndim_min=2)
    if S.shape[-1] != S.shape[-2] or S.shape[-1] < 1:
        raise ValueError(f"{name} must be square with shape (..., d, d), d >= 1, got {S.shape}")
    scale = np.max(np.abs(S), axis=(-2, -1), keepdims=True)
    if np.any(np.abs(S - np.swapaxes(S, -1, -2)) > rtol * scale):
        raise ValueError(f"{name} must be symmetric (|S - S^T| <= {rtol:g} max|S|)")
    if np.any(np.linalg.eigvalsh(S)[..., 0] <= 0):
        raise ValueError(f"{name} must be positive definite (smallest eigenvalue > 0)")
    return S


def check_vector_for(name: str, value: ArrayLike, S: NDArray[np.float64]) -> NDArray[np.float64]:
    """Check that ``value`` has shape ``S.shape[:-1]``, i.e. one ``d``-vector per matrix."""
    v = check_array(name, value)
    if v.shape != S.shape[:-1]:
        raise ValueError(f"{name} must have shape {S.shape[:-1]} to match S {S.shape}, got {v.shape}")
    return v


def check_seeds(seeds: ArrayLike) -> NDArray[np.int64]:
    """Return ``seeds`` as a non-empty 1-D array of non-negative integers."""
    arr = np.atleast_1d(np.asarray(seeds))
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"seeds must be a non-empty 1-D array of integers, got {seeds!r}")
    if np.any(arr < 0):
        raise ValueError("seeds must be non-negative integers")
    return arr.astype(np.int64)
