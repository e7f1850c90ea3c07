"""Explorers: a theorem's measured rate and its theoretical rate under a slider over its hard parameter.

An :class:`Explorer` holds, for every value of one knob (``kappa`` for OLS and GDNP, the batch
size for mini-batch BN), a measured curve and the theory's curve, precomputed when the chapter
runs. Displayed in a notebook it is a Plotly figure whose slider switches between the values:
the figure needs no kernel, and no network either, because the HTML book ships Plotly's
JavaScript itself (:func:`setup`, a Sphinx extension, copies the ``plotly`` package's bundle to
``_static`` and loads it on the pages that have an explorer). The PDF shows a static panel
instead: every value at once, in one matplotlib figure (``image/png``).

The explorers of the chapters (:func:`ols_kappa`, :func:`gdnp_kappa`, :func:`minibatch_size`)
call the same functions as the chapters' claims.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..validation import check_int

Array = NDArray[np.float64]
MARKER = "bnrates-explorer"
"""Class of an explorer's HTML container: the extension loads Plotly on pages that contain it."""
PLOTLY_JS = "plotly.min.js"
GAP_FLOOR = 1e-13
"""Relative gaps below this are round-off and are not drawn."""
MAX_POINTS = 160
"""Points per curve kept in the figure (log-spaced in the iteration): keeps each page small."""
PLOTLY_CONFIG: Mapping[str, object] = MappingProxyType(
    {
        "displaylogo": False,
        "responsive": True,
        "showSendToCloud": False,
    }
)
"""Plotly's figure options: no logo (a link to plotly.com) and no "Share chart..." / Chart Studio
button (it uploads the figure to a web service; plotly.js 4 shows it unless told not to)."""


@dataclass(frozen=True)
class Explorer:
    """Measured and theoretical curves for every value of a knob.

    Attributes
    ----------
    name
        Short identifier, used as the figure's HTML id (``ols-kappa``).
    knob
        The knob's label, e.g. ``"κ"``.
    curves
        Tidy table, columns ``value, x, measured, theory``: one curve pair per knob value.
    x_label, y_label
        Axis labels (plain text).
    measured_label, theory_label
        Legend entries.
    log_y
        Logarithmic vertical axis.
    start
        Index of the knob value shown first.
    """

    name: str
    knob: str
    curves: pd.DataFrame
    x_label: str
    y_label: str
    measured_label: str = "measured"
    theory_label: str = "theory"
    log_y: bool = True
    start: int = 0

    @property
    def values(self) -> list[float]:
        return sorted(self.curves["value"].unique())

    def figure(self) -> Any:
        """The Plotly figure: two traces per knob value, a slider that shows one pair at a time."""
        import plotly.graph_objects as go

        fig = go.Figure()
        values = self.values
        start = min(max(self.start, 0), len(values) - 1)
        for i, value in enumerate(values):
            part = self.curves[self.curves["value"] == value]
            fig.add_trace(
                go.Scatter(
                    x=part["x"],
                    y=part["measured"],
                    mode="lines",
                    name=self.measured_label,
                    line={"color": "#1f77b4", "width": 2.5},
                    visible=i == start,
                    meta={"role": "measured", "value": float(value)},
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=part["x"],
                    y=part["theory"],
                    mode="lines",
                    name=self.theory_label,
                    line={"color": "#d62728", "dash": "dash", "width": 2},
                    visible=i == start,
                    meta={"role": "theory", "value": float(value)},
                )
            )
        steps = [
            {
                "label": _fmt(value),
                "method": "update",
                "args": [{"visible": [j // 2 == i for j in range(2 * len(values))]}],
            }
            for i, value in enumerate(values)
        ]
        fig.update_layout(
            sliders=[
                {"active": start, "steps": steps, "currentvalue": {"prefix": f"{self.knob} = "}, "pad": {"t": 50}}
            ],
            xaxis_title=self.x_label,
            yaxis_title=self.y_label,
            yaxis_type="log" if self.log_y else "linear",
            template="simple_white",
            height=460,
            margin={"l": 70, "r": 20, "t": 30, "b": 40},
            legend={"x": 0.99, "xanchor": "right", "y": 0.99},
        )
        return fig

    def html(self) -> str:
        """The figure as an HTML fragment that uses the page's Plotly (no script of its own loaded)."""
        fragment = self.figure().to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"explorer-{self.name}",
            config=dict(PLOTLY_CONFIG),
        )
        return f'<div class="{MARKER}" data-explorer="{self.name}">{fragment}</div>'

    def static_panel(self) -> bytes:
        """Every knob value at once as a PNG (what the PDF shows): measured solid, theory dashed."""
        import matplotlib.pyplot as plt

        values = self.values
        colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(values)))
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for value, colour in zip(values, colours, strict=True):
            part = self.curves[self.curves["value"] == value]
            ax.plot(part["x"], part["measured"], color=colour, lw=1.8, label=f"{self.knob} = {_fmt(value)}")
            ax.plot(part["x"], part["theory"], color=colour, lw=1.2, ls="--")
        ax.set(xlabel=self.x_label, ylabel=self.y_label, yscale="log" if self.log_y else "linear")
        ax.legend(
            fontsize=7, ncol=2, title=f"solid: {self.measured_label}; dashed: {self.theory_label}", title_fontsize=7
        )
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=130)
        plt.close(fig)
        return buffer.getvalue()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {
            "text/html": self.html(),
            "image/png": base64.b64encode(self.static_panel()).decode(),
            "text/plain": f"Explorer {self.name}: {self.knob} in {', '.join(map(_fmt, self.values))}",
        }


