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
from bnrates.gdnp import LengthSearch, agd, bisection, gd, length_derivative_of, newton_length
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
    folder = provenance.save_chapter(
        tmp_path, "t", outcomes, {"seed": 0}, tables={"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})}
    )
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    original, calls = Path.write_text, []

    def dies_on_the_second_file(self: Path, text: str, *args, **kwargs) -> int:
        calls.append(self)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed while writing")
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", dies_on_the_second_file)
    with pytest.raises(KeyboardInterrupt):
        provenance.save_chapter(
            tmp_path, "t", outcomes, {"seed": 1}, tables={"a": pd.DataFrame({"x": [3]}), "b": pd.DataFrame({"x": [4]})}
        )
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


# Survivors of ``make mutation`` (data/mutation/survivors.txt) that change what the book computes.
# Each test names the mutants it kills; every expected value is worked out by hand.


def test_the_ols_constants_have_their_closed_forms() -> None:
    """Kills ``(1 - mu * L)^2`` in ``theory_factor`` and ``2 / L`` or ``L / |rho|`` in the steps (L = 1 hid them)."""
    from bnrates.algorithms import step_without_factor_two, theorem_step
    from bnrates.rates import theory_factor

    assert theory_factor(1.0, 4.0) == 0.5625  # (1 - 1/4)^2
    assert theorem_step(3.0, -2.0, 5.0) == 0.15  # 3 / (2 * 5 * 2)
    assert step_without_factor_two(3.0, -2.0, 5.0) == 0.3  # 3 / (5 * 2)


def test_contraction_ratios_stop_at_the_floor_itself() -> None:
    """Kills ``gap_t >= floor``: a gap equal to the floor is round-off already (ratio NaN)."""
    from bnrates.rates import contraction_ratios

    ratios = contraction_ratios(np.array([[4.0], [2.0], [1.0], [0.5]]), np.array([2.0]))
    np.testing.assert_array_equal(ratios[:, 0], [0.5, np.nan, np.nan])


def test_fit_contraction_takes_the_median_of_the_late_half_per_series() -> None:
    """Kills a default late fraction other than 1/2, ``t > start``, ``|`` for ``&`` and ``axis=None``.

    Series 0 has ratios 0.9, 0.5, 0.4, 0.3, 0.2, 0.1: the late half is t = 3, 4, 5, median 0.2
    (all six: 0.35; t = 4, 5: 0.15). Series 1 contracts by 0.5 throughout.
    """
    from bnrates.rates import fit_contraction

    r = np.array([[0.9, 0.5, 0.4, 0.3, 0.2, 0.1], [0.5] * 6]).T
    gaps = np.vstack([np.ones((1, 2)), np.cumprod(r, axis=0)])
    np.testing.assert_allclose(fit_contraction(gaps, np.zeros(2)), [0.2, 0.5], rtol=1e-12)


def test_batch_norm_and_weight_norm_against_their_formulas() -> None:
    """Kills ``z + m``, ignoring given ``mean``/``var``, and a norm over the whole batch in ``weight_norm``."""
    from bnrates.reparametrization import batch_norm, weight_norm

    rng = np.random.default_rng(5)
    X, w = rng.normal(size=(7, 3)), rng.normal(size=3)
    z = [sum(x[i] * w[i] for i in range(3)) for x in X]
    m, v = sum(z) / 7, sum((zi - sum(z) / 7) ** 2 for zi in z) / 7
    np.testing.assert_allclose(batch_norm(X, w, 1.5), [1.5 * (zi - m) / math.sqrt(v) for zi in z], rtol=1e-12)
    np.testing.assert_allclose(
        batch_norm(X, w, 1.5, mean=0.25, var=4.0), [1.5 * (zi - 0.25) / 2.0 for zi in z], rtol=1e-12
    )
    W = np.array([[3.0, 4.0], [1.0, 0.0]])
    np.testing.assert_array_equal(weight_norm(W, np.array([10.0, 2.0])), [[6.0, 8.0], [2.0, 0.0]])


def test_gd_and_agd_histories_have_n_steps_plus_one_rows_and_stop_strictly_below_tol() -> None:
    """Kills ``range(n_steps - 1)`` / ``+ 2``, ``ws.append(None)``, ``minimum=1``, ``<= tol`` and a momentum check
    that lets ``beta = 1`` through.

    Step 1/2 on ``x^2/2`` halves x: 1, 1/2, 1/4, 1/8 with squared gradients 1, 1/4, 1/16, 1/64, all exact;
    with ``tol = 1/16`` the strict rule stops at 1/8, not at 1/4.
    """
    problem = HalfSquare(np.zeros((1, 1)), np.ones((1, 1, 1)))
    history = gd(problem, np.ones((1, 1)), 3, 0.5)
    np.testing.assert_array_equal(history.wt[:, 0, 0], [1.0, 0.5, 0.25, 0.125])
    assert gd(problem, np.ones((1, 1)), 0, 0.5).wt.shape == (1, 1, 1)
    assert agd(problem, np.ones((1, 1)), 0, 0.5).wt.shape == (1, 1, 1)
    np.testing.assert_array_equal(
        gd(problem, np.ones((1, 1)), 10, 0.5, tol=1 / 16).wt[:, 0, 0], [1.0, 0.5, 0.25, 0.125]
    )
    assert agd(problem, np.ones((1, 1)), 10, 0.5, tol=1 / 16).wt[-1, 0, 0] == 3 / 32
    for momentum in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\)"):
            agd(problem, np.ones((1, 1)), 3, 0.5, momentum=momentum)
    with pytest.raises(ValueError, match="step must be positive"):
        gd(problem, np.ones((1, 1)), 3, 0.0)


