"""Figures of the chapter "Where decoupling pays off"."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from pandas.io.formats.style import Styler

from ..acceleration import SEED_AXES
from ..tuning import GRIDS_OF

WINNER_COLOURS = {
    "GD": "#4c72b0",
    "AGD": "#dd8452",
    "GDNP": "#55a868",
    "BN-GD": "#8172b3",
    "L-BFGS": "#c44e52",
    "none": "#dddddd",
}


def _grid(data: pd.DataFrame, value: str) -> pd.DataFrame:
    """``value`` as a (kappa x separability) table, largest kappa on top, averaged over seeds."""
    table = data.pivot_table(index="kappa", columns="separability", values=value, aggfunc="median")
    return table.sort_index(ascending=False)


def _label_axes(ax, table: pd.DataFrame, left: bool) -> None:
    ax.set_xticks(np.arange(table.shape[1]) + 0.5, [f"{s:g}" for s in table.columns], rotation=90)
    ax.set_yticks(np.arange(table.shape[0]) + 0.5, [f"{k:g}" for k in table.index], rotation=0)
    ax.set_xlabel(r"separability $u^\top S^{-1} u$")
    ax.set_ylabel(r"$\kappa(S)$" if left else "")


def speedup_figure(speedups: dict[str, pd.DataFrame], loss: str = "logistic") -> Figure:
    """Heatmaps of ``log10`` of GDNP's speed-up over each baseline (rows) per ``d`` (columns).

    With a single ``d`` (the quick grid) the baselines stand side by side in one row.

    Cells where both runs hit the cap are blank (no information); ``>`` marks lower bounds (the
    baseline hit the cap, GDNP did not).
    """
    ds = sorted(next(iter(speedups.values()))["d"].unique())
    # one d (the quick grid): the baselines side by side, so that the figure is not a tall column
    panels = [(baseline, d) for baseline in speedups for d in ds]
    nrows, ncols = (1, len(speedups)) if len(ds) == 1 else (len(speedups), len(ds))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols + 1.0, 3.0 * nrows), squeeze=False, layout="constrained"
    )
    for k, (baseline, d) in enumerate(panels):
        row, col = divmod(k, ncols)
        data = speedups[baseline]
        sub = data[(data["d"] == d) & (data["loss"] == loss)].assign(
            log_speedup=lambda x: np.log10(x["speedup"].where(~x["both_censored"]))
        )
        table = _grid(sub, "log_speedup")
        bound = _grid(sub.assign(lb=sub["lower_bound"].astype(float)), "lb").reindex_like(table)
        ax = axes[row, col]
        sns.heatmap(
            table,
            ax=ax,
            cmap="RdBu",
            center=0.0,
            vmin=-2,
            vmax=2,
            cbar=col == ncols - 1,
            cbar_kws={"label": "log10 speed-up"},
            linewidths=0.3,
            linecolor="white",
        )
        for (i, j), lb in np.ndenumerate(bound.to_numpy()):
            if lb > 0.5:
                ax.text(j + 0.5, i + 0.5, ">", ha="center", va="center", fontsize=7)
        _label_axes(ax, table, col == 0)
        ax.set_title(f"GDNP vs {baseline}, d = {d}")
    return fig


def frontier_figure(races: dict[str, pd.DataFrame], loss: str = "logistic") -> Figure:
    """The method with the fewest iterations in every cell of the map: one row per race, one column per ``d``.

    ``races`` maps a title (``"all five"``, ``"without L-BFGS"``) to a table of winners
    (:func:`bnrates.claims.acceleration.winners`).
    """
    ds = sorted(next(iter(races.values()))["d"].unique())
    names = list(WINNER_COLOURS)
    cmap = ListedColormap([WINNER_COLOURS[n] for n in names])
    norm = BoundaryNorm(np.arange(len(names) + 1) - 0.5, len(names))
    fig, axes = plt.subplots(
        len(races), len(ds), figsize=(3.6 * len(ds) + 1.5, 3.2 * len(races)), squeeze=False, layout="constrained"
    )
    for row, (title, winners) in enumerate(races.items()):
        for col, d in enumerate(ds):
            sub = winners[(winners["d"] == d) & (winners["loss"] == loss)]
            codes = sub.assign(code=sub["winner"].map(names.index))
            table = codes.pivot_table(index="kappa", columns="separability", values="code", aggfunc="first").sort_index(
                ascending=False
            )
            ax = axes[row, col]
            sns.heatmap(table, ax=ax, cmap=cmap, norm=norm, cbar=False, linewidths=0.3, linecolor="white")
            _label_axes(ax, table, col == 0)
            ax.set_title(f"{title}, d = {d}")
    fig.legend(
        handles=[Patch(color=WINNER_COLOURS[n], label=n) for n in names], loc="outside right center", fontsize="small"
    )
    return fig


def theory_figure(gd_runs: pd.DataFrame, gdnp_runs: pd.DataFrame) -> Figure:
    """Left: GD's iterations against ``g*``. Right: GDNP's iterations against the theorem's count."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 4.0), layout="constrained")
    sns.lineplot(
        data=gd_runs.assign(kappa=gd_runs["kappa"].map("{:g}".format)),
        x="g_star",
        y="iterations",
        hue="kappa",
        style="loss",
        marker="o",
        errorbar=None,
        ax=left,
    )
    left.set(
        xscale="log",
        yscale="log",
        xlabel=r"optimal length $g^*$",
        ylabel="GD iterations to tolerance",
        title="GD slows down as $g^*$ grows",
    )
    left.legend(fontsize="small", title=r"$\kappa$ / loss", title_fontsize="small")
    sns.scatterplot(
        data=gdnp_runs.assign(kappa=gdnp_runs["kappa"].map("{:g}".format)),
        x="predicted",
        y="iterations",
        hue="kappa",
        style="loss",
        ax=right,
    )
    top = float(max(gdnp_runs["predicted"].max(), gdnp_runs["iterations"].max())) * 1.2
    right.plot([1, top], [1, top], "k--", lw=1, label="theorem's count")
    right.set(
        xscale="log",
        yscale="log",
        xlabel=r"iterations allowed by $(1-\mu/L)^{2T}(\rho(w_0)-\rho^*) < $ tol",
        ylabel="GDNP iterations to tolerance",
        title=r"GDNP within its $(1-\mu/L)^2$ rate",
    )
    right.legend(fontsize="small")
    return fig