def _fmt(value: float) -> str:
    return f"{value:g}"


def thin(n: int, max_points: int = MAX_POINTS) -> NDArray[np.integer]:
    """At most ``max_points`` indices of ``0 .. n - 1``, log-spaced (dense early), first and last kept."""
    n = check_int("n", n, minimum=1)
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.concatenate([[0], np.geomspace(1, n - 1, max_points - 1).round().astype(int)]))


def curves_table(
    values: ArrayLike,
    measured: Sequence[ArrayLike],
    theory: Sequence[ArrayLike],
    x: Sequence[ArrayLike] | None = None,
    floor: float = 0.0,
) -> pd.DataFrame:
    """Tidy ``value, x, measured, theory`` rows from one measured and one theory curve per value.

    Curves are thinned with :func:`thin`; ``x`` defaults to the iteration ``0 .. T``. Points
    where the measured value is not above ``floor`` (round-off) are left out.
    """
    rows = []
    for i, value in enumerate(np.asarray(values, dtype=float)):
        m, t = np.asarray(measured[i], dtype=float), np.asarray(theory[i], dtype=float)
        xs = np.arange(m.size, dtype=float) if x is None else np.asarray(x[i], dtype=float)
        keep = thin(m.size) if x is None else np.arange(m.size)
        keep = keep[m[keep] > floor]
        rows.append(pd.DataFrame({"value": value, "x": xs[keep], "measured": m[keep], "theory": t[keep]}))
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------- the chapters' explorers


def ols_kappa(
    kappas: Sequence[float] = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0),
    d: int = 20,
    seed: int = 0,
    start: int = 3,
) -> Explorer:
    """OLS theorem: relative gap of GD on the Rayleigh quotient against ``(1 - mu/L)^{2t}``, per ``kappa``.

    One random instance per ``kappa`` (:func:`~bnrates.problems.ols_instances`), run for ``4 kappa``
    steps (at least 40) with the theorem's step.
    """
    from ..algorithms import gd_rayleigh
    from ..problems import ols_instances, spectrum_bounds
    from ..rates import rayleigh_gap, theory_factor

    measured, theory = [], []
    for kappa in kappas:
        P = ols_instances(d, kappa, [seed])
        mu, L = spectrum_bounds(P.S)
        w0 = np.random.default_rng([seed, d, 3]).standard_normal((1, d))
        steps = max(40, int(4 * kappa))
        gap = rayleigh_gap(gd_rayleigh(P.S, P.u, w0, steps, L), P.S, P.u)[:, 0]
        measured.append(gap / gap[0])
        theory.append(theory_factor(mu, L)[0] ** np.arange(steps + 1))
    return Explorer(
        "ols-kappa",
        "κ",
        curves_table(kappas, measured, theory, floor=GAP_FLOOR),
        "iteration t",
        "(ρ(w_t) − ρ*) / (ρ(w_0) − ρ*)",
        "GD on the Rayleigh quotient",
        "theorem: (1 − μ/L)^(2t)",
        start=start,
    )


