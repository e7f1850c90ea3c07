"""The registry of every claim the book checks, chapter by chapter.

Each chapter's claims live in ``bnrates.claims.<chapter>`` as a tuple ``CLAIMS``: a module, or a
package with one module per section of a long chapter (``halfspace``, ``experiments``). They
are imported on demand, so a chapter that verifies its own claims imports only the code those
claims run (the book pipeline relies on this to know which chapters a code change affects).

>>> from bnrates import claims
>>> outcomes = claims.verify("ols.", profile="quick")    # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from .core import (
    PROFILES,
    Claim,
    Evidence,
    Outcome,
    check_profile,
    injected,
    outcome_table,
    relation_holds,
    run_claim,
    run_sabotage,
    sabotage_counts,
    select,
)

NOT_CHAPTERS = frozenset({"core", "errata", "seeds"})
"""Modules of this package that hold no chapter's claims."""
TOC = Path(__file__).resolve().parents[3] / "_toc.yml"
"""The book's table of contents (next to ``code/`` in the repository): the reading order."""


def _chapters() -> tuple[str, ...]:
    """Every claims module or package of this package (found on disk, not imported), in ``_toc.yml``'s order.

    A new chapter's claims module (or package, one module per section) is picked up by its file alone;
    chapters missing from the table of contents (or a package installed without the book) follow in
    alphabetical order.
    """
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in NOT_CHAPTERS)
    order = (
        re.findall(r"^\s*-\s*file:\s*chapters/(\w+)\s*$", TOC.read_text(encoding="utf-8"), re.MULTILINE)
        if TOC.is_file()
        else []
    )
    return tuple(sorted(found, key=lambda name: (order.index(name) if name in order else len(order), name)))


CHAPTERS = _chapters()
"""Chapters with claims, in reading order; ``bnrates.claims.<chapter>.CLAIMS`` holds them."""


def chapter_claims(chapter: str) -> tuple[Claim, ...]:
    """The claims of one chapter (imports only that chapter's module)."""
    if chapter not in CHAPTERS:
        raise KeyError(f"no claims for chapter {chapter!r}; chapters with claims: {', '.join(CHAPTERS)}")
    return importlib.import_module(f"{__name__}.{chapter}").CLAIMS


def registry(pattern: str | None = None) -> tuple[Claim, ...]:
    """Every registered claim, or only those of the chapter that ``pattern`` names (``"ols."``)."""
    prefix = re.match(r"^(\w+)\.", pattern or "")
    chapters = [prefix.group(1)] if prefix and prefix.group(1) in CHAPTERS else CHAPTERS
    return tuple(c for chapter in chapters for c in chapter_claims(chapter))


def get(claim_id: str) -> Claim:
    """The registered claim with this id (``KeyError`` listing the known ids otherwise)."""
    for claim in registry(claim_id):
        if claim.id == claim_id:
            return claim
    raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(c.id for c in registry())}")


LABEL = re.compile(r"^\((?P<target>[\w-]+)\)=\s*$|^:label:\s*(?P<directive>[\w-]+)\s*$", re.MULTILINE)
"""A MyST target ``(label)=`` or a directive's ``:label: name`` option."""


def chapter_labels(chapters_dir: str | Path) -> dict[str, str]:
    """Every label defined in the book's chapters (``chapters/*.md``), mapped to its chapter's file stem."""
    labels = {}
    for path in sorted(Path(chapters_dir).glob("*.md")):
        for match in LABEL.finditer(path.read_text(encoding="utf-8")):
            labels[match.group("target") or match.group("directive")] = path.stem
    return labels


class ClaimFailed(AssertionError):
    """Raised by :func:`require` when a claim fails (a chapter cell raising it fails the build)."""


def require(outcomes: dict[str, Outcome]) -> None:
    """Raise :class:`ClaimFailed` listing every outcome whose status is ``fail``."""
    failed = [o.record() for o in outcomes.values() if not o.ok]
    if failed:
        lines = "\n".join(
            f"  {r['id']}: observed {r['observed']!r} {r['relation']} theory {r['theory']!r} "
            f"(pass mark {r['pass_mark']!r}) "
            f"(tolerance {r['tolerance']}, negative control: {r['negative_control']})"
            for r in failed
        )
        raise ClaimFailed(f"{len(failed)} claim(s) failed:\n{lines}")


def verify(pattern: str | None = None, profile: str = "quick", seed: int = 0) -> dict[str, Outcome]:
    """Run the registered claims matching ``pattern``; outcomes keyed by claim id, in order."""
    check_profile(profile)
    chosen = select(registry(pattern), pattern)
    if not chosen:
        raise ValueError(f"no claim matches {pattern!r}; known: {', '.join(c.id for c in registry())}")
    return {c.id: run_claim(c, profile, seed) for c in chosen}


__all__ = [
    "CHAPTERS",
    "PROFILES",
    "Claim",
    "ClaimFailed",
    "Evidence",
    "Outcome",
    "chapter_claims",
    "chapter_labels",
    "check_profile",
    "get",
    "injected",
    "outcome_table",
    "registry",
    "relation_holds",
    "require",
    "run_claim",
    "run_sabotage",
    "sabotage_counts",
    "select",
    "verify",
]
