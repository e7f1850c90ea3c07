"""Claims: the checks that tie each statement of the book to a number that can fail.

A :class:`Claim` states a relation between an observed value and a theoretical one. Running it
gives an :class:`Outcome` whose status is

* ``pass`` -- the relation holds (for an ordinary claim);
* ``fail`` -- it does not, or a negative control unexpectedly satisfies it;
* ``expected failure`` -- a negative control violates the relation, as it must when the
  theorem's condition is broken.

Chapters display outcomes from the registry; the test-suite and ``python -m bnrates verify``
run the very same claims.

Every claim also carries its *sabotages*: plausible wrong implementations of what it checks (a
wrong coefficient, a dropped term, the wrong sign, sublinear data for a linearity test). Under
each of them the claim must fail (:func:`run_sabotage`), which shows that it can. A sabotage is
either a compute function of its own or the claim's compute run with one wrong ingredient
injected (:func:`injected`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from unittest import mock

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

Relation = Literal["<=", ">=", "≈"]
Status = Literal["pass", "fail", "expected failure"]
PROFILES = ("quick", "full")
EX_USAGE = 64
"""Exit status of the claims' commands (``verify``, ``seeds``) for a bad argument (sysexits.h)."""
MAX_COUNT = 63
"""Their exit status otherwise: the number of claims that failed or drifted, at most this."""
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
    observed
        The measured number.
    theory
        The theorem's value of the same quantity (``0`` for an exact identity, ``1`` for a ratio
        to a bound, ``-1/2`` for a slope), or ``None`` where the statement has no such number.
        The relation compares ``observed`` with it unless a pass mark is set.
    pass_mark
        An engineering pass mark computed by the run (e.g. a Bonferroni critical value that
        depends on how many scores were drawn); it overrides the claim's constant pass mark.
    data
        The tidy table behind the claim's figure, if any.
    extra
        Further named numbers for the prose (glued into the chapter).
    """

    observed: float
    theory: float | None
    data: pd.DataFrame | None = None
    extra: Mapping[str, float] = field(default_factory=dict)
    pass_mark: float | None = None


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
        One sentence, in the book's words (formatted from the claim's own numbers by
        :func:`chapter_claims_factory`).
    relation, tolerance
        ``observed <= ref (1 + tol)``, ``observed >= ref (1 - tol)`` or
        ``|observed - ref| <= tol |ref|``, where ``ref`` is the pass mark if there is one and
        the theory value otherwise; the tolerance is relative to ``|ref|``.
    compute
        ``compute(profile, seed) -> Evidence``.
    negative_control
        If true the relation must be *violated*: the claim breaks a condition of a theorem.
    source
        ``P``, ``S`` or ``D``: confirmed from the paper, from summaries, derived here.
    label
        The book label of the statement the claim checks (``thm-ols``); the claim table links to it.
    sabotages
        ``name -> compute``: plausible wrong implementations under which the claim must fail.
    pass_mark
        A constant engineering pass mark, compared instead of the theory value (e.g. ``1e-12``
        for an identity that holds exactly in exact arithmetic).
    reason
        Why the pass mark or the tolerance is what it is (required when either is set).
    """

    id: str
    chapter: str
    statement: str
    relation: Relation
    tolerance: float
    compute: Callable[[str, int], Evidence]
    negative_control: bool = False
    source: Literal["P", "S", "D"] = "D"
    label: str = ""
    sabotages: Mapping[str, Callable[[str, int], Evidence]] = field(default_factory=dict)
    pass_mark: float | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if (self.pass_mark is not None or self.tolerance) and not self.reason:
            raise ValueError(f"claim {self.id}: a pass mark or a tolerance needs its reason")


def chapter_claims_factory(chapter: str) -> Callable[..., Claim]:
    """``make(name, statement, relation, tolerance, compute, **kw)`` -> the claim ``<chapter>.<name>``.

    ``statement`` is a format string: ``{pass_mark}`` and ``{tolerance}`` (with format specs,
    e.g. ``{pass_mark:g}``) are the claim's own numbers, and ``fmt={...}`` adds more, so the
    text cannot drift from what the claim tests.
    """

    def make(
        name: str,
        statement: str,
        relation: Relation,
        tolerance: float,
        compute: Callable[[str, int], Evidence],
        *,
        fmt: Mapping[str, object] | None = None,
        **kw: Any,
    ) -> Claim:
        text = statement.format(pass_mark=kw.get("pass_mark"), tolerance=tolerance, **(fmt or {}))
        return Claim(f"{chapter}.{name}", chapter, text, relation, tolerance, compute, **kw)

    return make


def seeds_for(sizes: Mapping[str, Mapping[str, Any]], profile: str, seed: int) -> np.ndarray:
    """The run seeds of a profile: ``sizes[profile]["n_seeds"]`` consecutive integers from ``1000 seed``.

    Derived from what the run is (its base seed and profile), never from order or worker: base
    seeds ``0, 1, ...`` give disjoint blocks while a profile has fewer than 1000 runs.
    """
    return 1000 * seed + np.arange(sizes[profile]["n_seeds"])


