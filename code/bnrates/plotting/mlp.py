"""Figures of the chapter "Neural networks with one hidden layer" (paper Sec. 5, book: lem-mlp-critical)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure


def unit_rate_figure(history: pd.DataFrame, rounds: pd.DataFrame) -> Figure:
    """Left: ``rho(w_t) - rho*`` of per-unit GDNP in three settings with the bound. Right: rounds."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.9), layout="constrained")
    data = history[history["instance"] == 0]
    sns.lineplot(data=data, x="iteration", y="gap", hue="setting", marker=".", ax=left)
    for _, part in data.groupby("setting"):
        left.plot(part["iteration"], part["bound"], color="grey", lw=0.8, ls="--")
    left.set(yscale="log", xlabel="GDNP step $t$ of the unit", ylabel=r"$\rho(w_t) - \rho^*$")
    left.legend(fontsize="small", title=None)
    sns.lineplot(data=rounds, x="round", y="grad_norm_sq", hue="instance", marker="o", ax=right, legend=False)
    right.set(yscale="log", xlabel="round $r$", ylabel=r"$\sum_i \|\nabla_{\tilde w_i} f\|^2_{S^{-1}}$")
    return fig


def cosine_figure(data: pd.DataFrame) -> Figure:
    """``1 - |cos|`` between the unit's direction gradient and ``grad rho`` along the run, linear vs logistic."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    sns.lineplot(data=data[data["instance"] == 0], x="iteration", y="one_minus_cos", hue="outer", marker=".", ax=ax)
    ax.set(yscale="log", xlabel="GDNP step $t$ of unit 2", ylabel=r"$1 - |\cos(\nabla_{w} f, \nabla\rho)|$")
    ax.legend(title="outer loss")
    return fig


def path_figure(data: pd.DataFrame) -> Figure:
    """Loss change along the segment from the aligned saddle (``s = 0``) to the non-aligned point (``s = 1``)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    sns.lineplot(data=data, x="s", y="loss_change", ax=ax)
    ax.axvline(0, color="grey", ls="--", lw=0.8)
    ax.axvline(1, color="grey", ls="--", lw=0.8)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set(
        xlabel=r"$s$ in $(1-s)\,\tilde W_{\rm aligned} + s\,\tilde W_{\rm non-aligned}$",
        ylabel=r"$f - f(\tilde W_{\rm aligned})$",
    )
    return fig
