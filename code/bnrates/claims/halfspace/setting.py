"""The setting every section of "Learning halfspaces" shares (book: eq-halfspace).

The profiles' sizes, the batched Gaussian instances ``(S, u)`` of the separability and
conditioning sweeps with their random starting directions, and the sabotages of the Stein
coefficients that the gradient checks of several sections register.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from ...halfspace import (
    GaussianHalfspace,
    halfspace_instances,
)
from ..core import Compute, injected, seeds_for

CHAPTER = "halfspace"


class Size(TypedDict):
    """One profile's sizes: the instances, the race's tolerance and cap, GDNP's steps, the Monte Carlo check."""

    d: int
    n_seeds: int
    separabilities: tuple[float, ...]
    kappas: tuple[float, ...]
    tol: float
    cap: int
    t_d: int
    t_d_race: int
    t_s: int
    n_mc: int
    n_nodes: int


SIZES: dict[str, Size] = {
    "quick": {
        "d": 8,
        "n_seeds": 3,
        "separabilities": (0.1, 0.5, 0.8),
        "kappas": (10.0, 100.0),
        "tol": 1e-10,
        "cap": 2500,
        "t_d": 60,
        "t_d_race": 1000,
        "t_s": 40,
        "n_mc": 50_000,
        "n_nodes": 1025,
    },
    "full": {
        "d": 20,
        "n_seeds": 5,
        "separabilities": (0.1, 0.3, 0.5, 0.7, 0.8, 0.9),
        "kappas": (10.0, 30.0, 100.0),
        "tol": 1e-12,
        "cap": 5000,
        "t_d": 120,
        "t_d_race": 1200,
        "t_s": 50,
        "n_mc": 100_000,
        "n_nodes": 1025,
    },
}


KAPPA = 10.0
"""Condition number of ``S`` in the separability sweep."""


def instance_batch(
    profile: str, seed: int, separabilities: tuple[float, ...], kappas: tuple[float, ...], n_nodes: int | None = None
) -> tuple[GaussianHalfspace, pd.DataFrame]:
    """Every ``(separability, kappa, seed)`` combination as one batched problem, with its labels.

    Returns
    -------
    problem : GaussianHalfspace
        ``S`` of shape ``(B, d, d)``, ``B = len(separabilities) len(kappas) n_seeds``.
    labels : DataFrame
        ``B`` rows: ``separability``, ``kappa``, ``seed``.
    """
    size = SIZES[profile]
    seeds = seeds_for(SIZES, profile, seed)
    parts = [(halfspace_instances(size["d"], k, s, seeds), s, k) for s in separabilities for k in kappas]
    S = np.concatenate([p.S for p, _, _ in parts])
    u = np.concatenate([p.u for p, _, _ in parts])
    labels = pd.DataFrame(
        {
            "separability": np.repeat([s for _, s, _ in parts], len(seeds)),
            "kappa": np.repeat([k for _, _, k in parts], len(seeds)),
            "seed": np.tile(seeds, len(parts)),
        }
    )
    return GaussianHalfspace(S, u, n_nodes=n_nodes or size["n_nodes"]), labels


def random_directions(problem: GaussianHalfspace, seed: int) -> np.ndarray:
    """Random starting directions ``w_0``, shape ``(B, d)``, oriented so that ``u^T w_0 < 0``."""
    w = np.random.default_rng([seed, 31]).standard_normal(problem.u.shape)
    return w * -np.sign(np.einsum("bi,bi->b", problem.u, w))[:, None]


FD = "central differences with h = 1e-5 of a value accurate to ~1e-13 are good to ~1e-9"


HALFSPACE = "bnrates.halfspace:GaussianHalfspace"


def _stein_without_d2(f: Callable[..., Any]) -> Callable[..., Any]:
    """Stein coefficients with ``c1 = E[phi']``: the ``-E[phi''] u^T w~`` term dropped."""

    def wrong(self, wt):
        c1, c2 = f(self, wt)
        return c1 + c2 * np.einsum("...i,...i->...", self.u, np.asarray(wt)), c2

    return wrong


def _stein_c2_sign(f: Callable[..., Any]) -> Callable[..., Any]:
    """Stein coefficients with the sign of ``c2`` flipped."""

    def wrong(self, wt):
        c1, c2 = f(self, wt)
        return c1, -c2

    return wrong


def stein_sabotages(compute: Compute) -> dict[str, Compute]:
    """The two wrong Stein coefficients, as sabotages of ``compute``."""
    return {
        "Stein c1 without the -E[phi''] u^T w~ term": injected(
            compute, f"{HALFSPACE}.stein_coefficients", _stein_without_d2
        ),
        "Stein c2 with the wrong sign": injected(compute, f"{HALFSPACE}.stein_coefficients", _stein_c2_sign),
    }
