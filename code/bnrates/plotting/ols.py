"""Figures of the chapter \"Ordinary least squares: the warm-up\"."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure


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
    ax.set(yscale="log", xlabel=r"iteration $t\,/\,\kappa$", ylabel=r"$(\rho(w_t)-\rho^*) / (\rho(w_0)-\rho^*)$")
    ax.legend(title=r"$\kappa$ (dashed: bound $(1-\mu/L)^{2t}$)")
    return fig


def contraction_figure(summary: pd.DataFrame) -> Figure:
    """Measured late contraction factor against the theorem's ``(1 - 1/kappa)^2``, every instance."""
    fig, ax = plt.subplots()
    sns.scatterplot(data=summary, x="bound", y="fitted", hue="kappa", style="d", palette="viridis", ax=ax, alpha=0.8)
    lo = min(summary["fitted"].min(), summary["bound"].min()) * 0.9
    ax.plot([lo, 1], [lo, 1], "k--", lw=1, label="equal to the bound")
    ax.set(
        xlabel=r"theorem's factor $(1-\mu/L)^2$",
        ylabel="measured late factor per step",
        xlim=(lo, 1.01),
        ylim=(lo, 1.01),
    )
    ax.legend(fontsize="small")
    return fig


def negative_control_figure(theorem: pd.DataFrame, naive: pd.DataFrame) -> Figure:
    """Per-step ratio over the bound for the theorem's step and the step without the factor 2."""
    data = pd.concat(
        [theorem.assign(step=r"$\|w\|_S^2/(2L|\rho|)$"), naive.assign(step=r"$\|w\|_S^2/(L|\rho|)$ (no factor 2)")],
        ignore_index=True,
    )
    grid = sns.relplot(
        data=data.dropna(subset=["ratio_to_bound"]),
        x="iteration",
        y="ratio_to_bound",
        hue="step",
        col="kappa",
        kind="line",
        height=3.2,
        aspect=0.9,
        facet_kws={"sharex": False},
    )
    for ax in grid.axes.flat:
        ax.axhline(1.0, color="k", ls="--", lw=1)
    grid.set_axis_labels("iteration $t$", "per-step ratio / $(1-\\mu/L)^2$")
    return grid.figure
