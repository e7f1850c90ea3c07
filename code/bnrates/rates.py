"""Measuring convergence rates: optimality gaps, per-step ratios, fitted contraction factors.

Gaps are computed from residuals, never as a difference of two objective values: near the
solution ``rho(w) - rho*`` cancels catastrophically (relative error ``eps |rho*| / gap``, about
1e-7 at a gap of 1e-9 |rho*|), which is enough to fake a violation of a bound checked to 1e-9.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import t as student_t

from .rayleigh import rayleigh_argmin
from .reparametrization import quadratic_form
from .validation import check_array, check_int

Array = NDArray[np.float64]


def rayleigh_gap(w: Array, S: Array, u: Array, argmin: Array | None = None) -> Array:
    """``rho(w) - rho* = min_c ||c w - w*||^2_S`` with ``w* = S^{-1} u`` (paper Sec. 3, book: thm-ols).

    The minimising ``c = u^T w / ||w||^2_S``; the residual is formed first, so the gap keeps
    full relative accuracy down to round-off in ``w``.

    Parameters
    ----------
    w : ndarray, shape ``(..., B, d)``
    S : ndarray, shape ``(B, d, d)``
    u : ndarray, shape ``(B, d)``
    argmin : ndarray, shape ``(B, d)``, optional
        ``S^{-1} u`` if already known (:func:`~bnrates.rayleigh.rayleigh_argmin`): a loop over
        iterates then solves once instead of once per call.

    Returns
    -------
    ndarray, shape ``(..., B)``
    """
    c = np.einsum("...i,...i->...", u, w) / quadratic_form(w, S)
    return quadratic_form(c[..., None] * w - (rayleigh_argmin(S, u) if argmin is None else argmin), S)


def least_squares_gap(wt: Array, S: Array, u: Array) -> Array:
    """``f(w~) - f* = ||w~ + S^{-1} u||^2_S`` for Eq. (10), shape ``(..., B)``."""
    return quadratic_form(wt + rayleigh_argmin(S, u), S)


def theory_factor(mu: ArrayLike, L: ArrayLike) -> Array:
    """The OLS theorem's per-step contraction factor ``(1 - mu / L)^2``."""
    return (1 - np.asarray(mu) / np.asarray(L)) ** 2


def contraction_ratios(gaps: Array, floor: Array) -> Array:
    """Per-step ratios ``gap_{t+1} / gap_t``, NaN once ``gap_t <= floor`` (round-off regime).

    Parameters
    ----------
    gaps : ndarray, shape ``(T + 1, B)``
    floor : ndarray, shape ``(B,)`` or scalar

    Returns
    -------
    ndarray, shape ``(T, B)``
    """
    valid = gaps[:-1] > floor
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid, gaps[1:] / np.where(valid, gaps[:-1], 1.0), np.nan)


def fit_contraction(gaps: Array, floor: Array, *, late_fraction: float = 0.5) -> Array:
    """Robust fit of the asymptotic contraction factor of each series.

    The median of the per-step ratios over the last ``late_fraction`` of the steps whose gap
    is still above ``floor``: the median ignores the occasional round-off outlier, and the
    late window measures the asymptotic factor rather than the transient.

    Returns
    -------
    ndarray, shape ``(B,)``
    """
    ratios = contraction_ratios(gaps, floor)
    n_valid = np.sum(np.isfinite(ratios), axis=0)
    start = np.floor(n_valid * (1 - late_fraction)).astype(int)
    t = np.arange(ratios.shape[0])[:, None]
    window = (t >= start) & (t < n_valid)
    return np.nanmedian(np.where(window, ratios, np.nan), axis=0)


def steps_to_reduce(gaps: Array, factor: float) -> Array:
    """First ``t`` with ``gap_t <= factor * gap_0``, per series (``-1`` if never), shape ``(B,)``."""
    reached = gaps <= factor * gaps[0]
    return np.where(reached.any(axis=0), reached.argmax(axis=0), -1)


def tidy_history(values: Mapping[str, Array], labels: Mapping[str, ArrayLike] | None = None) -> pd.DataFrame:
    """A long table of iteration histories that seaborn plots directly.

    Parameters
    ----------
    values : dict of ndarray, each of shape ``(T + 1, B)``
        Named series, e.g. ``{"gap": ...}``.
    labels : dict of array-like, each of shape ``(B,)``, optional
        Per-instance labels, e.g. ``{"kappa": ..., "seed": ...}``.

    Returns
    -------
    DataFrame
        One row per (iteration, instance): ``iteration``, ``instance``, the labels, the values.
    """
    first = next(iter(values.values()))
    n_t, n_b = first.shape
    frame: dict[str, np.ndarray] = {
        "iteration": np.repeat(np.arange(n_t), n_b),
        "instance": np.tile(np.arange(n_b), n_t),
    }
    for name, lab in (labels or {}).items():
        frame[name] = np.tile(np.asarray(lab), n_t)
    for name, val in values.items():
        frame[name] = np.asarray(val).reshape(-1)
    return pd.DataFrame(frame)


@dataclass(frozen=True)
class RateFit:
    """Least-squares fit of ``log ||grad f||^2`` against the iteration, per run.

    Attributes
    ----------
    factors : ndarray, shape ``(B,)``
        Fitted per-iteration contraction factor of ``||grad f||^2`` of each run.
    mean, low, high : float
        Mean factor over the runs and its two-sided 95 % confidence interval (Student ``t``,
        ``B - 1`` degrees of freedom, computed on the log scale).
    """

    factors: Array
    mean: float
    low: float
    high: float


def fit_linear_rate(grad_norm_sq: ArrayLike, start: int, stop: int) -> RateFit:
    """Fit ``log ||grad f_t||^2 = a + t log q`` on ``t in [start, stop)`` for each run.

    Parameters
    ----------
    grad_norm_sq : array, shape ``(T + 1, B)``, ``B >= 2``
    start, stop : int
        Window, ``0 <= start < stop - 1``, ``stop <= T + 1``.
    """
    g = check_array("grad_norm_sq", grad_norm_sq, ndim_min=2)
    start = check_int("start", start, minimum=0)
    stop = check_int("stop", stop, minimum=start + 2, maximum=g.shape[0])
    if g.shape[1] < 2:
        raise ValueError(f"grad_norm_sq needs at least 2 runs (columns) for a confidence interval, got {g.shape[1]}")
    t = np.arange(start, stop)
    slopes = np.polyfit(t, np.log(g[start:stop]), 1)[0]
    mean, sem = slopes.mean(), slopes.std(ddof=1) / np.sqrt(slopes.size)
    half = student_t.ppf(0.975, slopes.size - 1) * sem
    return RateFit(np.exp(slopes), float(np.exp(mean)), float(np.exp(mean - half)), float(np.exp(mean + half)))
