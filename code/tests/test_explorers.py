"""Explorers (bnrates.plotting.explorers): the curves they show, the figure's slider, the PDF panel, the Sphinx hook."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bnrates.plotting import explorers


def test_ols_explorer_measured_gap_never_exceeds_the_theorem() -> None:
    e = explorers.ols_kappa(kappas=(2.0, 10.0, 100.0), d=10)
    assert sorted(e.curves["value"].unique()) == [2.0, 10.0, 100.0]
    assert (e.curves["measured"] <= e.curves["theory"] * (1 + 1e-9)).all()
    first = e.curves.groupby("value").head(1)
    assert np.allclose(first["measured"], 1.0) and np.allclose(first["theory"], 1.0)
    assert (e.curves["measured"] > explorers.GAP_FLOOR).all()


def test_gdnp_explorer_measured_gap_never_exceeds_the_theorem() -> None:
    e = explorers.gdnp_kappa(kappas=(2.0, 20.0), n_steps=40, n_bisection=15)
    assert (e.curves["measured"] <= e.curves["theory"] * (1 + 1e-9)).all()
    late = e.curves.groupby("value").tail(1).set_index("value")["theory"]
    assert late[2.0] < late[20.0]  # the harder the instance, the slower the theorem's rate


def test_minibatch_explorer_matches_its_first_order_law_on_gaussian_inputs() -> None:
    e = explorers.minibatch_gaussian(n=5000, seed=1)
    for b, part in e.curves.groupby("value"):
        dx = np.diff(part["x"]).mean()
        measured_var = float(np.sum(part["x"] ** 2 * part["measured"]) * dx)
        theory_var = float(np.sum(part["x"] ** 2 * part["theory"]) * dx)
        assert measured_var == pytest.approx(theory_var, rel=0.25), b
    assert "k = 2.9" in e.theory_label or "k = 3.0" in e.theory_label


def test_the_figure_has_one_curve_pair_per_value_and_a_slider_over_them() -> None:
    curves = explorers.curves_table([1.0, 2.0, 3.0], [np.ones(5)] * 3, [np.full(5, 2.0)] * 3)
    e = explorers.Explorer("demo", "κ", curves, "t", "gap", start=1)
    fig = e.figure()
    assert len(fig.data) == 6
    assert [t.visible for t in fig.data] == [False, False, True, True, False, False]
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["1", "2", "3"]
    assert steps[2].args[0]["visible"] == [False, False, False, False, True, True]
    html = e.html()
    assert explorers.MARKER in html and 'id="explorer-demo"' in html and "<script src" not in html
    bundle = e._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert e.static_panel()[:8] == b"\x89PNG\r\n\x1a\n"


def test_thin_keeps_ends_and_at_most_max_points() -> None:
    idx = explorers.thin(10_000, 50)
    assert idx[0] == 0 and idx[-1] == 9_999 and len(idx) <= 50 and np.all(np.diff(idx) > 0)
    assert list(explorers.thin(7, 50)) == list(range(7))
    with pytest.raises(ValueError, match="n"):
        explorers.thin(0)


def test_curves_below_the_floor_are_left_out() -> None:
    table = explorers.curves_table([1.0], [np.array([1.0, 1e-3, 1e-20])], [np.ones(3)], floor=1e-13)
    assert isinstance(table, pd.DataFrame) and list(table["measured"]) == [1.0, 1e-3]


def test_plotly_is_loaded_only_on_pages_with_an_explorer_and_shipped_in_static(tmp_path: Any) -> None:
    added: list[str] = []
    app = SimpleNamespace(add_js_file=lambda name, **kw: added.append(name))
    explorers._load_plotly(app, "chapters/intro", "page.html", {"body": "<p>no figure</p>"}, None)
    assert added == []
    explorers._load_plotly(app, "chapters/ols", "page.html", {"body": f'<div class="{explorers.MARKER}">'}, None)
    assert added == [explorers.PLOTLY_JS]
    built = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))
    explorers._copy_plotly(built, None)
    shipped = tmp_path / "_static" / explorers.PLOTLY_JS
    assert shipped.read_bytes() == explorers.plotly_bundle().read_bytes()