def gdnp_kappa(
    kappas: Sequence[float] = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0),
    separability: float = 0.5,
    d: int = 8,
    n_steps: int = 150,
    n_bisection: int = 20,
    seed: int = 0,
    start: int = 2,
) -> Explorer:
    """GDNP theorem on Gaussian halfspaces: relative Rayleigh gap of the directions against the bound, per ``kappa``."""
    from ..gdnp import gdnp
    from ..halfspace import GaussianHalfspace, halfspace_instances

    parts = [halfspace_instances(d, kappa, separability, [seed]) for kappa in kappas]
    problem = GaussianHalfspace(np.concatenate([p.S for p in parts]), np.concatenate([p.u for p in parts]))
    w0 = np.random.default_rng([seed, 31]).standard_normal(problem.u.shape)
    w0 *= -np.sign(np.einsum("bi,bi->b", problem.u, w0))[:, None]
    history = gdnp(problem, w0, n_steps, n_bisection)
    return Explorer(
        "gdnp-kappa",
        "κ",
        _gap_curves(kappas, history.rayleigh_gap, problem.S),
        "iteration t",
        "(ρ(w_t) − ρ*) / (ρ(w_0) − ρ*)",
        "GDNP directions (logistic loss)",
        "theorem: (1 − μ/L)^(2t)",
        start=start,
    )


def _gap_curves(kappas: Sequence[float], gap: Array, S: Array) -> pd.DataFrame:
    """Relative gaps ``gap[:, b] / gap[0, b]`` (one instance per ``kappa``) beside ``(1 - mu/L)^{2t}``."""
    from ..problems import spectrum_bounds
    from ..rates import theory_factor

    factor = theory_factor(*spectrum_bounds(S))
    t = np.arange(gap.shape[0])
    return curves_table(
        kappas,
        [gap[:, b] / gap[0, b] for b in range(len(kappas))],
        [factor[b] ** t for b in range(len(kappas))],
        floor=GAP_FLOOR,
    )


def unit_kappa(
    kappas: Sequence[float] = (2.0, 5.0, 10.0, 20.0, 50.0),
    separability: float = 0.3,
    d: int = 6,
    n_steps: int = 60,
    n_bisection: int = 20,
    seed: int = 0,
    start: int = 2,
) -> Explorer:
    """Per-unit GDNP in the one-hidden-layer network (the other unit at zero), per ``kappa``.

    Unit 1 of the network of :mod:`bnrates.mlp` (output weights 1 and 0.6, logistic outer loss)
    is trained by Algorithm 1 while unit 2 stays at zero; its Rayleigh gap is drawn beside the
    theorem's ``(1 - mu/L)^{2t}``.
    """
    from ..halfspace import halfspace_instances
    from ..mlp import OneHiddenLayer, gdnp_unit

    parts = [halfspace_instances(d, kappa, separability, [seed]) for kappa in kappas]
    net = OneHiddenLayer(np.concatenate([p.S for p in parts]), np.concatenate([p.u for p in parts]), (1.0, 0.6))
    w0 = np.random.default_rng([seed, 43]).standard_normal(net.u.shape)
    w0 *= -np.sign(np.einsum("bi,bi->b", net.u, w0))[:, None]
    history = gdnp_unit(net, np.zeros((len(kappas), 2, d)), 0, w0, n_steps, n_bisection)
    return Explorer(
        "unit-kappa",
        "κ",
        _gap_curves(kappas, history.rayleigh_gap, net.S),
        "iteration t",
        "(ρ(w_t) − ρ*) / (ρ(w_0) − ρ*)",
        "per-unit GDNP, unit 1 (unit 2 at zero)",
        "theorem: (1 − μ/L)^(2t)",
        start=start,
    )


