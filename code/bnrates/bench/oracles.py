"""S2: the acceleration race's cost per iteration of each method, over the floor of its oracle calls.

A method's oracle calls on the Gaussian halfspace are one-dimensional Gaussian quadratures
(``f``: one function, ``grad f``: two, ``d_g f``: one) and one ``d x d`` product with ``S`` per
gradient. The floor of a run is what those calls cost at the least: each quadrature as one
bare trapezoid sum (``psi(m + s xi) @ w``) over the nodes its spread ``s`` needs
(:func:`nodes_needed`), each product as one ``S @ v``. The ratio of a run's time to its floor
says how much of the time is the implementation (Python calls, rules with more nodes than the
spread needs, repeated moments) rather than the mathematics: the target of issue 22 is 3.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import NDArray

from ..acceleration import METHODS, SweepHalfspace, instance, race
from ..halfspace import HALF_WIDTH, KINK_NODES, RESOLUTION
from ..quadrature import trapezoid_rule
from .measure import Log, _median_time, measurement

Array = NDArray[np.float64]

CORNER: dict[str, float | str] = {"kappa": 40.0, "separability": 0.9, "loss": "logistic", "seed": 0}
"""The instance: the corner of the map where decoupling pays off (separability 0.9, ``kappa = 40``)."""
ITERATIONS = {False: 20, True: 5}
"""Iterations per timed run, full and ``--quick``."""
DIMENSIONS = {False: (10, 100, 1000), True: (10,)}
REPS = {False: 5, True: 3}
MIN_NODES = 65
"""The fewest trapezoid nodes the floor allows: the Gaussian weight alone needs ``h <= 0.7`` (its
trapezoid error ``exp(-2 pi^2 / h^2)``), and 33 nodes (``h = 0.875``) leave 1e-11."""
KINK = 2 * KINK_NODES[0] + KINK_NODES[1]
"""Nodes of the kink rule, which any spread may use instead: no quadrature's floor has more."""
TARGET = 3.0
NO_STOP = 1e-300
"""The runs' tolerance: below round-off, so every run does its iterations (L-BFGS unless its line search fails)."""


def nodes_needed(s: float) -> int:
    """Trapezoid nodes on ``[-14, 14]`` a spread ``s`` needs for round-off accuracy: ``s h <= 0.45``.

    The rule of :func:`~bnrates.halfspace.gaussian_expectations` (its :data:`~bnrates.halfspace.RESOLUTION`),
    rounded up to ``2^k + 1`` and at least :data:`MIN_NODES`.
    """
    n = max(MIN_NODES, math.ceil(2 * HALF_WIDTH * s / RESOLUTION) + 1)
    return 2 ** math.ceil(math.log2(n - 1)) + 1


class CountingHalfspace(SweepHalfspace):
    """The race's problem, counting its quadratures by kind and by the nodes their spread needs."""

    calls: Counter[tuple[str, int]]

    def __init__(self, base: SweepHalfspace):
        super().__init__(base.S, base.u, base.loss.name, base.n_nodes)
        object.__setattr__(self, "calls", Counter())

    def _count(self, kind: str, s: Array) -> None:
        for spread in np.ravel(s):
            self.calls[kind, nodes_needed(float(spread))] += 1

    def value(self, wt: Array) -> Array:
        self._count("value", self._moments(wt)[1])
        return super().value(wt)

    def stein_coefficients(self, wt: Array) -> tuple[Array, Array]:
        self._count("gradient", self._moments(wt)[1])
        return super().stein_coefficients(wt)

    def length_derivative(self, w: Array, g: Array | float) -> Array:
        spread = self.direction_moments(np.asarray(w, dtype=np.float64))[1]
        self._count("length", np.abs(np.asarray(g, dtype=np.float64)) * spread)
        return super().length_derivative(w, g)


def floor_seconds(calls: Counter[tuple[str, int]], problem: SweepHalfspace, reps: int) -> float:
    """The least time of ``calls``: bare sums over the nodes needed (at most :data:`KINK`), one ``S @ v`` a gradient."""
    loss = problem.loss
    funcs: dict[str, list[Callable[[Array], Array]]] = {
        "value": [loss.phi],
        "gradient": [loss.dphi, loss.d2phi],
        "length": [lambda t: loss.dphi(t) * t],
    }
    v = np.ones(problem.S.shape[-1])
    S = problem.S[0]
    matvec, _ = _median_time(lambda: S @ v, max(reps, 20))
    total = 0.0
    for (kind, n), count in calls.items():
        xi, w = trapezoid_rule(min(n, KINK), HALF_WIDTH)
        t = 0.3 + 2.0 * xi

        def bare(fs: list[Callable[[Array], Array]] = funcs[kind], t: Array = t, w: Array = w) -> None:
            for f in fs:
                f(t) @ w

        seconds, _ = _median_time(bare, max(reps, 20))
        total += count * (seconds + (matvec if kind == "gradient" else 0.0))
    return total


def bench_oracles(quick: bool, log: Log) -> dict:
    """S2: per method and ``d``, the time of a run of the race over its oracle floor."""
    iters, reps = ITERATIONS[quick], REPS[quick]
    found = {}
    for d in DIMENSIONS[quick]:
        inst = instance(
            d, float(CORNER["kappa"]), float(CORNER["separability"]), str(CORNER["loss"]), int(CORNER["seed"])
        )
        for method in METHODS:
            counting = CountingHalfspace(inst.problem)
            done = len(race(counting, inst.w0, method, iters, tol=NO_STOP)) - 1
            race(inst.problem, inst.w0, method, iters, tol=NO_STOP)  # warm: the instance's caches, scipy's imports
            seconds, times = _median_time(partial(race, inst.problem, inst.w0, method, iters, tol=NO_STOP), reps)
            floor = floor_seconds(counting.calls, inst.problem, reps)
            ratio = seconds / floor
            kinds = Counter[str]()
            for (kind, _), count in counting.calls.items():
                kinds[kind] += count
            used = inst.problem.n_nodes
            needed = sorted({n for _, n in counting.calls})
            per_iteration = ", ".join(f"{kinds[k] / done:.3g} {k}" for k in ("value", "gradient", "length"))
            log(
                f"S2 d = {d} {method}: {seconds / done * 1e3:.3g} ms/it, floor {floor / done * 1e3:.3g} ms/it, "
                f"ratio {ratio:.3g} ({per_iteration} quadratures per iteration)"
            )
            found[f"oracle_floor_ratio_{method}_d{d}"] = measurement(
                ratio,
                TARGET,
                "<=",
                "ratio",
                f"{method} on the race's instance (d = {d}, kappa = {CORNER['kappa']:g}, separability "
                f"{CORNER['separability']}, logistic), {done} iterations as acceleration.race runs them, median of "
                f"{reps}: {seconds / done * 1e3:.3g} ms per iteration against a floor of {floor / done * 1e3:.3g} ms "
                f"({per_iteration} quadratures per iteration, {used} nodes each where the spreads need "
                f"{'/'.join(map(str, needed))}; one S @ v per gradient)"
                + ("" if ratio <= TARGET else "; TARGET MISSED"),
                ms_per_iteration=round(seconds / done * 1e3, 4),
                floor_ms_per_iteration=round(floor / done * 1e3, 4),
                quadratures_per_iteration={k: round(kinds[k] / done, 3) for k in ("value", "gradient", "length")},
                times_s=[round(t, 5) for t in times],
            )
    return found
