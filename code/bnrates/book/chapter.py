"""The one page helper of the book's chapters: what opens and what closes every chapter.

A chapter with claims opens with :func:`open_chapter` and closes with :meth:`Page.close`, one
call each, right after its ``parameters`` cell and under its "Claims checked in this chapter"
heading::

    from bnrates.book.chapter import open_chapter

    page = open_chapter("ols", profile=profile, seed=seed, results_dir=results_dir)
    ...
    page.close(tables={"fig-ols-loggap": grid.history})  # require, save, the claim table

Opening sets the figure style, runs the chapter's claims (``bnrates.claims.<chapter>``) and glues,
for the prose, every number a sentence may cite (:func:`page_numbers`):

* ``<claim id>`` the observed value, ``<claim id>.<extra>`` each further number of its evidence,
  ``<claim id>.theory`` and ``<claim id>.pass_mark`` the compared values where there are some;
* ``<chapter>.size.<key>`` every number of the profile's sizes (``SIZES[profile]`` of the claims
  module), ``<chapter>.size.<key>.min`` / ``.max`` for a sequence of numbers;
* each parameter under its own name (``profile``, ``seed``, ...; not ``results_dir``).

A sentence citing a number that no longer exists then fails the build (Sphinx runs with
warnings as errors). Beside the sentence that cites a chapter's headline number, a cell
``page.driver("<claim id>")`` (tag ``remove-input``) shows the source of the claim's driver,
collapsed. Closing raises :class:`bnrates.claims.ClaimFailed` if a claim failed
(before anything is saved), saves the outcomes, their tables and the parameters with
:func:`bnrates.book.provenance.save_chapter`, and returns the chapter's claim table.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bnrates import claims, plotting
from bnrates.claims import Evidence, Outcome

from . import provenance

Glue = Callable[..., None]
"""``glue(name, value, display=False)``: myst-nb's :func:`myst_nb.glue` or a test's recorder."""


def claim_numbers(outcomes: Mapping[str, Outcome]) -> dict[str, float]:
    """Every number of the outcomes, named by its claim id.

    Parameters
    ----------
    outcomes
        Outcomes keyed by claim id (as :func:`bnrates.claims.verify` returns them).

    Returns
    -------
    dict
        ``<id>``: the observed value; ``<id>.<extra>``: each extra number of the evidence;
        ``<id>.theory`` and ``<id>.pass_mark`` where the outcome has them.
    """
    numbers: dict[str, float] = {}
    for claim_id, o in outcomes.items():
        numbers[claim_id] = float(o.evidence.observed)
        numbers.update({f"{claim_id}.{key}": float(value) for key, value in o.evidence.extra.items()})
        if o.evidence.theory is not None:
            numbers[f"{claim_id}.theory"] = float(o.evidence.theory)
        if o.pass_mark is not None:
            numbers[f"{claim_id}.pass_mark"] = float(o.pass_mark)
    return numbers


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def size_numbers(chapter: str, sizes: Mapping[str, object]) -> dict[str, float]:
    """The numbers of a profile's sizes, named ``<chapter>.size.<key>`` (``.min``/``.max`` for a sequence).

    Parameters
    ----------
    chapter
        The chapter's name (``halfspace``).
    sizes
        One profile's sizes, e.g. ``bnrates.claims.halfspace.SIZES["quick"]``; entries that are
        neither a number nor a non-empty sequence of numbers are left out.
    """
    numbers: dict[str, float] = {}
    for key, value in sizes.items():
        name = f"{chapter}.size.{key}"
        if _is_number(value):
            numbers[name] = float(value)  # type: ignore[arg-type]
        elif isinstance(value, (tuple, list, np.ndarray)) and len(value) and all(_is_number(v) for v in value):
            numbers[f"{name}.min"] = float(min(value))
            numbers[f"{name}.max"] = float(max(value))
    return numbers


def page_numbers(chapter: str, outcomes: Mapping[str, Outcome], sizes: Mapping[str, object]) -> dict[str, float]:
    """What :func:`open_chapter` glues besides the parameters: :func:`claim_numbers` and :func:`size_numbers`.

    Raises
    ------
    ValueError
        If a size and a claim's number would share a name.
    """
    numbers = claim_numbers(outcomes)
    from_sizes = size_numbers(chapter, sizes)
    clash = sorted(numbers.keys() & from_sizes.keys())
    if clash:
        raise ValueError(f"chapter {chapter!r}: the names {', '.join(clash)} are both a size and a claim's number")
    return {**numbers, **from_sizes}


def _myst_glue(name: str, value: object, display: bool = False) -> None:
    from myst_nb import glue

    glue(name, value, display=display)


@dataclass(frozen=True)
class Page:
    """An opened chapter: its claims' outcomes, its parameters and its sizes.

    Attributes
    ----------
    chapter
        The chapter's name; its claims are ``<chapter>.*`` and its results go to
        ``results_dir / chapter``.
    outcomes
        The claims' outcomes, keyed by claim id, in registry order.
    parameters
        The chapter's parameters as saved with its results (``profile``, ``seed``, ...).
    results_dir
        Root of the results (set by the pipeline).
    sizes
        The profile's sizes of the chapter's claims module (empty if it has none).
    glue
        How :meth:`glue_numbers` glues (myst-nb's glue, without display).
    """

    chapter: str
    outcomes: Mapping[str, Outcome]
    parameters: Mapping[str, Any]
    results_dir: str | Path
    sizes: Mapping[str, Any]
    glue: Glue = field(default=_myst_glue, repr=False)

    @property
    def profile(self) -> str:
        """The profile the claims ran with."""
        return str(self.parameters["profile"])

    @property
    def seed(self) -> int:
        """The base seed the claims ran with."""
        return int(self.parameters["seed"])

    @property
    def evidence(self) -> dict[str, Evidence]:
        """Each claim's evidence, keyed by the claim's name without the chapter (``minibatch_rate``)."""
        return {claim_id.split(".", 1)[1]: o.evidence for claim_id, o in self.outcomes.items()}

    def glue_numbers(self, name: str, numbers: Mapping[str, float]) -> None:
        """Glue the numbers of a computation that is not a claim as ``<chapter>.<name>.<key>``.

        For a chapter's own demonstration (the run of a reader's parameter), whose numbers the
        prose cites but no claim checks.
        """
        for key, value in numbers.items():
            self.glue(f"{self.chapter}.{name}.{key}", float(value), display=False)

    def driver(self, claim_id: str) -> plotting.SourceBlock:
        """The source of the function that computed ``claim_id``, collapsed: the cell beside the sentence citing it.

        Raises
        ------
        KeyError
            If ``claim_id`` is not one of this chapter's claims.
        """
        if claim_id not in self.outcomes:
            known = ", ".join(self.outcomes)
            raise KeyError(f"{claim_id!r} is not a claim of chapter {self.chapter!r}; it has {known}")
        compute = self.outcomes[claim_id].claim.compute
        return plotting.SourceBlock(f"the driver of {claim_id}", inspect.getsource(compute))

    def close(self, tables: Mapping[str, pd.DataFrame] | None = None) -> plotting.ClaimTable:
        """Require the claims, save the results, return the claim table: the chapter's last cell.

        Parameters
        ----------
        tables
            Further named tables to save beside the claims' own (those behind figures that are
            not a claim's data), as for :func:`bnrates.book.provenance.save_chapter`.

        Returns
        -------
        ClaimTable
            The chapter's claim table (:func:`bnrates.plotting.claim_table`).

        Raises
        ------
        bnrates.claims.ClaimFailed
            If a claim failed, naming it; nothing is saved then.
        """
        claims.require(dict(self.outcomes))
        provenance.save_chapter(self.results_dir, self.chapter, self.outcomes, self.parameters, tables=tables)
        return plotting.claim_table(self.outcomes.values())


def open_chapter(
    chapter: str, *, profile: str, seed: int, results_dir: str | Path, glue: Glue = _myst_glue, **parameters: Any
) -> Page:
    """Open a chapter: figure style, its claims run, every number glued under its name.

    Parameters
    ----------
    chapter
        The chapter's name (``ols``): its claims are ``bnrates.claims.<chapter>``.
    profile, seed, results_dir
        The chapter's parameters set by the pipeline (``profile`` in ``quick``, ``full``).
    glue
        The glue function (default: myst-nb's, without display).
    **parameters
        The chapter's other parameters (``kappa_demo``): glued under their names and saved with
        the results.

    Returns
    -------
    Page
        The opened chapter; close it with :meth:`Page.close`.

    Raises
    ------
    ValueError
        For an unknown profile or chapter (before anything runs), or a size named like a claim's number.
    """
    claims.check_profile(profile)
    if chapter not in claims.CHAPTERS:
        raise ValueError(f"chapter must be one of {', '.join(claims.CHAPTERS)}; got {chapter!r}")
    plotting.setup()
    outcomes = claims.verify(f"{chapter}.", profile=profile, seed=seed)
    sizes = getattr(importlib.import_module(f"{claims.__name__}.{chapter}"), "SIZES", {}).get(profile, {})
    page = Page(chapter, outcomes, {"profile": profile, "seed": seed, **parameters}, results_dir, sizes, glue)
    for name, value in page.parameters.items():
        glue(name, value, display=False)
    for name, value in page_numbers(chapter, outcomes, sizes).items():
        glue(name, value, display=False)
    return page
