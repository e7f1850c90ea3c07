"""Figures and tables of the book, drawn with seaborn from the tidy tables of the claims."""

from __future__ import annotations

import html
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


METHOD_PALETTE = {"GD": "#4c72b0", "AGD": "#dd8452", "GDNP": "#55a868"}


def race_figure(history: pd.DataFrame) -> Figure:
    """``||grad f||^2_{S^-1}`` per iteration for GD, AGD and GDNP, weakest and strongest signal."""
    snrs = sorted(history["snr"].unique())
    data = history[history["snr"].isin([snrs[0], snrs[-1]])]
    grid = sns.relplot(data=data, x="iteration", y="grad_norm_sq", hue="method", col="snr", kind="line",
                       palette=METHOD_PALETTE, height=3.4, aspect=1.0, facet_kws={"sharex": False})
    grid.set(yscale="log")
    grid.set_axis_labels("iteration $t$", r"$\|\nabla f(\tilde w_t)\|^2_{S^{-1}}$")
    grid.set_titles(r"$u^\top S^{{-1}} u$ = {col_name}")
    return grid.figure


def iterations_figure(iterations: pd.DataFrame) -> Figure:
    """Iterations to the gradient tolerance against separability (left) and ``kappa(S)`` (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8), sharey=True, layout="constrained")
    for ax, sweep, x, label in ((left, "separability", "snr", r"separability $u^\top S^{-1} u$ ($\kappa = 10$)"),
                                (right, "conditioning", "kappa", r"$\kappa(S)$ (weakest signal)")):
        data = iterations[iterations["sweep"] == sweep]
        sns.lineplot(data=data, x=x, y="iterations", hue="method", palette=METHOD_PALETTE, marker="o",
                     errorbar=("pi", 100), ax=ax, legend=ax is left)
        ax.set(yscale="log", xlabel=label, ylabel="iterations to tolerance")
    right.set_xscale("log")
    return fig


def split_figure(data: pd.DataFrame, instance: int = 0) -> Figure:
    """GDNP's squared gradient norm, its direction and length parts, and the theorem's bound."""
    parts = data[data["instance"] == instance].melt(
        id_vars=["iteration", "T_s"], value_vars=["grad_norm_sq", "direction", "length", "bound"],
        var_name="quantity", value_name="value")
    parts = parts[parts["value"] > 0]
    grid = sns.relplot(data=parts, x="iteration", y="value", hue="quantity", style="quantity", col="T_s",
                       kind="line", height=3.4, aspect=0.9,
                       dashes={"grad_norm_sq": "", "direction": (4, 2), "length": (1, 1), "bound": (6, 2)})
    grid.set(yscale="log")
    grid.set_axis_labels("GDNP iteration $T_d$", r"squared norm in $S^{-1}$")
    grid.set_titles(r"$T_s$ = {col_name}")
    return grid.figure


def landscape_figure(grid: pd.DataFrame, line: np.ndarray, minimiser: np.ndarray, paths: pd.DataFrame) -> Figure:
    """Contours of ``f(w~)`` in two dimensions with the line ``S^{-1} u`` and GD/GDNP paths."""
    n = int(np.sqrt(len(grid)))
    w1 = grid["w1"].to_numpy().reshape(n, n)
    w2 = grid["w2"].to_numpy().reshape(n, n)
    f = grid["f"].to_numpy().reshape(n, n)
    fig, ax = plt.subplots(figsize=(5.6, 5.2), layout="constrained")
    contour = ax.contour(w1, w2, f, levels=20, cmap="viridis", linewidths=0.8)
    fig.colorbar(contour, ax=ax, label=r"$f(\tilde w)$")
    reach = np.abs(w1).max()
    ax.plot([-reach * line[0], reach * line[0]], [-reach * line[1], reach * line[1]], "k--", lw=1,
            label=r"line $S^{-1}u$")
    for method, path in paths.groupby("method"):
        ax.plot(path["w1"], path["w2"], marker=".", color=METHOD_PALETTE[method], label=method)
    ax.plot(*minimiser, "r*", ms=14, label="minimiser")
    ax.set(xlim=(w1.min(), w1.max()), ylim=(w2.min(), w2.max()), xlabel=r"$\tilde w_1$", ylabel=r"$\tilde w_2$",
           aspect="equal")
    ax.legend(loc="lower left", fontsize="small")
    return fig
