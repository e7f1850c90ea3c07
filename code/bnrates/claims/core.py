"""Claims: the checks that tie each statement of the book to a number that can fail.

A :class:`Claim` states a relation between an observed value and a theoretical one. Running it
gives an :class:`Outcome` whose status is

* ``pass`` -- the relation holds (for an ordinary claim);
* ``fail`` -- it does not, or a negative control unexpectedly satisfies it;
* ``expected failure`` -- a negative control violates the relation, as it must when the
  theorem's condition is broken.

Chapters display outcomes from the registry; the test-suite and ``python -m bnrates verify``
run the very same claims.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from threadpoolctl import threadpool_limits

Relation = Literal["<=", ">=", "≈"]
Status = Literal["pass", "fail", "expected failure"]
PROFILES = ("quick", "full")
SOURCES = {"P": "confirmed from the paper", "S": "public summaries", "D": "derived and verified here"}


def check_profile(profile: object) -> str:
    """Return ``profile`` if it is ``'quick'`` or ``'full'``, else raise a clear ``ValueError``."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(map(repr, PROFILES))}; got {profile!r}")
    return str(profile)


@dataclass(frozen=True)
class Evidence:
    """What a claim's computation returns.

    Attributes
    ----------
    observed, theory
        The two numbers the relation compares.
    data
        The tidy table behind the claim's figure, if any.
    extra
        Further named numbers for the prose (glued into the chapter).
    """

    observed: float
    theory: float
    data: pd.DataFrame | None = None
    extra: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """A checkable statement of the book.

    Attributes
    ----------
    id
        ``<chapter>.<name>``, e.g. ``ols.rate``.
    chapter
        File stem of the chapter that presents it.
    statement
        One sentence, in the book's words.
    relation, tolerance
        ``observed <= theory (1 + tol)``, ``observed >= theory (1 - tol)`` or
        ``|observed - theory| <= tol |theory|``; the tolerance is relative to ``|theory|``.
    compute
        ``compute(profile, seed) -> Evidence``.
    negative_control
        If true the relation must be *violated*: the claim breaks a condition of a theorem.
    source
        ``P``, ``S`` or ``D``: confirmed from the paper, from summaries, derived here.
    """

    id: str
    chapter: str
    statement: str
    relation: Relation
    tolerance: float
    compute: Callable[[str, int], Evidence]
    negative_control: bool = False
    source: Literal["P", "S", "D"] = "D"


def chapter_claims_factory(chapter: str) -> Callable[..., Claim]:
    """``make(name, statement, relation, tolerance, compute, **kw)`` -> the claim ``<chapter>.<name>``."""

    def make(name: str, statement: str, relation: Relation, tolerance: float,
             compute: Callable[[str, int], Evidence], **kw: object) -> Claim:
        return Claim(f"{chapter}.{name}", chapter, statement, relation, tolerance, compute, **kw)

    return make


def relation_holds(relation: Relation, observed: float, theory: float, tolerance: float) -> bool:
    """Whether ``observed relation theory`` holds within the relative ``tolerance``.

    NaN never satisfies a relation.
    """
    if not (math.isfinite(observed) and math.isfinite(theory)):
        return False
    slack = tolerance * abs(theory)
    if relation == "<=":
        return observed <= theory + slack
    if relation == ">=":
        return observed >= theory - slack
    return abs(observed - theory) <= slack


@dataclass(frozen=True)
class Outcome:
    """A claim together with its evidence and whether the relation held."""

    claim: Claim
    evidence: Evidence
    holds: bool
    seconds: float

    @property
    def status(self) -> Status:
        if self.claim.negative_control:
            return "fail" if self.holds else "expected failure"
        return "pass" if self.holds else "fail"

    @property
    def ok(self) -> bool:
        """True for ``pass`` and ``expected failure``."""
        return self.status != "fail"

    def record(self) -> dict[str, object]:
        """The outcome as a flat, JSON-ready record."""
        c = self.claim
        return {
            "id": c.id,
            "chapter": c.chapter,
            "statement": c.statement,
            "observed": self.evidence.observed,
            "theory": self.evidence.theory,
            "relation": c.relation,
            "tolerance": c.tolerance,
            "negative_control": c.negative_control,
            "source": c.source,
            "status": self.status,
            "seconds": round(self.seconds, 3),
        }


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run BLAS/OpenMP on one thread inside the block, whatever the environment asks.

    Bit-reproducible sums (a threaded BLAS splits a dot product differently), and faster for the
    many small linear-algebra calls of the claims.
    """
    with threadpool_limits(limits=1):
        yield


def run_claim(claim: Claim, profile: str = "quick", seed: int = 0) -> Outcome:
    """Compute one claim's evidence (BLAS on one thread) and judge it."""
    check_profile(profile)
    start = time.perf_counter()
    with one_blas_thread():
        evidence = claim.compute(profile, seed)
    seconds = time.perf_counter() - start
    ok = relation_holds(claim.relation, evidence.observed, evidence.theory, claim.tolerance)
    return Outcome(claim, evidence, ok, seconds)


def select(claims: Iterable[Claim], pattern: str | None) -> list[Claim]:
    """Claims whose id matches ``pattern``: a glob (``ols.rate*``) or a substring (``ols``)."""
    claims = list(claims)
    if pattern is None:
        return claims
    return [c for c in claims if fnmatch.fnmatchcase(c.id, pattern) or pattern in c.id]


def outcome_table(outcomes: Iterable[Outcome]) -> pd.DataFrame:
    """The claim table a chapter shows: one row per claim."""
    rows = [
        {
            "claim": o.claim.id,
            "statement": o.claim.statement,
            "observed": o.evidence.observed,
            "relation": o.claim.relation,
            "theory": o.evidence.theory,
            "tolerance": o.claim.tolerance,
            "source": o.claim.source,
            "status": o.status,
        }
        for o in outcomes
    ]
    return pd.DataFrame(rows).set_index("claim")
