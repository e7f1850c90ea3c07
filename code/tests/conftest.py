"""Shared fixtures: random instances for the mathematical tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from bnrates.problems import ols_instances

dims = st.integers(min_value=1, max_value=12)
kappas = st.sampled_from([1.0, 2.0, 10.0, 100.0, 1000.0])
seeds = st.integers(min_value=0, max_value=10_000)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def random_point(d: int, seed: int, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A random direction ``w`` (shape ``(batch, d)``) and length ``g`` (shape ``(batch,)``)."""
    r = np.random.default_rng([seed, 99])
    return r.standard_normal((batch, d)), r.uniform(0.3, 3.0, batch) * r.choice([-1.0, 1.0], batch)


__all__ = ["dims", "kappas", "ols_instances", "random_point", "seeds"]