def relation_holds(relation: Relation, observed: float, theory: float | None, tolerance: float) -> bool:
    """Whether ``observed relation theory`` holds within the relative ``tolerance``.

    NaN (or a missing reference) never satisfies a relation.
    """
    if theory is None or not (math.isfinite(observed) and math.isfinite(theory)):
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
    def pass_mark(self) -> float | None:
        """The pass mark the relation used: the run's, else the claim's, else ``None``."""
        return self.evidence.pass_mark if self.evidence.pass_mark is not None else self.claim.pass_mark

    @property
    def reference(self) -> float | None:
        """The number ``observed`` was compared with: the pass mark if any, else the theory value."""
        return self.pass_mark if self.pass_mark is not None else self.evidence.theory

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
            "pass_mark": self.pass_mark,
            "relation": c.relation,
            "tolerance": c.tolerance,
            "reason": c.reason,
            "negative_control": c.negative_control,
            "source": c.source,
            "label": c.label,
            "sabotages": len(c.sabotages),
            "extra": {k: float(v) for k, v in self.evidence.extra.items()},
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
    reference = evidence.pass_mark if evidence.pass_mark is not None else claim.pass_mark
    reference = evidence.theory if reference is None else reference
    ok = relation_holds(claim.relation, evidence.observed, reference, claim.tolerance)
    return Outcome(claim, evidence, ok, seconds)


def clear_caches() -> None:
    """Empty every ``functools.lru_cache`` of the loaded ``bnrates`` modules (runs are cached per profile)."""
    for name, module in list(sys.modules.items()):
        if name == "bnrates" or name.startswith("bnrates."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                    value.cache_clear()


def injected(
    compute: Callable[[str, int], Evidence], target: str, wrong: Callable[[Any], Any]
) -> Callable[[str, int], Evidence]:
    """``compute`` run with one wrong ingredient: ``target`` replaced by ``wrong(original)``.

    Parameters
    ----------
    target
        ``"package.module:attribute"`` or ``"package.module:Class.attribute"``: the name as the
        code under test looks it up (the claims module for a function it imported by name).
    wrong
        Takes the original object and returns its replacement.

    The cached runs of every ``bnrates`` module are emptied before and after, so neither the
    sabotaged run reuses a sound one nor a later sound run reuses a sabotaged one.
    """
    module_name, _, path = target.partition(":")
    *owners, attribute = path.split(".")

    def sabotaged(profile: str, seed: int) -> Evidence:
        owner: Any = importlib.import_module(module_name)
        for name in owners:
            owner = getattr(owner, name)
        clear_caches()
        try:
            with mock.patch.object(owner, attribute, wrong(getattr(owner, attribute))):
                return compute(profile, seed)
        finally:
            clear_caches()

    return sabotaged


def run_safely(claim: Claim, profile: str, seed: int) -> tuple[Outcome, str | None]:
    """Run one claim; if its computation raises, a failed outcome (NaN evidence) and the error."""
    try:
        return run_claim(claim, profile, seed), None
    except Exception as err:  # any bug in one claim is reported, and the other claims still run
        failed = Outcome(claim, Evidence(math.nan, math.nan), claim.negative_control, 0.0)
        return failed, f"{type(err).__name__}: {err}".splitlines()[0]


def run_sabotage(claim: Claim, name: str, profile: str = "quick", seed: int = 0) -> Outcome:
    """Run ``claim`` under its sabotage ``name``; a sound claim's outcome then has status ``fail``.

    A sabotage whose run raises (a wrong implementation that breaks the computation outright)
    counts as caught: the outcome has observed NaN.
    """
    compute = claim.sabotages[name]
    start = time.perf_counter()
    try:
        evidence = compute(profile, seed)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError):
        evidence = Evidence(observed=math.nan, theory=None)
    broken = replace(claim, compute=lambda p, s: evidence)
    outcome = run_claim(broken, profile, seed)
    return replace(outcome, seconds=time.perf_counter() - start)


def sabotage_counts(claims: Iterable[Claim], profile: str = "quick", seed: int = 0) -> pd.DataFrame:
    """Per claim: how many sabotages it has and how many of them it catches (the claim fails).

    Returns
    -------
    DataFrame
        Columns ``id, sabotages, caught, names, missed``: ``names`` lists every sabotage, ``missed``
        those it did not catch (both joined by `` | ``).
    """
    rows = []
    for claim in claims:
        missed = [name for name in claim.sabotages if run_sabotage(claim, name, profile, seed).ok]
        rows.append(
            {
                "id": claim.id,
                "sabotages": len(claim.sabotages),
                "caught": len(claim.sabotages) - len(missed),
                "names": " | ".join(claim.sabotages),
                "missed": " | ".join(missed),
            }
        )
    return pd.DataFrame(rows, columns=["id", "sabotages", "caught", "names", "missed"])


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
            "pass_mark": o.pass_mark,
            "tolerance": o.claim.tolerance,
            "label": o.claim.label,
            "source": o.claim.source,
            "status": o.status,
        }
        for o in outcomes
    ]
    return pd.DataFrame(rows).set_index("claim")