def test_bisection_brackets_by_its_documented_rules() -> None:
    """Kills ``a <= 0 < b`` / ``a < 0 <= b``, ``max_doublings >= 1``, ``rtol / max``, ``fa > -tol`` / ``fb < tol`` /
    ``fa >= +tol`` and ``and`` for ``or`` in the NaN check.
    """
    for a, b in ((0.0, 1.0), (-1.0, 0.0)):
        with pytest.raises(ValueError, match="a < 0 < b"):
            bisection(lambda g: g, 3, a=a, b=b)
    g, a0, b0 = bisection(lambda g: g - 0.25, 0, max_doublings=0)
    assert (g, a0, b0) == (0.0, -1.0, 1.0)
    # values of order 1e-6 are signs, not round-off: the bracket [-1, 1] is kept
    assert bisection(lambda g: 1e-6 * (g - 0.5), 0)[2] == 1.0
    # with rtol = 1, |dg| <= max(|dg(-1)|, |dg(1)|) = 1 counts as no sign: both ends double once
    _, a0, b0 = bisection(lambda g: g, 0, rtol=1.0)
    assert (a0, b0) == (-2.0, 2.0)
    with pytest.raises(ValueError, match="returned NaN"):
        bisection(lambda g: np.where(np.asarray(g) < 0, np.nan, g), 3)


def test_gdnp_accepts_zero_steps_and_scales_its_direction_step_by_one_over_L() -> None:
    """Kills ``n_steps >= 1``, ``n_bisection >= 1``, an ignored ``L`` and ``|b0 + a0|`` as the bracket width."""
    from bnrates.gdnp import gdnp
    from bnrates.halfspace import halfspace_instances

    problem = halfspace_instances(4, 10.0, 0.5, [0])
    w0 = np.ones((1, 4))
    with np.errstate(divide="ignore", invalid="ignore"):  # no halving: g = 0, the midpoint of [-1, 1]
        assert gdnp(problem, w0, 0, 0).w.shape == (1, 1, 4)
    one, two = (gdnp(problem, w0, 1, 30, L=np.array([L])) for L in (1.0, 2.0))
    np.testing.assert_allclose(one.w[1] - w0, 2 * (two.w[1] - w0), rtol=1e-12)
    # the recorded width is that of the bracket the length search expanded: b0 - a0 (> 0, as a0 < 0 < b0)
    _, a0, b0 = bisection(lambda g: length_derivative_of(problem, w0, g), 30)
    assert gdnp(problem, w0, 0, 30).bracket_width[0, 0] == b0[0] - a0[0] > abs(b0[0] + a0[0])


