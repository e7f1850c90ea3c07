"""Claims of the section "What an iteration costs" (book: prop-ex-newton).

The certified Newton length search: every length within ``2^-T_s`` of the optimal one, and the
negative control without the curvature term of its certificate.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ... import empirical
from ...gdnp import newton_length
from ...problems import random_starts
from ..core import Claim, Evidence, chapter_claims_factory, injected, seeds_for
from .real_data import halfspace_runs
from .setting import CHAPTER, SIZES, breast_cancer


@lru_cache(maxsize=4)
def newton_run(profile: str, seed: int) -> empirical.EmpiricalGDNPHistory:
    """GDNP from the same starts as :func:`halfspace_runs`, lengths by the certified Newton search."""
    size = SIZES[profile]
    _, X, problem = breast_cancer()
    starts = random_starts(X.shape[1], seeds_for(SIZES, profile, seed))
    return empirical.gdnp_empirical(problem, starts, size["t_halfspace"], size["t_s"], length_search="newton")


def newton_length_certified(profile: str, seed: int) -> Evidence:
    """Every length of GDNP's Newton search lies within ``2^-T_s`` of the exact optimal length.

    Observed is ``max_t |g_t - g*(w_t)| / 2^-T_s`` over all iterations and starts, with
    ``g*(w_t)`` from 60 bisection halvings on the same margins. The evaluations of ``d_g f`` per
    iteration are reported for both searches.

    Book: prop-ex-newton.
    """
    size = SIZES[profile]
    _, _, problem = breast_cancer()
    run, bis = newton_run(profile, seed), halfspace_runs(profile, seed)
    error = np.abs(run.g - empirical.exact_lengths(problem, run.w)).max() / 2.0 ** -size["t_s"]
    return Evidence(
        observed=float(error),
        theory=1.0,
        extra={
            "newton_evaluations": float(run.evaluations.mean()),
            "newton_max_evaluations": float(run.evaluations.max()),
            "bisection_evaluations": bis.gdnp_evaluations,
            "final_newton": float(np.median(run.grad_norm_sq[-1])),
            "final_bisection": float(np.median(bis.gdnp_grad_norm_sq[-1])),
        },
    )


def newton_length_curvature_negative_control(profile: str, seed: int) -> Evidence:
    """The same certificate with ``C = 0`` (as if ``d_g f`` were linear in ``g``) accepts wrong lengths.

    From ``g = 0`` at the random starts the bound ``C delta^2 / (2 F')`` is then zero after one
    evaluation, and the Newton point is returned; observed is its error over ``2^-T_s``.

    Book: prop-ex-newton.
    """
    size = SIZES[profile]
    _, X, problem = breast_cancer()
    starts = random_starts(X.shape[1], seeds_for(SIZES, profile, seed))
    zeros = np.zeros(len(starts))
    derivatives = empirical.length_derivatives(problem.loss, empirical.margins_of(problem, starts))
    found = newton_length(derivatives, zeros, zeros, 2.0 ** -size["t_s"])
    error = np.abs(found.g - empirical.exact_lengths(problem, starts)).max() / 2.0 ** -size["t_s"]
    return Evidence(observed=float(error), theory=1.0, extra={"evaluations": float(found.evaluations)})


_claim = chapter_claims_factory(CHAPTER)
HERE = __name__

CLAIMS: tuple[Claim, ...] = (
    _claim(
        "newton_length_certified",
        "GDNP's certified Newton length search keeps every length within "
        "2^-T_s of the optimal one, as T_s bisection halvings of [-1, 1] would.",
        "<=",
        0.0,
        newton_length_certified,
        label="prop-ex-newton",
        sabotages={
            "Newton search stopped at 1000 times the tolerance": injected(
                newton_length_certified,
                "bnrates.empirical:newton_length",
                lambda f: lambda d, g0, C, tol, **k: f(d, g0, C, 1e3 * tol, **k),
            )
        },
    ),
    _claim(
        "newton_length_curvature_negative_control",
        "Without its curvature term the Newton certificate accepts lengths far from the optimal one.",
        "<=",
        0.0,
        newton_length_curvature_negative_control,
        negative_control=True,
        label="prop-ex-newton",
        sabotages={
            "the control's C = 0 replaced by a huge curvature": injected(
                newton_length_curvature_negative_control,
                f"{HERE}:newton_length",
                lambda f: lambda d, g0, C, tol, **k: f(d, g0, np.full_like(np.asarray(C, dtype=float), 1e6), tol, **k),
            )
        },
    ),
)
