"""Real, non-Gaussian binary classification data, loaded offline (paper Sec. 6).

Both datasets ship inside scikit-learn (``sklearn.datasets.load_breast_cancer`` and
``load_digits`` read CSV files bundled with the package); nothing is downloaded. Labels are
mapped to ``{-1, +1}`` as the halfspace problem (paper Sec. 4, book: thm-gdnp) expects. Centring and scaling
are *separate, explicit* steps (:func:`standardize`): the paper assumes ``E[x] = 0``, and the
chapter shows the step rather than hiding it in the loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .problems import halfspace_moments, sample_halfspace
from .validation import check_array, check_int

Array = NDArray[np.float64]

BREAST_CANCER_MEAN_FEATURES = (0, 1, 4, 5, 6, 7, 8, 9)
"""The "mean" measurements of each nucleus except perimeter and area (columns 2, 3), which are
near-deterministic functions of the radius and make ``S`` ill-conditioned (``kappa`` 2e4 -> 135)."""


class DatasetError(RuntimeError):
    """A bundled dataset could not be loaded; the message names the dataset and the reason."""


@dataclass(frozen=True)
class BinaryDataset:
    """A binary classification dataset.

    Attributes
    ----------
    name : str
    X : ndarray, shape ``(n, d)``
        Raw inputs (not centred).
    y : ndarray, shape ``(n,)``
        Labels in ``{-1, +1}``.
    feature_names : tuple of str, length ``d``
    positive : str
        What the label ``+1`` means.
    """

    name: str
    X: Array
    y: Array
    feature_names: tuple[str, ...]
    positive: str

    @property
    def n(self) -> int:
        """Number of examples."""
        return self.X.shape[0]

    @property
    def d(self) -> int:
        """Number of features."""
        return self.X.shape[1]


@dataclass(frozen=True)
class Standardizer:
    """Centring and scaling statistics: ``x -> (x - mean) / scale``.

    Attributes
    ----------
    mean : ndarray, shape ``(d,)``
    scale : ndarray, shape ``(d,)``
        Positive; the standard deviation of each kept feature.
    kept : ndarray of bool, shape ``(d_raw,)``
        Features with a non-zero spread (constant features carry no information and would make
        ``S`` singular; they are dropped).
    """

    mean: Array
    scale: Array
    kept: NDArray[np.bool_]

    def transform(self, X: ArrayLike) -> Array:
        """``(X[:, kept] - mean) / scale``, shape ``(n, d)``."""
        X_arr = check_array("X", X, ndim_min=2)
        if X_arr.ndim != 2 or X_arr.shape[1] != self.kept.size:
            raise ValueError(f"X must have shape (n, {self.kept.size}), got {X_arr.shape}")
        return (X_arr[:, self.kept] - self.mean) / self.scale


def fit_standardizer(X: ArrayLike, *, rtol: float = 1e-12) -> Standardizer:
    """Statistics for :func:`standardize`: column means and standard deviations of ``X``.

    Parameters
    ----------
    X : array, shape ``(n, d_raw)``, ``n >= 2``
    rtol : float
        Columns whose standard deviation is at most ``rtol`` times the largest are dropped.
    """
    X_arr = check_array("X", X, ndim_min=2)
    if X_arr.ndim != 2 or X_arr.shape[0] < 2:
        raise ValueError(f"X must have shape (n, d) with n >= 2, got {X_arr.shape}")
    std = X_arr.std(axis=0)
    kept = std > rtol * std.max()
    if not kept.any():
        raise ValueError("X has no feature with a non-zero spread")
    return Standardizer(X_arr[:, kept].mean(axis=0), std[kept], kept)


def standardize(X: ArrayLike) -> tuple[Array, Standardizer]:
    """Centre every feature to mean zero and scale it to unit variance (constant ones dropped).

    After this step the empirical ``E[x] = 0`` (the paper's assumption, book: prop-bn-reparam) and the
    diagonal of ``E[x x^T]`` is one.

    Returns
    -------
    X_std : ndarray, shape ``(n, d)``
    stats : Standardizer
    """
    stats = fit_standardizer(X)
    return stats.transform(X), stats


def _load(name: str, loader: Callable[[], object]) -> object:
    try:
        return loader()
    except ImportError as err:
        raise DatasetError(
            f"dataset {name!r} could not be loaded: scikit-learn is not installed ({err}); "
            "install it with `pip install scikit-learn` (the data ship with the package)"
        ) from err
    except (OSError, ValueError) as err:
        raise DatasetError(
            f"dataset {name!r} could not be loaded: the file bundled with scikit-learn is missing or "
            f"unreadable ({type(err).__name__}: {err}); reinstall scikit-learn"
        ) from err


def _sklearn_loader(function: str) -> Callable[[], object]:
    def load() -> object:
        from sklearn import datasets

        return getattr(datasets, function)()

    return load


def _check_shapes(name: str, X: Array, y: Array, n: int, d: int) -> None:
    if X.shape != (n, d) or y.shape != (n,):
        raise DatasetError(
            f"dataset {name!r} has unexpected shapes X {X.shape}, y {y.shape} (expected ({n}, {d}) and ({n},)); "
            "the bundled file may be corrupted"
        )


def load_breast_cancer(
    features: tuple[int, ...] | None = BREAST_CANCER_MEAN_FEATURES,
    loader: Callable[[], object] | None = None,
) -> BinaryDataset:
    """The Wisconsin diagnostic breast-cancer data (569 tumours, 30 features), offline.

    ``y = +1`` for benign, ``-1`` for malignant (scikit-learn's target 1 and 0).

    Parameters
    ----------
    features : tuple of int, optional
        Column indices to keep (each in ``[0, 29]``); ``None`` keeps all 30. The default keeps the
        eight "mean" features other than perimeter and area (:data:`BREAST_CANCER_MEAN_FEATURES`):
        with all 30 the classes are nearly separable and the logistic optimum is far out
        (``||w~*|| ~ 400``).
    loader : callable, optional
        Replaces ``sklearn.datasets.load_breast_cancer`` (for tests of the error path).

    Raises
    ------
    DatasetError
        If scikit-learn or its bundled file is unavailable, or the file has unexpected shape.
    """
    name = "breast_cancer"
    bunch = _load(name, loader or _sklearn_loader("load_breast_cancer"))
    X = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target)
    _check_shapes(name, X, target, 569, 30)
    cols = (
        list(range(30)) if features is None else [check_int("features[k]", f, minimum=0, maximum=29) for f in features]
    )
    if not cols:
        raise ValueError("features must select at least one column in [0, 29]")
    names = tuple(str(bunch.feature_names[c]) for c in cols)
    return BinaryDataset(name, X[:, cols], np.where(target == 1, 1.0, -1.0), names, "benign")


def load_digits_binary(
    positive: tuple[int, ...] = (0, 2, 4, 6, 8),
    loader: Callable[[], object] | None = None,
) -> BinaryDataset:
    """The 8x8 handwritten digits (1797 images, 64 pixels in ``0..16``) as a binary task, offline.

    ``y = +1`` if the digit is in ``positive`` (default: even digits), else ``-1``.

    Parameters
    ----------
    positive : tuple of int
        Non-empty proper subset of ``0..9``.
    loader : callable, optional
        Replaces ``sklearn.datasets.load_digits`` (for tests of the error path).

    Raises
    ------
    DatasetError
        If scikit-learn or its bundled file is unavailable, or the file has unexpected shape.
    """
    digits = sorted({check_int("positive[k]", p, minimum=0, maximum=9) for p in positive})
    if not 0 < len(digits) < 10:
        raise ValueError(f"positive must be a non-empty proper subset of 0..9, got {positive!r}")
    name = "digits"
    bunch = _load(name, loader or _sklearn_loader("load_digits"))
    X = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target)
    _check_shapes(name, X, target, 1797, 64)
    names = tuple(f"pixel_{i // 8}_{i % 8}" for i in range(64))
    label = "digit in {" + ", ".join(map(str, digits)) + "}"
    return BinaryDataset(name, X, np.where(np.isin(target, digits), 1.0, -1.0), names, label)


def simulated_halfspace(n: int, d: int, kappa: float, separability: float, seed: int) -> BinaryDataset:
    """A sample of ``n`` labelled points from the Gaussian halfspace population, Eq. (16).

    ``z_i ~ N(u, S - u u^T)`` for the population of :func:`~bnrates.problems.halfspace_moments`
    (``d``, ``kappa``, ``separability``, ``seed``), drawn from the stream ``[seed, 71]``; labels
    ``y_i = +-1`` with equal probability (stream ``[seed, 72]``) and inputs ``x_i = -y_i z_i``, so
    that ``E[x] = 0``, ``z_i = -y_i x_i`` and ``E[x x^T] = S``: the empirical risk of the sample
    tends to the population risk as ``n`` grows (the large-``n`` dataset of the benchopt benchmark).

    Parameters
    ----------
    n : int
        Sample size, ``n >= 2``.
    d, kappa, separability, seed
        As for :func:`~bnrates.problems.halfspace_moments`.

    Returns
    -------
    BinaryDataset
        ``X`` of shape ``(n, d)``, ``y`` of shape ``(n,)``.
    """
    n = check_int("n", n, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    S, u = halfspace_moments(d, kappa, separability, [seed])
    z = sample_halfspace(S, u, n, np.random.default_rng([seed, 71]))[:, 0]
    y = np.where(np.random.default_rng([seed, 72]).random(n) < 0.5, -1.0, 1.0)
    names = tuple(f"x_{i}" for i in range(d))
    positive = "a fair coin (the inputs carry the signal: x = -y z)"
    return BinaryDataset(f"simulated_n{n}_d{d}", -y[:, None] * z, y, names, positive)
