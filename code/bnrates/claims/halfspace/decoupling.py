"""Claims of the section "Decoupling: the direction problem is the Rayleigh quotient" (book: sec-hs-decoupling).

The direction gradient ``grad_w f(w, g) = (g c1 / ||w||_S) P_w u``, parallel to the OLS Rayleigh
gradient: finite differences of the value against the lemma with ``c1`` by quad.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...halfspace import (
    GaussianHalfspace,
)
from ...numerics import central_gradient
from ...problems import value_wg
from ...rayleigh import rayleigh_argmin
from ...reparametrization import direction_projector, matvec, reparametrize, s_norm
from ..core import Claim, Evidence, chapter_claims_factory, injected
from .quad import LOGISTIC_BY_QUAD, c1_of, expectation_by_quad
from .setting import CHAPTER, FD, KAPPA, SIZES, instance_batch


def _fd_direction_grad(problem: GaussianHalfspace, w: np.ndarray, g: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences of ``f(w, g)`` in ``w``, batched, shape ``(B, d)``."""
    return central_gradient(lambda v: value_wg(problem, v, g), w, h)


LONG_LENGTH = 30.0
"""``||w~||_S`` of the probe along ``+S^-1 u`` where ``|c1|`` approaches 1 (reported by :func:`decoupling`)."""


def decoupling(profile: str, seed: int) -> Evidence:
    """``grad_w f(w, g) = (g c1 / ||w||_S) P_w u``: the decoupling lemma, parallel to ``grad rho(w)``.

    The left side by central differences of the value ``f(w, g)``; the right side with ``c1`` from
    ``scipy.integrate.quad`` (:func:`c1_by_quad`) and the ``S``-norm projector ``P_w``. Observed:
    the largest relative difference over random ``(w, g)``. Reported: the largest ``|c1|`` there and
    at ``w~ = LONG_LENGTH`` times the ``S``-unit vector along ``+S^-1 u``.

    Book: sec-hs-decoupling.
    """
    problem, _ = instance_batch(profile, seed, SIZES[profile]["separabilities"], (KAPPA,), n_nodes=4097)
    rng = np.random.default_rng([seed, 36])
    w = rng.standard_normal(problem.u.shape)
    g = rng.uniform(0.3, 5.0, len(w)) * rng.choice([-1.0, 1.0], len(w))
    c1 = c1_of(problem, reparametrize(w, g, problem.S))
    lemma = (g * c1 / s_norm(w, problem.S))[:, None] * matvec(direction_projector(w, problem.S), problem.u)
    fd = _fd_direction_grad(problem, w, g)
    err = np.linalg.norm(fd - lemma, axis=-1) / np.linalg.norm(lemma, axis=-1)
    line = rayleigh_argmin(problem.S, problem.u)
    long = LONG_LENGTH * line / s_norm(line, problem.S)[:, None]
    return Evidence(
        observed=float(err.max()),
        theory=0.0,
        extra={
            "max_abs_c1": float(np.abs(c1).max()),
            "max_abs_c1_long": float(np.abs(c1_of(problem, long)).max()),
            "long_length": LONG_LENGTH,
        },
    )


def _euclidean_projector(f: Callable[..., np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``I - w w^T / ||w||^2``: the Euclidean (weight-normalization) projector in place of ``P_w``."""

    def wrong(w, S):
        eye = np.broadcast_to(np.eye(w.shape[-1]), S.shape)
        return eye - w[..., :, None] * w[..., None, :] / np.sum(w * w, axis=-1)[..., None, None]

    return wrong


_claim = chapter_claims_factory(CHAPTER)
HERE = __name__
C1_BY_QUAD = "bnrates.claims.halfspace.quad:c1_by_quad"
""":func:`~bnrates.claims.halfspace.quad.c1_by_quad` where :func:`~bnrates.claims.halfspace.quad.c1_of` looks it up."""

CLAIMS: tuple[Claim, ...] = (
    _claim(
        "decoupling",
        "grad_w f(w, g) = (g c1/||w||_S) P_w u, parallel to the OLS Rayleigh gradient (logistic "
        "loss): finite differences of f against the lemma with c1 by scipy quad agree to {pass_mark:.0e}.",
        "<=",
        0.0,
        decoupling,
        label="sec-hs-decoupling",
        pass_mark=1e-7,
        reason=FD,
        sabotages={
            "arbitrary c1 = 1/2": injected(decoupling, C1_BY_QUAD, lambda f: lambda m, s: 0.5),
            "c1 without the -E[phi''] m term": injected(
                decoupling,
                C1_BY_QUAD,
                lambda f: lambda m, s: expectation_by_quad(LOGISTIC_BY_QUAD["dphi"], m, s),
            ),
            "Euclidean projector in place of P_w": injected(
                decoupling, f"{HERE}:direction_projector", _euclidean_projector
            ),
        },
    ),
)