TUNED_COLOURS = {
    "GD": WINNER_COLOURS["GD"],
    "AGD": WINNER_COLOURS["AGD"],
    "BN-GD": WINNER_COLOURS["BN-GD"],
    "GD-Armijo": "#937860",
    "AGD-strongly-convex": "#da8bc3",
    "L-BFGS": WINNER_COLOURS["L-BFGS"],
}
COST_LABELS = {"iterations": "iterations", "oracle_calls": "oracle calls", "seconds": "wall time"}


def tuning_figure(ratios: dict[str, pd.DataFrame]) -> Figure:
    """One panel per cost axis: each method's median cost over GDNP's against ``kappa``.

    ``ratios`` maps an axis of :data:`COST_LABELS` to :func:`bnrates.claims.acceleration.tuned_vs_untuned`'s
    table. Tuned families solid, the map's untuned step dashed; below the dotted line at 1 the
    method is cheaper than GDNP. A median of ``inf`` (the method's median run did not reach the
    tolerance) is a triangle on the top edge, one of ``0`` (GDNP's did not) a triangle on the
    bottom edge.
    """
    fig, axes = plt.subplots(1, len(ratios), figsize=(4.2 * len(ratios), 3.8), squeeze=False, layout="constrained")
    for ax, (axis, data) in zip(axes[0], ratios.items(), strict=True):
        edge = ax.get_xaxis_transform()  # x in data, y in axes coordinates
        for (family, kind), group in data.groupby(["family", "tuning"], sort=False):
            colour, ratio = TUNED_COLOURS[str(family)], group["ratio"]
            ax.plot(
                group["kappa"],
                ratio.where(np.isfinite(ratio) & (ratio > 0)),
                marker="o" if kind == "tuned" else "x",
                linestyle="-" if kind == "tuned" else "--",
                color=colour,
                label=f"{family}" if kind == "tuned" else f"{family}, step 1/ζ",
            )
            for value, y, marker in ((np.inf, 0.98, "^"), (0.0, 0.02, "v")):
                at = group["kappa"][ratio == value]
                ax.scatter(at, np.full(len(at), y), marker=marker, color=colour, transform=edge, clip_on=False)
        ax.axhline(1.0, color="k", linestyle=":", linewidth=1)
        ax.set(
            xlim=(data["kappa"].min() / 2, data["kappa"].max() * 2),
            xscale="log",
            yscale="log",
            xlabel=r"$\kappa(S)$",
            ylabel=f"{COST_LABELS[axis]}: method over GDNP",
            title=COST_LABELS[axis],
        )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize="small")
    return fig


