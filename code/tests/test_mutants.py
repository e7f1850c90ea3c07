"""Tests written to kill realistic one-line bugs that survived the rest of the suite (``make mutation``).

Each test names the mutant it kills; each compares with numbers computed independently (by hand
or in closed form), never a function with itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnrates import empirical as ex
from bnrates.book import provenance
from bnrates.claims.core import Claim, Evidence, run_claim
from bnrates.gdnp import LengthSearch, agd, bisection, newton_length
from bnrates.losses import get_loss


@dataclass
class HalfSquare:
    """``f(w) = w^2 / 2`` in one dimension (``S = 1``): enough to follow AGD step by step."""

    u: np.ndarray
    S: np.ndarray

    def value(self, w: np.ndarray) -> np.ndarray:
        return 0.5 * np.sum(w * w, axis=-1)

    def grad(self, w: np.ndarray) -> np.ndarray:
        return w


def test_agd_follows_the_t_minus_1_over_t_plus_2_momentum_schedule() -> None:
    """Kills ``beta_t = (t - 1) / (t + 1)`` (and any other change of the schedule or the extrapolation).

    By hand, step 1/2 on ``x^2/2`` gives ``x_{t+1} = y_t / 2`` with ``beta = 0, 0, 1/4, 2/5``:
    ``x = 1, 1/2, 1/4, 3/32, 1/64``.
    """
    problem = HalfSquare(np.zeros((1, 1)), np.ones((1, 1, 1)))
    history = agd(problem, np.ones((1, 1)), 4, 0.5)
    np.testing.assert_allclose(history.wt[:, 0, 0], [1.0, 0.5, 0.25, 3 / 32, 1 / 64], rtol=0, atol=1e-15)


def _tight_quadratic(F0: float, a: float, C: float):
    """``d_g f(g) = F0 + a g + sign(F0) C g^2 / 2``: the Taylor bound behind the certificate is exact here."""
    s = math.copysign(1.0, F0)

    def both(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return F0 + a * g + s * C * g * g / 2, a + s * C * g

    root = -s * (a - math.sqrt(a * a - 2 * C * abs(F0))) / C  # closed form of the root nearest 0
    return both, root


@pytest.mark.parametrize(("F0", "a", "C"), [(-0.3, 1.0, 1.0), (0.3, 1.0, 1.0), (-0.02, 0.5, 3.0), (0.3, 2.0, 5.0)])
def test_the_newton_certificate_is_sound_where_its_bound_is_exact(F0: float, a: float, C: float) -> None:
    """Kills a sign error in the certificate (``F'^2 + 2 C |F|``, ``F' - sqrt``...): it would certify too early.

    On this ``d_g f`` the first Newton point's error equals the certificate's bound; with ``tol``
    just below it, a sound search must not stop there, and whatever it returns as certified
    lies within ``tol`` of the closed-form root.
    """
    both, root = _tight_quadratic(F0, a, C)
    newton_error = abs(root - (-F0 / a))
    tol = 0.9 * newton_error
    found = newton_length(both, np.zeros(1), np.full(1, C), tol)
    assert found.certified[0]
    assert found.evaluations >= 2  # the first Newton point may not be certified
    assert abs(found.g[0] - root) <= tol


def test_save_chapter_replaces_the_folder_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills a ``save_chapter`` that writes into the results folder in place (no temporary folder and rename)."""
    claim = Claim("t.x", "t", "s", "<=", 0.0, lambda p, s: Evidence(0.5, 1.0))
    outcomes = {claim.id: run_claim(claim)}
    folder = provenance.save_chapter(tmp_path, "t", outcomes, {"seed": 0}, tables={"a": pd.DataFrame({"x": [1]}),
                                                                                 "b": pd.DataFrame({"x": [2]})})
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    original, calls = Path.write_text, []

    def dies_on_the_second_file(self: Path, text: str, *args, **kwargs) -> int:
        calls.append(self)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed while writing")
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", dies_on_the_second_file)
    with pytest.raises(KeyboardInterrupt):
        provenance.save_chapter(tmp_path, "t", outcomes, {"seed": 1}, tables={"a": pd.DataFrame({"x": [3]}),
                                                                              "b": pd.DataFrame({"x": [4]})})
    monkeypatch.undo()
    assert all(p.parent != folder for p in calls)  # nothing was written into the live folder
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_the_bisection_fallback_of_the_newton_length_rule_runs_and_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills a dropped or mis-indexed fallback: lengths the Newton search could not certify come from bisection."""
    loss = get_loss("logistic")
    margins = np.random.default_rng([15, 1]).standard_normal((4, 30)) + 0.3
    n_bisection = 30
    reference = bisection(ex.length_derivative(loss, margins), n_bisection)[0]
    real = ex.newton_length

    def half_uncertified(derivatives, g0, curvature, tol, max_steps=60) -> LengthSearch:
        found = real(derivatives, g0, curvature, tol, max_steps)
        certified = np.array([True, False, True, False])
        return LengthSearch(np.where(certified, found.g, 1e6), certified & found.certified, found.evaluations)

    monkeypatch.setattr(ex, "newton_length", half_uncertified)
    g, calls = ex._length(loss, margins, np.zeros(4), n_bisection, "newton")
    np.testing.assert_allclose(g, reference, atol=2.0**-n_bisection * 4)
    assert calls > n_bisection  # the bisection's evaluations are counted
    monkeypatch.setattr(ex, "newton_length", real)
    g_all, calls_all = ex._length(loss, margins, np.zeros(4), n_bisection, "newton")
    np.testing.assert_allclose(g_all, reference, atol=2.0**-n_bisection * 4)
    assert calls_all < calls
