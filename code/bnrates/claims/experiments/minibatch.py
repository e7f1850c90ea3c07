"""Claims of the section "Mini-batch versus population statistics" (book: sec-ex-minibatch).

BN with batch statistics approaches the population reparametrization like ``b^{-1/2}`` on the digits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ... import bn_network
from ..core import Claim, Evidence, chapter_claims_factory, injected
from .setting import CHAPTER, SIZES, digits


@lru_cache(maxsize=4)
def minibatch_table(profile: str, seed: int) -> pd.DataFrame:
    """:func:`~bnrates.bn_network.minibatch_deviation` on the digits with random units."""
    size = SIZES[profile]
    _, X, _ = digits()
    W = np.random.default_rng([seed, 63]).standard_normal((X.shape[1], size["n_units"]))
    return bn_network.minibatch_deviation(X, W, size["batch_sizes"], size["n_draws"], seed)


def minibatch_statistics_rate(profile: str, seed: int) -> Evidence:
    """BN with batch statistics approaches the population reparametrization like ``b^{-1/2}``.

    Observed: the slope of ``log rms`` against ``log b`` (all units pooled); theory ``-1/2``,
    within 20 %.

    Book: sec-ex-minibatch.
    """
    data = minibatch_table(profile, seed)
    slope = np.polyfit(np.log(data["batch_size"]), np.log(data["rms"]), 1)[0]
    med = data.groupby("batch_size")["rms"].median()
    return Evidence(
        observed=float(slope),
        theory=-0.5,
        data=data,
        extra={
            "rms_small": float(med.iloc[0]),
            "rms_large": float(med.iloc[-1]),
            "b_small": float(med.index[0]),
            "b_large": float(med.index[-1]),
        },
    )


def _squared_rms(f: Callable[..., Any]) -> Callable[..., Any]:
    """``minibatch_deviation`` reporting the mean square instead of the root mean square."""
    return lambda *a, **k: f(*a, **k).assign(rms=lambda d: d["rms"] ** 2)


_claim = chapter_claims_factory(CHAPTER)
HERE = __name__

CLAIMS: tuple[Claim, ...] = (
    _claim(
        "minibatch_statistics_rate",
        "Batch statistics approach the population reparametrization like b^-1/2 (slope within {tolerance:.0%}).",
        "≈",
        0.2,
        minibatch_statistics_rate,
        source="S",
        label="sec-ex-minibatch",
        reason="a least-squares slope over a few batch sizes and finitely many draws",
        sabotages={
            "mean square instead of root mean square": injected(
                minibatch_statistics_rate, "bnrates.bn_network:minibatch_deviation", _squared_rms
            )
        },
    ),
)
