"""Figures of the chapter "Experiments: beyond Gaussian inputs" (seaborn, bands over seeds)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from . import METHOD_PALETTE

KIND_PALETTE = {"plain": "#4c72b0", "bn": "#c44e52", "gdnp": "#55a868"}


def _median_panels(
    data: pd.DataFrame, x: str, hue: str, palette: dict[str, str], panels: tuple[tuple[str, str], ...], xlabel: str
) -> Figure:
    """One log-scale panel per ``(column, y label)`` of ``panels``: the median per ``hue``, band min-max."""
    fig, axes = plt.subplots(1, len(panels), figsize=(10.0, 3.8), layout="constrained")
    for ax, (col, label) in zip(axes, panels, strict=True):
        sns.lineplot(
            data=data,
            x=x,
            y=col,
            hue=hue,
            palette=palette,
            errorbar=("pi", 100),
            estimator="median",
            ax=ax,
            legend=ax is axes[0],
        )
        ax.set(yscale="log", xlabel=xlabel, ylabel=label)
    return fig


def real_halfspace_figure(history: pd.DataFrame) -> Figure:
    """Suboptimality ``f(w~_t) - f*`` and ``||grad f||^2_{S^-1}`` per iteration; bands: min-max over starts."""
    data = history.assign(
        suboptimality=history["suboptimality"].clip(lower=1e-17), grad_norm_sq=history["grad_norm_sq"].clip(lower=1e-30)
    )
    return _median_panels(
        data,
        "iteration",
        "method",
        METHOD_PALETTE,
        (("suboptimality", r"$f(\tilde w_t) - f^*$"), ("grad_norm_sq", r"$\|\nabla f(\tilde w_t)\|^2_{S^{-1}}$")),
        "iteration $t$",
    )


def network_figure(runs: pd.DataFrame) -> Figure:
    """Full-data training loss and gradient norm of the three networks; bands: min-max over seeds."""
    return _median_panels(
        runs,
        "iteration",
        "kind",
        KIND_PALETTE,
        (("loss", "training loss (full data)"), ("grad_norm", "gradient norm (full data)")),
        "SGD iteration",
    )


def minibatch_figure(data: pd.DataFrame) -> Figure:
    """RMS distance between batch-statistics BN and the population reparametrization vs batch size."""
    fig, ax = plt.subplots(figsize=(5.6, 3.8), layout="constrained")
    sns.lineplot(data=data, x="batch_size", y="rms", marker="o", errorbar=("pi", 100), ax=ax, label="measured")
    b = np.array(sorted(data["batch_size"].unique()), dtype=float)
    anchor = data[data["batch_size"] == b[-1]]["rms"].median()
    ax.plot(b, anchor * np.sqrt(b[-1] / b), "k--", lw=1, label=r"$\propto b^{-1/2}$")
    ax.set(xscale="log", yscale="log", xlabel="batch size $b$", ylabel="RMS of BN$_b$ − population")
    ax.legend()
    return fig


def bngd_figure(data: pd.DataFrame) -> Figure:
    """Vanilla BN-GD on OLS: relative gap and effective step ``lr_w / ||w_t||^2_S`` for each ``lr_w``."""
    data = data.assign(gap=data["gap"].clip(lower=1e-30), lr=data["lr_w"].map(lambda x: f"{x:.0e}"))
    order = [f"{x:.0e}" for x in sorted(data["lr_w"].unique())]
    palette = dict(zip(order, sns.color_palette("viridis", len(order)), strict=True))
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained")
    for ax, col, label in (
        (axes[0], "gap", r"$(f - f^*)/|f^*|$"),
        (axes[1], "effective_step", r"effective step $\eta_w / \|w_t\|^2_S$"),
    ):
        sns.lineplot(
            data=data,
            x="iteration",
            y=col,
            hue="lr",
            hue_order=order,
            palette=palette,
            errorbar=("pi", 100),
            estimator="median",
            ax=ax,
            legend=ax is axes[1],
        )
        ax.set(yscale="log", xlabel="iteration $t$", ylabel=label)
    axes[1].set_xscale("symlog", linthresh=10)  # resolves the first steps, where large rates inflate ||w||
    axes[1].set_xlim(left=0)
    axes[1].legend(title=r"$\eta_w$", fontsize="small", ncols=2)
    return fig


BENCHOPT_PALETTE = {
    "GD": "#4c72b0",
    "AGD": "#dd8452",
    "GDNP (bisection)": "#55a868",
    "GDNP (newton)": "#2f6b3a",
    "BN-GD": "#c44e52",
    "sklearn-lbfgs": "#222222",
}


def benchopt_figure(table: pd.DataFrame, datasets: tuple[str, ...] = ("breast_cancer", "digits")) -> Figure:
    """The benchopt run on real data: suboptimality and ``||grad f||^2_{S^-1}`` against iterations and time.

    One row of four panels per dataset; ``table`` from :func:`bnrates.claims.experiments.benchopt_table`
    (columns ``dataset``, ``label``, ``stop_val``, ``time``, ``objective_suboptimality``,
    ``objective_grad_norm_sq``). Values are clipped at ``1e-17`` and ``1e-30`` for the log scale; the
    points of a curve are joined in the order of their iterations (a run's time is noisy).
    """
    data = (
        table[table["dataset"].isin(datasets)]
        .sort_values(["solver_name", "stop_val"])
        .assign(
            suboptimality=table["objective_suboptimality"].clip(lower=1e-17),
            grad_norm_sq=table["objective_grad_norm_sq"].clip(lower=1e-30),
        )
    )
    fig, axes = plt.subplots(len(datasets), 4, figsize=(13.0, 3.1 * len(datasets)), layout="constrained", squeeze=False)
    panels = (
        ("stop_val", "suboptimality", "iterations", r"$f(\tilde w) - f^*$"),
        ("time", "suboptimality", "time (s)", r"$f(\tilde w) - f^*$"),
        ("stop_val", "grad_norm_sq", "iterations", r"$\|\nabla f(\tilde w)\|^2_{S^{-1}}$"),
        ("time", "grad_norm_sq", "time (s)", r"$\|\nabla f(\tilde w)\|^2_{S^{-1}}$"),
    )
    for row, dataset in zip(axes, datasets, strict=True):
        subset = data[data["dataset"] == dataset]
        for ax, (x, y, xlabel, ylabel) in zip(row, panels, strict=True):
            sns.lineplot(
                data=subset,
                x=x,
                y=y,
                hue="label",
                palette=BENCHOPT_PALETTE,
                marker=".",
                ax=ax,
                legend=ax is axes[0, 0],
                estimator=None,
                sort=False,
            )
            ax.set(yscale="log", xscale="symlog" if x == "stop_val" else "log", xlabel=xlabel, ylabel=ylabel)
            if x == "stop_val":
                ax.set_xlim(left=0)
        row[0].set_title(dataset.replace("_", " "), loc="left")
    axes[0, 0].legend(fontsize="small", title=None)
    return fig


BENCHOPT_SUMMARY = {"lbfgs": "sklearn-lbfgs", "gdnp": "GDNP (bisection)", "newton": "GDNP (newton)", "agd": "AGD"}
"""The solvers the chapter's prose compares, by the short name of their numbers (``label`` in the table)."""


def benchopt_summary(table: pd.DataFrame, dataset: str = "breast_cancer") -> dict[str, float]:
    """Each compared solver's last point on ``dataset``: ``<solver>_time`` (s) and ``<solver>_suboptimality``.

    ``table`` is :func:`bnrates.claims.experiments.benchopt_table`; the last point is the one with
    the largest ``stop_val`` (benchopt re-runs a solver from scratch for each point).
    """
    final = table.sort_values("stop_val").groupby(["dataset", "label"]).last()
    numbers = {}
    for short, label in BENCHOPT_SUMMARY.items():
        numbers[f"{short}_time"] = float(final.loc[(dataset, label), "time"])
        numbers[f"{short}_suboptimality"] = float(final.loc[(dataset, label), "objective_suboptimality"])
    return numbers
