"""Figures and tables of the book, drawn with seaborn from the tidy tables of the claims.

Shared style and the claim table live here; each chapter's figures live in a module of its own
(``plotting.reparametrization``, ``plotting.ols``, ``plotting.halfspace``) and are re-exported.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import seaborn as sns
from pandas.io.formats.style import Styler

from ..claims.core import Outcome, outcome_table

STATUS_COLOURS = {"pass": "#d9f2d9", "expected failure": "#fff1cc", "fail": "#f8d0d0"}


def setup() -> None:
    """The book's figure style (a seaborn theme and a readable default size)."""
    sns.set_theme(context="notebook", style="whitegrid", rc={"figure.figsize": (7.0, 4.2), "figure.dpi": 96})


def claim_table(outcomes: Iterable[Outcome]) -> Styler:
    """The chapter's claim table: id and statement in one column, then the numbers and the status."""
    table = outcome_table(outcomes).reset_index()
    table["claim"] = [f"<b>{html.escape(c)}</b><br><small>{html.escape(s)}</small>"
                      for c, s in zip(table["claim"], table["statement"], strict=True)]
    table = table[["claim", "observed", "relation", "theory", "tolerance", "source", "status"]].rename(
        columns={"relation": "rel.", "tolerance": "tol.", "source": "src"})
    return (
        table.style.hide(axis="index")
        .format({"observed": "{:.4g}", "theory": "{:.4g}", "tol.": "{:.0e}"})
        .set_properties(subset=["claim"], **{"text-align": "left", "min-width": "16em"})
        .apply(lambda row: [f"background-color: {STATUS_COLOURS[row['status']]}"] * len(row), axis=1)
    )



from .halfspace import iterations_figure, landscape_figure, race_figure, split_figure  # noqa: E402
from .ols import contraction_figure, log_gap_figure, negative_control_figure  # noqa: E402
from .reparametrization import minibatch_figure  # noqa: E402

__all__ = [
    "STATUS_COLOURS",
    "claim_table",
    "contraction_figure",
    "iterations_figure",
    "landscape_figure",
    "log_gap_figure",
    "minibatch_figure",
    "negative_control_figure",
    "race_figure",
    "setup",
    "split_figure",
]
