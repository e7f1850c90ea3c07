"""Figures and tables of the book, drawn with seaborn from the tidy tables of the claims.

Shared style and the claim table live here; each chapter's figures live in a module of its own
(``plotting.reparametrization``, ``plotting.ols``, ``plotting.halfspace``) and are re-exported.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Iterable

import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..claims.core import Outcome, outcome_table

STATUS_COLOURS = {"pass": "#d9f2d9", "expected failure": "#fff1cc", "fail": "#f8d0d0"}


def setup() -> None:
    """The book's figure style (a seaborn theme and a readable default size)."""
    sns.set_theme(context="notebook", style="whitegrid", rc={"figure.figsize": (7.0, 4.2), "figure.dpi": 96})


class ClaimTable:
    """A claim table that renders as coloured HTML in the book and as plain text elsewhere (PDF).

    Parameters
    ----------
    table : DataFrame
        Columns ``claim`` (HTML), ``id``, ``observed``, ``relation``, ``theory``, ``tolerance``,
        ``source``, ``status``.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.styler = styled_claims(table)
        self.plain = table[["id", "observed", "relation", "theory", "status"]]

    def _repr_html_(self) -> str:
        return self.styler.to_html()

    def __repr__(self) -> str:
        text = self.plain.to_string(index=False, float_format=lambda x: f"{x:.4g}")
        return text.replace("≈", "~=")  # plain ASCII for pdflatex

    def _repr_markdown_(self) -> str:
        """A Markdown table: what the PDF shows (a real table; the HTML view takes the coloured HTML)."""
        relations = {"<=": r"$\le$", ">=": r"$\ge$", "≈": r"$\approx$", "==": "$=$"}
        rows = ["| claim | observed | rel. | theory | status |", "|:--|--:|:-:|--:|:--|"]
        rows += [f"| `{row.id}` | {row.observed:.4g} | {relations.get(row.relation, row.relation)} "
                 f"| {row.theory:.4g} | {row.status} |" for row in self.plain.itertuples(index=False)]
        return "\n".join(rows)


def styled_claims(table: pd.DataFrame) -> Styler:
    """Format a claim table whose ``claim`` column is HTML: short numbers, rows coloured by status.

    ``table`` has the columns ``claim, observed, relation, theory, tolerance, source, status``.
    """
    table = table[["claim", "observed", "relation", "theory", "tolerance", "source", "status"]].rename(
        columns={"relation": "rel.", "tolerance": "tol.", "source": "src"})
    return (
        table.style.hide(axis="index")
        .format({"observed": "{:.4g}", "theory": "{:.4g}", "tol.": "{:.0e}"})
        .set_properties(subset=["claim"], **{"text-align": "left", "min-width": "14em"})
        .set_table_styles([{"selector": "", "props": "font-size: 0.85em;"}])
        .apply(lambda row: [f"background-color: {STATUS_COLOURS[row['status']]}"] * len(row), axis=1)
    )


def claim_table(outcomes: Iterable[Outcome]) -> ClaimTable:
    """The chapter's claim table: id and statement in one column, then the numbers and the status."""
    table = outcome_table(outcomes).reset_index().rename(columns={"claim": "id"})
    table["claim"] = [f"<b>{html.escape(c)}</b><br><small>{html.escape(s)}</small>"
                      for c, s in zip(table["id"], table["statement"], strict=True)]
    return ClaimTable(table)


FIGURES = {
    "minibatch_figure": "reparametrization",
    "log_gap_figure": "ols",
    "contraction_figure": "ols",
    "negative_control_figure": "ols",
    "race_figure": "halfspace",
    "iterations_figure": "halfspace",
    "split_figure": "halfspace",
    "landscape_figure": "halfspace",
}
"""Figure functions re-exported here, by the chapter module that defines them (imported on use)."""


def __getattr__(name: str) -> object:
    """Import a chapter's figure module only when one of its figures is asked for (PEP 562)."""
    if name in FIGURES:
        return getattr(importlib.import_module(f"{__name__}.{FIGURES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FIGURES",
    "STATUS_COLOURS",
    "ClaimTable",
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
    "styled_claims",
]
