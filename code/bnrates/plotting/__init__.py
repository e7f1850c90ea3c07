"""Figures and tables of the book, drawn with seaborn from the tidy tables of the claims.

Shared style and the claim table live here; each chapter's figures live in a module of its own
(``plotting.reparametrization``, ``plotting.ols``, ``plotting.halfspace``) and are re-exported.
"""

from __future__ import annotations

import html
import importlib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..claims.core import Outcome, outcome_table

METHOD_PALETTE = {"GD": "#4c72b0", "AGD": "#dd8452", "GDNP": "#55a868"}
"""One colour per algorithm, the same in every chapter's figures."""
STATUS_COLOURS = {"pass": "#d9f2d9", "expected failure": "#fff1cc", "fail": "#f8d0d0"}


def setup() -> None:
    """The book's figure style (a seaborn theme and a readable default size)."""
    sns.set_theme(context="notebook", style="whitegrid", rc={"figure.figsize": (7.0, 4.2), "figure.dpi": 96})


class ClaimTable:
    """A claim table that renders as coloured HTML in the book and as plain text elsewhere (PDF).

    Parameters
    ----------
    table : DataFrame
        Columns ``claim`` (HTML), ``id``, ``observed``, ``relation``, ``theory``, ``pass_mark``,
        ``tolerance``, ``source``, ``status`` (``pass_mark`` may be absent in old results).
    """

    def __init__(self, table: pd.DataFrame) -> None:
        if "pass_mark" not in table:
            table = table.assign(pass_mark=None)
        self.styler = styled_claims(table)
        self.plain = table[["id", "observed", "relation", "theory", "pass_mark", "status"]]

    def _repr_html_(self) -> str:
        return self.styler.to_html()

    def __repr__(self) -> str:
        text = self.plain.to_string(index=False, float_format=lambda x: f"{x:.4g}")
        return text.replace("≈", "~=")  # plain ASCII for pdflatex

    def _repr_markdown_(self) -> str:
        """A Markdown table: what the PDF shows (a real table; the HTML view takes the coloured HTML)."""
        relations = {"<=": r"$\le$", ">=": r"$\ge$", "≈": r"$\approx$", "==": "$=$"}
        rows = ["| claim | observed | rel. | theory | status |", "|:--|--:|:-:|--:|:--|"]
        rows += [
            f"| `{row.id}` | {row.observed:.4g} | {relations.get(row.relation, row.relation)} "
            f"| {row.theory:.4g} | {row.status} |"
            for row in self.plain.itertuples(index=False)
        ]
        return "\n".join(rows)


def styled_claims(table: pd.DataFrame) -> Styler:
    """Format a claim table whose ``claim`` column is HTML: short numbers, rows coloured by status.

    ``table`` has the columns ``claim, observed, relation, theory, pass_mark, tolerance, source,
    status``; a missing theory value or pass mark shows as a dash.
    """
    columns = ["claim", "observed", "relation", "theory", "pass_mark", "tolerance", "source", "status"]
    table = table[columns + (["can fail"] if "can fail" in table else [])].rename(
        columns={"relation": "rel.", "pass_mark": "pass mark", "tolerance": "tol.", "source": "src"}
    )
    table = table.astype({"theory": float, "pass mark": float})
    return (
        table.style.hide(axis="index")
        .format({"observed": "{:.4g}", "theory": "{:.4g}", "pass mark": "{:.4g}", "tol.": "{:.0e}"}, na_rep="–")
        .set_properties(subset=["claim"], **{"text-align": "left", "min-width": "14em"})
        .set_table_styles([{"selector": "", "props": "font-size: 0.85em;"}])
        .apply(lambda row: [f"background-color: {STATUS_COLOURS[row['status']]}"] * len(row), axis=1)
    )


def folded_source(summary: str, source: str) -> str:
    """``source`` as a collapsed HTML block (``<details>``) whose toggle reads ``summary``."""
    return (
        f"<details><summary><small>{html.escape(summary)}</small></summary>"
        f'<pre style="text-align: left; font-size: 0.8em">{html.escape(source)}</pre></details>'
    )


@dataclass(frozen=True)
class SourceBlock:
    """A function's source, collapsed in the book (HTML), as a code listing in the PDF (Markdown).

    Attributes
    ----------
    summary
        What the toggle (and the PDF's heading line) reads, e.g. ``the driver of ols.rate``.
    source
        The source code.
    """

    summary: str
    source: str

    def _repr_html_(self) -> str:
        return folded_source(self.summary, self.source)

    def _repr_markdown_(self) -> str:
        return f"*{self.summary}*\n\n```python\n{self.source.rstrip()}\n```\n"

    def __repr__(self) -> str:
        return f"{self.summary}:\n{self.source}"


def claim_cell(claim_id: str, statement: str, label: str, href: str = "", source: str = "") -> str:
    """The HTML of a claim's first column: its id linked to the statement it checks, the statement,
    and (collapsed) the source of the function that computed it."""
    link = f'<a href="{html.escape(href)}#{html.escape(label)}">' if label else "<a>"
    cell = f"{link}<b>{html.escape(claim_id)}</b></a><br><small>{html.escape(statement)}</small>"
    if source:
        cell += folded_source("source", source)
    return cell


def claim_table(outcomes: Iterable[Outcome]) -> ClaimTable:
    """The chapter's claim table: id (linked to its statement), statement and source, then the numbers."""
    outcomes = list(outcomes)
    table = outcome_table(outcomes).reset_index().rename(columns={"claim": "id"})
    table["claim"] = [
        claim_cell(o.claim.id, o.claim.statement, o.claim.label, source=inspect.getsource(o.claim.compute))
        for o in outcomes
    ]
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
    "speedup_figure": "acceleration",
    "frontier_figure": "acceleration",
    "theory_figure": "acceleration",
}
"""Figure functions re-exported here, by the chapter module that defines them (imported on use)."""


def __getattr__(name: str) -> object:
    """Import a chapter's figure module only when one of its figures is asked for (PEP 562)."""
    if name in FIGURES:
        return getattr(importlib.import_module(f"{__name__}.{FIGURES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FIGURES",
    "METHOD_PALETTE",
    "STATUS_COLOURS",
    "ClaimTable",
    "SourceBlock",
    "claim_table",
    "contraction_figure",
    "frontier_figure",
    "iterations_figure",
    "landscape_figure",
    "log_gap_figure",
    "minibatch_figure",
    "negative_control_figure",
    "race_figure",
    "setup",
    "speedup_figure",
    "split_figure",
    "styled_claims",
    "theory_figure",
]
