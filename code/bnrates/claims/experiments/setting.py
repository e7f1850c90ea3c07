"""The setting of "Experiments: beyond Gaussian inputs", section "The data, and the centring step".

The profiles' sizes, the two data sets (breast cancer for the halfspace, the digits for the network),
centred and scaled, the empirical halfspace problem and its reference optimum; each is loaded once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypedDict

import numpy as np

from ... import datasets as ds
from ... import empirical
from ...empirical import EmpiricalHalfspace

CHAPTER = "experiments"


class Size(TypedDict):
    """One profile's sizes: the halfspace runs on data, the networks, the mini-batch draws, BN-GD on OLS, the checks."""

    n_seeds: int
    t_halfspace: int
    t_s: int
    fit: tuple[int, int]
    m: int
    n_iter: int
    record_every: int
    batch_sizes: tuple[int, ...]
    n_draws: int
    n_units: int
    t_bngd: int
    d_ols: int
    fd_rows: int
    fd_units: int


SIZES: dict[str, Size] = {
    "quick": {
        "n_seeds": 3,
        "t_halfspace": 1200,
        "t_s": 30,
        "fit": (50, 200),
        "m": 16,
        "n_iter": 150,
        "record_every": 10,
        "batch_sizes": (4, 16, 64, 256),
        "n_draws": 200,
        "n_units": 8,
        "t_bngd": 5000,
        "d_ols": 10,
        "fd_rows": 12,
        "fd_units": 3,
    },
    "full": {
        "n_seeds": 8,
        "t_halfspace": 1200,
        "t_s": 30,
        "fit": (50, 400),
        "m": 16,
        "n_iter": 600,
        "record_every": 10,
        "batch_sizes": (4, 8, 16, 32, 64, 128, 256, 512),
        "n_draws": 400,
        "n_units": 16,
        "t_bngd": 5000,
        "d_ols": 10,
        "fd_rows": 20,
        "fd_units": 5,
    },
}


@lru_cache(maxsize=2)
def breast_cancer() -> tuple[ds.BinaryDataset, np.ndarray, EmpiricalHalfspace]:
    """The data, the centred and scaled inputs, and the empirical logistic halfspace problem."""
    data = ds.load_breast_cancer()
    X, _ = ds.standardize(data.X)
    return data, X, EmpiricalHalfspace(X, data.y)


@lru_cache(maxsize=2)
def digits() -> tuple[ds.BinaryDataset, np.ndarray, np.ndarray]:
    """The digits (even vs odd), the standardized inputs and their second moment ``S``."""
    data = ds.load_digits_binary()
    X, _ = ds.standardize(data.X)
    return data, X, X.T @ X / X.shape[0]


@lru_cache(maxsize=2)
def reference() -> empirical.Reference:
    """The reference optimum of the breast-cancer problem."""
    return empirical.reference_optimum(breast_cancer()[2])


FD = "central differences with h = 1e-6 are good to ~1e-8 relative"
