"""Figures of the chapter \"Learning halfspaces\"."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from . import METHOD_PALETTE


def race_figure(history: pd.DataFrame) -> Figure:
    """``||grad f||^2_{S^-1}`` per iteration for GD, AGD and GDNP, weakest and strongest signal."""
    separabilities = sorted(history["separability"].unique())
    data = history[history["separability"].isin([separabilities[0], separabilities[-1]])]
    grid = sns.relplot(
        data=data,
        x="iteration",
        y="grad_norm_sq",
        hue="method",
        col="separability",
        kind="line",
        palette=METHOD_PALETTE,
        height=3.4,
        aspect=1.0,
        facet_kws={"sharex": False},
    )
    grid.set(yscale="log")
    grid.set_axis_labels("iteration $t$", r"$\|\nabla f(\tilde w_t)\|^2_{S^{-1}}$")
    grid.set_titles(r"$u^\top S^{{-1}} u$ = {col_name}")
    return grid.figure


def iterations_figure(iterations: pd.DataFrame) -> Figure:
    """Iterations to the gradient tolerance against separability (left) and ``kappa(S)`` (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8), sharey=True, layout="constrained")
    sep_label = r"separability $u^\top S^{-1} u$ ($\kappa = 10$)"
    for ax, sweep, x, label in (
        (left, "separability", "separability", sep_label),
        (right, "conditioning", "kappa", r"$\kappa(S)$ (weakest signal)"),
    ):
        data = iterations[iterations["sweep"] == sweep]
        sns.lineplot(
            data=data,
            x=x,
            y="iterations",
            hue="method",
            palette=METHOD_PALETTE,
            marker="o",
            errorbar=("pi", 100),
            ax=ax,
            legend=ax is left,
        )
        ax.set(yscale="log", xlabel=label, ylabel="iterations to tolerance")
    right.set_xscale("log")
    return fig


def split_figure(data: pd.DataFrame, instance: int = 0) -> Figure:
    """GDNP's squared gradient norm, its direction and length parts, and the theorem's bound."""
    parts = data[data["instance"] == instance].melt(
        id_vars=["iteration", "T_s"],
        value_vars=["grad_norm_sq", "direction", "length", "bound"],
        var_name="quantity",
        value_name="value",
    )
    parts = parts[parts["value"] > 0]
    grid = sns.relplot(
        data=parts,
        x="iteration",
        y="value",
        hue="quantity",
        style="quantity",
        col="T_s",
        kind="line",
        height=3.4,
        aspect=0.9,
        dashes={"grad_norm_sq": "", "direction": (4, 2), "length": (1, 1), "bound": (6, 2)},
    )
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
    ax.plot(
        [-reach * line[0], reach * line[0]], [-reach * line[1], reach * line[1]], "k--", lw=1, label=r"line $S^{-1}u$"
    )
    for method, path in paths.groupby("method"):
        ax.plot(path["w1"], path["w2"], marker=".", color=METHOD_PALETTE[method], label=method)
    ax.plot(*minimiser, "r*", ms=14, label="minimiser")
    ax.set(
        xlim=(w1.min(), w1.max()),
        ylim=(w2.min(), w2.max()),
        xlabel=r"$\tilde w_1$",
        ylabel=r"$\tilde w_2$",
        aspect="equal",
    )
    ax.legend(loc="lower left", fontsize="small")
    return fig
