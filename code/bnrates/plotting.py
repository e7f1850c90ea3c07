"""Figures and tables of the book, drawn with seaborn from the tidy tables of the claims."""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from .claims.core import Outcome, outcome_table

STATUS_COLOURS = {"pass": "#d9f2d9", "expected failure": "#fff1cc", "fail": "#f8d0d0"}


def setup() -> None:
    """The book's figure style (a seaborn theme and a readable default size)."""
    sns.set_theme(context="notebook", style="whitegrid", rc={"figure.figsize": (7.0, 4.2), "figure.dpi": 96})


def claim_table(outcomes: Iterable[Outcome]) -> Styler:
    """The chapter's claim table, numbers in short scientific form, rows coloured by status."""
    table = outcome_table(outcomes)
    return (
        table.style.format({"observed": "{:.4g}", "theory": "{:.4g}", "tolerance": "{:.0e}"})
        .apply(lambda row: [f"background-color: {STATUS_COLOURS[row['status']]}"] * len(row), axis=1)
    )


def minibatch_figure(data: pd.DataFrame) -> Figure:
    """Relative RMS gap of mini-batch BN vs batch size, log-log, with the ``m^{-1/2}`` guide."""
    fig, ax = plt.subplots()
    sns.lineplot(data=data, x="batch_size", y="relative_rms_error", marker="o", errorbar=("pi", 100), ax=ax,
                 label="mini-batch BN (band: 4 directions)")
    m = np.array(sorted(data["batch_size"].unique()), dtype=float)
    first = data[data["batch_size"] == m[0]]["relative_rms_error"].mean()
    ax.plot(m, first * np.sqrt(m[0] / m), "k--", label=r"$\propto m^{-1/2}$")
    ax.set(xscale="log", yscale="log", xlabel="batch size $m$",
           ylabel=r"relative RMS gap to $x^\top \tilde w$")
    ax.legend()
    return fig


def log_gap_figure(history: pd.DataFrame) -> Figure:
    """``(rho_t - rho*) / (rho_0 - rho*)`` against ``t / kappa`` for each ``kappa``, with the bound.

    In units of ``kappa`` iterations the bound ``(1 - 1/kappa)^{2t}`` is close to ``exp(-2 t / kappa)``
    for every ``kappa``, so the curves can share one axis.
    """
    data = history.assign(scaled=history["iteration"] / history["kappa"])
    fig, ax = plt.subplots()
    palette = sns.color_palette("viridis", data["kappa"].nunique())
    sns.lineplot(data=data, x="scaled", y="gap_rel", hue="kappa", palette=palette, ax=ax)
    for colour, (_, group) in zip(palette, data.groupby("kappa"), strict=True):
        t = group["iteration"].to_numpy()
        ax.plot(group["scaled"], group["bound"].iloc[0] ** t, ls="--", color=colour, lw=1)
    ax.set(yscale="log", xlabel=r"iteration $t\,/\,\kappa$",
           ylabel=r"$(\rho(w_t)-\rho^*) / (\rho(w_0)-\rho^*)$")
    ax.legend(title=r"$\kappa$ (dashed: bound $(1-\mu/L)^{2t}$)")
    return fig


def contraction_figure(summary: pd.DataFrame) -> Figure:
    """Measured late contraction factor against the theorem's ``(1 - 1/kappa)^2``, every instance."""
    fig, ax = plt.subplots()
    sns.scatterplot(data=summary, x="bound", y="fitted", hue="kappa", style="d", palette="viridis", ax=ax,
                    alpha=0.8)
    lo = min(summary["fitted"].min(), summary["bound"].min()) * 0.9
    ax.plot([lo, 1], [lo, 1], "k--", lw=1, label="equal to the bound")
    ax.set(xlabel=r"theorem's factor $(1-\mu/L)^2$", ylabel="measured late factor per step",
           xlim=(lo, 1.01), ylim=(lo, 1.01))
    ax.legend(fontsize="small")
    return fig


def negative_control_figure(theorem: pd.DataFrame, naive: pd.DataFrame) -> Figure:
    """Per-step ratio over the bound for the theorem's step and the step without the factor 2."""
    data = pd.concat([theorem.assign(step=r"$\|w\|_S^2/(2L|\rho|)$"),
                      naive.assign(step=r"$\|w\|_S^2/(L|\rho|)$ (no factor 2)")], ignore_index=True)
    grid = sns.relplot(data=data.dropna(subset=["ratio_to_bound"]), x="iteration", y="ratio_to_bound",
                       hue="step", col="kappa", kind="line", height=3.2, aspect=0.9,
                       facet_kws={"sharex": False})
    for ax in grid.axes.flat:
        ax.axhline(1.0, color="k", ls="--", lw=1)
    grid.set_axis_labels("iteration $t$", "per-step ratio / $(1-\\mu/L)^2$")
    return grid.figure