def map_numbers(table: pd.DataFrame, speedups_over_gd: pd.DataFrame, profile: str) -> dict[str, float]:
    """The numbers the chapter's prose reads off the sweep's table (not a claim's: what the map shows).

    Parameters
    ----------
    table
        The sweep's table (:func:`bnrates.claims.acceleration.sweep_table`), one row per task.
    speedups_over_gd
        The data of the claim ``acceleration.speedup_over_gd_when_separable`` (speed-up per instance).
    profile
        The sweep's profile, for the size of its grid.

    Returns
    -------
    dict
        Counts (``n_grid``, ``n_tasks``, ``n_instances``, ``n_separability``, ``n_kappa``, ``bngd_decided``), the
        grid's ``d_min``, ``d_max``, ``kappa_max``, ``cap``, ``tol``, ``t_s``; fractions of the instances
        (``coverage`` of the grid run, ``gdnp_beaten`` by a first-order method, ``lbfgs_beats`` GDNP,
        ``gdnp_censored`` runs); medians (``gdnp_ms``, ``gd_ms`` per iteration in ms, ``time_sp_gd``
        GD's wall time over GDNP's in the separable corner, ``bngd_vs_gd`` BN-GD's iterations over
        GD's where one of them converged, ``sp_gd_dmin``/``sp_gd_dmax`` the separable corner's
        speed-up over GD at the smallest and the largest dimension).
    """
    from .. import acceleration, sweeps
    from ..claims import acceleration as ac

    instance = ["d", "kappa", "separability", "loss", "seed"]
    its = ac.iterations(table)
    first_order = [m for m in acceleration.METHODS if m not in ("GDNP", "L-BFGS")]
    beaten = np.minimum.reduce([its[m] for m in first_order]) < its["GDNP"]
    per_iteration = (table["seconds"] / table["iterations"].clip(lower=1)).groupby(table["method"]).median()
    wall_sep = ac._corner(
        table.pivot_table(index=instance, columns="method", values="seconds").reset_index(), "separable"
    )
    censored = table.pivot_table(index=instance, columns="method", values="censored", aggfunc="first").astype(bool)
    decided = ~(censored["GD"] & censored["BN-GD"])
    gd_sep = ac._corner(speedups_over_gd, "separable")
    n_grid = len(sweeps.tasks(acceleration.SWEEP, sweeps.check_grid(acceleration.SWEEP, profile)))
    numbers = {
        "n_grid": n_grid,
        "coverage": len(table) / n_grid,
        "n_tasks": len(table),
        "n_instances": len(its),
        "n_separability": table["separability"].nunique(),
        "n_kappa": table["kappa"].nunique(),
        "kappa_max": table["kappa"].max(),
        "cap": table["cap"].max(),
        "tol": acceleration.TOL,
        "t_s": acceleration.T_S,
        "d_min": table["d"].min(),
        "d_max": table["d"].max(),
        "sp_gd_dmin": gd_sep[gd_sep["d"] == gd_sep["d"].min()]["speedup"].median(),
        "sp_gd_dmax": gd_sep[gd_sep["d"] == gd_sep["d"].max()]["speedup"].median(),
        "gdnp_beaten": beaten.mean(),
        "lbfgs_beats": (its["L-BFGS"] < its["GDNP"]).mean(),
        "gdnp_censored": table[table["method"] == "GDNP"]["censored"].mean(),
        "gdnp_ms": 1e3 * per_iteration["GDNP"],
        "gd_ms": 1e3 * per_iteration["GD"],
        "time_sp_gd": (wall_sep["GD"] / wall_sep["GDNP"]).median(),
        "bngd_vs_gd": (its["BN-GD"] / its["GD"].clip(lower=1))[decided].median(),
        "bngd_decided": decided.sum(),
    }
    return {key: float(value) for key, value in numbers.items()}


def race_numbers(tuning: pd.DataFrame) -> dict[str, float]:
    """The numbers the prose of the tuned race reads off its table (:func:`bnrates.claims.acceleration.tuning_table`).

    Returns
    -------
    dict
        ``n_tasks``, ``n_instances``, ``cap``; ``lengths_per_iteration``, the median of GDNP's
        ``d_g f`` evaluations per iteration; ``kappa_censored``, the smallest ``kappa`` at which
        GDNP's run did not reach the tolerance on some instance (``inf`` if none); ``edge_share``,
        the share of the tuned grids' winning steps that lie on the grid's largest step (of
        either step, for BN-GD); ``tuning_factor``, the median over those winners of the oracle
        calls of the whole tuning (race and winning run) over the winning run's.
    """
    gdnp = tuning[tuning["variant"] == "GDNP"]
    censored = gdnp[gdnp["censored"].astype(bool)]
    grid = tuning[tuning["variant"].str.endswith(":grid") & (tuning["step"] != "")]
    edges = {name: steps[-1].split(":")[1:] for name, steps in GRIDS_OF.items()}
    on_edge = grid["step"].map(
        lambda v: any(a == b for a, b in zip(v.split(":")[1:], edges[v.split(":")[0]], strict=True))
    )
    run_calls = grid[["gradients", "function_values", "length_evaluations"]].sum(axis=1)
    return {
        "n_tasks": len(tuning),
        "n_instances": tuning.groupby(list(SEED_AXES)).ngroups,
        "cap": tuning["cap"].max(),
        "lengths_per_iteration": (gdnp["length_evaluations"] / gdnp["iterations"].clip(lower=1)).median(),
        "kappa_censored": censored["kappa"].min() if len(censored) else np.inf,
        "edge_share": float(on_edge.mean()) if len(grid) else 0.0,
        "tuning_factor": float((grid["tuning_oracle_calls"] / run_calls).median()) if len(grid) else np.nan,
    }


def censored_table(shares: pd.DataFrame) -> Styler:
    """:func:`bnrates.claims.acceleration.censored_shares` as a table of percentages, a row per ``kappa``.

    No caption: the chapter's prose introduces it (a Styler caption kept its light-mode colour
    in dark mode, below the contrast the browser check asks for).
    """
    table = shares.rename_axis(index="κ(S)", columns="method")
    return table.style.format("{:.0%}").format_index("{:g}", axis=0)