def test_iterations_and_steps_to_a_target_count_by_hand() -> None:
    """Kills ``<= tol`` in ``iterations_to``, any other 'never' marker than -1, and reductions over the whole batch."""
    from bnrates.gdnp import iterations_to
    from bnrates.rates import steps_to_reduce

    history = np.array([[1.0, 1.0], [0.5, 0.9], [0.25, 0.8]])  # two instances, T = 2
    np.testing.assert_array_equal(iterations_to(history, 0.5), [2, -1])  # strictly below 0.5 at t = 2
    np.testing.assert_array_equal(iterations_to(history, 0.3), [2, -1])
    np.testing.assert_array_equal(steps_to_reduce(history, 0.5), [1, -1])  # gap_t <= 0.5 gap_0 at t = 1
    np.testing.assert_array_equal(steps_to_reduce(history, 0.85), [1, 2])


def test_gd_on_least_squares_steps_by_one_over_2L() -> None:
    """Kills every change of ``w~ - (2u + 2 S w~) / (2L)`` and of the history's length (no test ran it)."""
    from bnrates.algorithms import gd_least_squares

    S = np.array([[[2.0, 0.0], [0.0, 1.0]]])
    u, L = np.array([[1.0, -1.0]]), np.array([4.0])
    ws = gd_least_squares(S, u, np.zeros((1, 2)), 2, L)
    # w1 = -(2u) / 8 = (-1/4, 1/4); w2 = w1 - (2u + 2 S w1) / 8 = (-1/4, 1/4) - (1, -1.5) / 8
    np.testing.assert_allclose(ws[:, 0], [[0.0, 0.0], [-0.25, 0.25], [-0.375, 0.4375]], rtol=0, atol=1e-15)
    assert gd_least_squares(S, u, np.zeros((1, 2)), 0, L).shape == (1, 1, 2)


def test_tidy_history_is_one_row_per_iteration_and_instance() -> None:
    """Kills any change of the long table's index columns, label tiling or value order (no test ran it)."""
    from bnrates.rates import tidy_history

    table = tidy_history({"gap": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])}, {"kappa": np.array([10, 20])})
    assert list(table.columns) == ["iteration", "instance", "kappa", "gap"]
    assert table.to_numpy().tolist() == [
        [0, 0, 10, 1.0],
        [0, 1, 20, 2.0],
        [1, 0, 10, 3.0],
        [1, 1, 20, 4.0],
        [2, 0, 10, 5.0],
        [2, 1, 20, 6.0],
    ]


def test_bngd_in_one_dimension_by_hand() -> None:
    """Kills ``n_steps >= 1``, ``lr < 0`` for ``lr <= 0``, a wrong zero-direction check, a stored ``None`` and
    ``<= tol`` in :func:`bngd`.

    In one dimension with ``S = 1`` the direction is fixed (``w~ = g sign(w)``) and on ``w~^2 / 2``
    the length follows ``g_{t+1} = (1 - lr_g) g_t``: 1, 1/2, 1/4, 1/8 for ``lr_g = 1/2``; the
    squared gradients are 1, 1/4, 1/16, 1/64.
    """
    from bnrates.gdnp import bngd

    problem = HalfSquare(np.zeros((1, 1)), np.ones((1, 1, 1)))
    history = bngd(problem, np.array([[-3.0]]), 1.0, 3, 0.1, 0.5)
    np.testing.assert_array_equal(history.wt[:, 0, 0], [-1.0, -0.5, -0.25, -0.125])
    np.testing.assert_array_equal(history.value[:, 0], [0.5, 0.125, 0.03125, 0.0078125])
    np.testing.assert_array_equal(history.grad_norm_sq[:, 0], [1.0, 0.25, 0.0625, 0.015625])
    assert bngd(problem, np.array([[-3.0]]), 1.0, 0, 0.1, 0.5).wt.shape == (1, 1, 1)
    assert len(bngd(problem, np.array([[-3.0]]), 1.0, 10, 0.1, 0.5, tol=1 / 16).wt) == 4
    with pytest.raises(ValueError, match="positive"):
        bngd(problem, np.array([[-3.0]]), 1.0, 3, 0.0, 0.5)
    with pytest.raises(ValueError, match="nonzero"):
        bngd(HalfSquare(np.zeros((2, 1)), np.ones((2, 1, 1))), np.array([[1.0], [0.0]]), 1.0, 3, 0.1, 0.5)
    # a batch whose rows are nonzero although some entries vanish is accepted
    assert bngd(HalfSquare(np.zeros((1, 2)), np.eye(2)[None]), np.array([[1.0, 0.0]]), 1.0, 1, 0.1, 0.5).wt.shape == (
        2,
        1,
        2,
    )