def minibatch_size(
    X: ArrayLike,
    w: ArrayLike,
    batch_sizes: Sequence[int] = (4, 8, 16, 32, 64, 128, 256),
    n_draws: int = 4000,
    seed: int = 0,
    name: str = "minibatch",
    start: int = 2,
    n_bins: int = 60,
) -> Explorer:
    """Mini-batch BN: the law of its error against the population reparametrization, per batch size.

    For each batch size ``b``, ``n_draws`` batches are drawn (with replacement) from the centred rows
    of ``X``; the error of one row, ``BN_batch(x^T w) - x^T w / ||w||_S``, is collected over all
    draws and rows. Measured: its histogram (a density). Theory, to first order in ``b^{-1/2}``:
    a normal law of variance ``(1 + (k - 1)/4) / b``, with ``k`` the kurtosis of ``x^T w``
    (``k = 3``, variance ``3/(2b)``, for Gaussian inputs): the batch mean contributes ``1/b`` and
    the batch variance ``(k - 1)/(4b)``.
    """
    rows_of_X = np.asarray(X, dtype=np.float64)
    centred = rows_of_X - rows_of_X.mean(axis=0)
    z = centred @ np.asarray(w, dtype=np.float64)
    pop = z / z.std()
    kurtosis = float(np.mean(pop**4))
    rng = np.random.default_rng([check_int("seed", seed, minimum=0), 59])
    rows = []
    for b in batch_sizes:
        b = check_int("batch_size", b, minimum=2)
        idx = rng.integers(centred.shape[0], size=(n_draws, b))
        H = z[idx]
        err = ((H - H.mean(axis=1, keepdims=True)) / H.std(axis=1, keepdims=True) - pop[idx]).ravel()
        var = (1 + (kurtosis - 1) / 4) / b
        edges = np.linspace(-4 * np.sqrt(var), 4 * np.sqrt(var), n_bins + 1)
        density, _ = np.histogram(err, bins=edges, density=True)
        density *= np.mean((err >= edges[0]) & (err <= edges[-1]))  # density of all errors, not of the window
        centres = (edges[:-1] + edges[1:]) / 2
        normal = np.exp(-(centres**2) / (2 * var)) / np.sqrt(2 * np.pi * var)
        rows.append(pd.DataFrame({"value": float(b), "x": centres, "measured": density, "theory": normal}))
    return Explorer(
        name,
        "batch size",
        pd.concat(rows, ignore_index=True),
        "error of one output, BN with batch statistics − population BN",
        "density",
        "measured histogram",
        f"first order: normal, variance (1 + (k − 1)/4)/b, k = {kurtosis:.2f}",
        log_y=False,
        start=start,
    )


def minibatch_gaussian(d: int = 10, kappa: float = 10.0, n: int = 20_000, seed: int = 0) -> Explorer:
    """:func:`minibatch_size` on ``n`` Gaussian inputs ``N(0, S)`` (``S`` from ``random_spd``), one random unit."""
    from ..problems import random_spd

    rng = np.random.default_rng([check_int("seed", seed, minimum=0), 61])
    chol = np.linalg.cholesky(random_spd(d, kappa, [seed])[0])
    return minibatch_size(
        rng.standard_normal((n, d)) @ chol.T, rng.standard_normal(d), seed=seed, name="minibatch-gaussian"
    )


def minibatch_digits(seed: int = 0) -> Explorer:
    """:func:`minibatch_size` on the standardized digits (as in the experiments chapter), one random unit."""
    from ..claims.experiments import digits

    _, X, _ = digits()
    w = np.random.default_rng([check_int("seed", seed, minimum=0), 63]).standard_normal(X.shape[1])
    return minibatch_size(X, w, seed=seed, name="minibatch-digits")


# --------------------------------------------------------------------------------- Sphinx extension


def plotly_bundle() -> Path:
    """The ``plotly.min.js`` the ``plotly`` package ships (the version the figures were made with)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall the plotly package")
    return path


def _load_plotly(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if MARKER in context.get("body", ""):
        app.add_js_file(PLOTLY_JS, priority=200)


def _copy_plotly(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        shutil.copy2(plotly_bundle(), static / PLOTLY_JS)


def setup(app: Any) -> dict[str, object]:
    """Sphinx extension: ship Plotly's bundle in ``_static`` and load it on pages with an explorer."""
    app.connect("html-page-context", _load_plotly)
    app.connect("build-finished", _copy_plotly)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": json.dumps(1)}
