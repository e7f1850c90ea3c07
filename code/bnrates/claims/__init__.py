"""The registry of every claim the book checks, chapter by chapter.

>>> from bnrates import claims
>>> outcomes = claims.verify("ols.rate", profile="quick")    # doctest: +SKIP
"""

from __future__ import annotations

from . import experiments, halfspace, mlp, ols, reparametrization
from .core import (
    PROFILES,
    Claim,
    Evidence,
    Outcome,
    check_profile,
    outcome_table,
    relation_holds,
    run_claim,
    select,
)

REGISTRY: tuple[Claim, ...] = (
    *reparametrization.CLAIMS,
    *ols.CLAIMS,
    *halfspace.CLAIMS,
    *mlp.CLAIMS,
    *experiments.CLAIMS,
)


def get(claim_id: str) -> Claim:
    """The registered claim with this id (``KeyError`` listing the known ids otherwise)."""
    for claim in REGISTRY:
        if claim.id == claim_id:
            return claim
    raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(c.id for c in REGISTRY)}")


class ClaimFailed(AssertionError):
    """Raised by :func:`require` when a claim fails (a chapter cell raising it fails the build)."""


def require(outcomes: dict[str, Outcome]) -> None:
    """Raise :class:`ClaimFailed` listing every outcome whose status is ``fail``."""
    failed = [o.record() for o in outcomes.values() if not o.ok]
    if failed:
        lines = "\n".join(f"  {r['id']}: observed {r['observed']!r} {r['relation']} theory {r['theory']!r} "
                          f"(tolerance {r['tolerance']}, negative control: {r['negative_control']})" for r in failed)
        raise ClaimFailed(f"{len(failed)} claim(s) failed:\n{lines}")


def verify(pattern: str | None = None, profile: str = "quick", seed: int = 0) -> dict[str, Outcome]:
    """Run the registered claims matching ``pattern``; outcomes keyed by claim id, in order."""
    check_profile(profile)
    chosen = select(REGISTRY, pattern)
    if not chosen:
        raise ValueError(f"no claim matches {pattern!r}; known: {', '.join(c.id for c in REGISTRY)}")
    return {c.id: run_claim(c, profile, seed) for c in chosen}


__all__ = [
    "PROFILES",
    "REGISTRY",
    "Claim",
    "ClaimFailed",
    "Evidence",
    "Outcome",
    "check_profile",
    "get",
    "outcome_table",
    "relation_holds",
    "require",
    "run_claim",
    "select",
    "verify",
]
