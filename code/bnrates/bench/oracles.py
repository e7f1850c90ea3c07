"""S2: the acceleration race's cost per iteration of each method, over the floor of its oracle calls.

A method's oracle calls on the Gaussian halfspace are one-dimensional Gaussian quadratures
(``f``: one function, ``grad f``: two, ``d_g f``: one) and one product with ``S`` per gradient
(``O(d)`` in the eigenbasis where the race runs, :mod:`~bnrates.eigenbasis`). The floor of a
run is what those calls cost at the least: each quadrature as one bare trapezoid sum
(``psi(m + s xi) @ w``) over the nodes the run used (:func:`~bnrates.eigenbasis.nodes_needed`),
each product as one ``lam * v``. The ratio of a run's time to its floor
says how much of the time is the implementation (Python calls, rules with more nodes than the
spread needs, repeated moments) rather than the mathematics: the target of issue 22 is 3. Each
ratio is the median over rounds of one run and its floor timed back to back, so a change in the
machine's load between the two does not enter it.

The floor leaves out a method's own vector arithmetic (updates, inner products, L-BFGS's two-loop
recursion over its memory), ``O(d)`` operations that at ``d = 1000`` cost as much as a quadrature.
For L-BFGS that work is scipy's: :func:`scipy_lbfgs_seconds` times scipy's L-BFGS-B with the
race's options on a quadratic whose evaluation costs next to nothing, and S2 records it beside
the ratio.

The tuned race's grids (``GD:grid``, ``AGD:grid``, ``BN-GD:grid``, :func:`~bnrates.tuning.tune`)
run every step of a grid in lockstep; their floor is the same sum over every step's calls, so
their ratio is the cost of a step-iteration of the race over its floor.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import NDArray

from ..acceleration import METHODS, Instance, instance, race
from ..eigenbasis import DiagonalHalfspace, Oracles, Run
from ..gdnp import lbfgs_options
from ..halfspace import HALF_WIDTH, KINK_NODES
from ..quadrature import trapezoid_rule
from ..tuning import GRIDS_OF, tune
from .measure import Log, _median_time, measurement

Array = NDArray[np.float64]

CORNER: dict[str, float | str] = {"kappa": 40.0, "separability": 0.9, "loss": "logistic", "seed": 0}
"""The instance: the corner of the map where decoupling pays off (separability 0.9, ``kappa = 40``)."""
ITERATIONS = {False: 200, True: 5}
"""Iterations per timed run, full and ``--quick``."""
DIMENSIONS = {False: (10, 100, 1000), True: (10,)}
REPS = {False: 5, True: 3}
KINK = 2 * KINK_NODES[0] + KINK_NODES[1]
"""Nodes of the kink rule (a call counted with ``nodes = 0``)."""
TARGET = 3.0
FLOOR_LOOPS = 100
"""Calls per timed sample of a bare oracle call."""
NO_STOP = 1e-300
"""The runs' tolerance: below round-off, so every run does its iterations (L-BFGS unless its line search fails)."""


def floor_seconds(oracles: Oracles, problem: DiagonalHalfspace, reps: int) -> float:
    """The least time of a run's oracle calls: bare sums over the nodes used, one ``S v`` (``lam * v``) a gradient."""
    loss = problem.loss
    funcs: dict[str, list[Callable[[Array], Array]]] = {
        "value": [loss.phi],
        "gradient": [loss.dphi, loss.d2phi],
        "length": [lambda t: loss.dphi(t) * t],
    }
    v = np.ones_like(problem.lam)
    matvec = _per_call(lambda: problem.lam * v, reps)
    total = 0.0
    for (kind, n), count in oracles.calls.items():
        xi, w = trapezoid_rule(n or KINK, HALF_WIDTH)
        t = 0.3 + 2.0 * xi

        def bare(fs: list[Callable[[Array], Array]] = funcs[kind], t: Array = t, w: Array = w) -> None:
            for f in fs:
                f(t) @ w

        total += count * (_per_call(bare, reps) + (matvec if kind == "gradient" else 0.0))
    return total


def _per_call(func: Callable[[], object], reps: int) -> float:
    """Seconds per call of ``func``: the median over ``reps`` samples of :data:`FLOOR_LOOPS` calls each
    (one call takes microseconds, so a sample of one would be mostly the timer's own cost)."""

    def loop() -> None:
        for _ in range(FLOOR_LOOPS):
            func()

    return _median_time(loop, max(reps, 5))[0] / FLOOR_LOOPS


def scipy_lbfgs_seconds(problem: DiagonalHalfspace, wt0: Array, iterations: int, reps: int) -> tuple[float, int]:
    """Seconds per iteration of scipy's L-BFGS-B itself, and its iterations (median of ``reps`` runs).

    The race's options (:func:`~bnrates.gdnp.lbfgs_options`) and a callback, on the quadratic
    ``w~^T S w~ / 2 - u^T w~`` of the instance's ``S`` and ``u``, whose evaluation is one ``lam * w~``
    and two dot products: what remains is the method's own work per iteration (the two-loop
    recursion over its memory, the line search's bookkeeping, scipy's Python wrapper).
    """
    from scipy.optimize import minimize

    lam, u = problem.lam, problem.u

    def fun(x: Array) -> tuple[float, Array]:
        s_x = lam * x
        return 0.5 * float(x @ s_x) - float(u @ x), s_x - u

    def once() -> int:
        options = lbfgs_options(iterations)
        return int(minimize(fun, wt0.copy(), jac=True, method="L-BFGS-B", callback=_ignore, options=options).nit)

    done = once()
    return _median_time(once, reps)[0] / max(done, 1), done


def _ignore(intermediate_result: object) -> None:
    """A callback that does nothing (the race's L-BFGS has one: its stopping test)."""


def _grid(inst: Instance, name: str, cap: int, tol: float) -> Run:
    """A family's grid raced for ``cap`` iterations, as a :class:`~bnrates.eigenbasis.Run` of its length and calls."""
    tuned = tune(inst, name, cap, tol)
    return Run(np.full(tuned.iterations + 1, tuned.final_grad_norm_sq), tuned.oracles)


def bench_oracles(quick: bool, log: Log) -> dict:
    """S2: per method and ``d``, the time of a run of the race over its oracle floor."""
    iters, reps = ITERATIONS[quick], REPS[quick]
    found = {}
    for d in DIMENSIONS[quick]:
        inst = instance(
            d, float(CORNER["kappa"]), float(CORNER["separability"]), str(CORNER["loss"]), int(CORNER["seed"])
        )
        for method in (*METHODS, *(f"{name}:grid" for name in GRIDS_OF)):
            runner = (
                partial(_grid, inst, method.split(":")[0]) if method.endswith(":grid") else partial(race, inst, method)
            )
            run = runner(iters, tol=NO_STOP)  # also warms scipy's imports
            done = len(run.grad_norm_sq) - 1
            times, floors = [], []
            for _ in range(reps):  # a run, then its floor: a ratio within seconds, as the machine's load drifts
                times.append(_median_time(partial(runner, iters, tol=NO_STOP), 1)[0])
                floors.append(floor_seconds(run.oracles, inst.diagonal, 1))
            seconds, floor = statistics.median(times), statistics.median(floors)
            ratio = statistics.median(t / f for t, f in zip(times, floors, strict=True))
            kinds = {k: run.oracles.count(k) for k in ("value", "gradient", "length")}
            rules = "/".join(str(n or f"kink {KINK}") for n in sorted({n for _, n in run.oracles.calls}))
            per_iteration = ", ".join(f"{kinds[k] / done:.3g} {k}" for k in ("value", "gradient", "length"))
            log(
                f"S2 d = {d} {method}: {seconds / done * 1e3:.3g} ms/it, floor {floor / done * 1e3:.3g} ms/it, "
                f"ratio {ratio:.3g} ({per_iteration} quadratures per iteration)"
            )
            if method == "L-BFGS":
                own, own_done = scipy_lbfgs_seconds(inst.diagonal, np.zeros(d), iters, reps)
                log(f"S2 d = {d} scipy's L-BFGS-B on a quadratic: {own * 1e3:.3g} ms/it ({own_done} iterations)")
                found[f"lbfgs_own_work_d{d}"] = measurement(
                    own * 1e3,
                    None,
                    "<=",
                    "ms per iteration",
                    f"scipy's L-BFGS-B with the race's options and a callback on the quadratic of the same S and u "
                    f"(d = {d}; an evaluation is one S v and two dot products), {own_done} iterations, median of "
                    f"{reps}: the method's own work per iteration, which no oracle floor counts",
                    iterations=own_done,
                )
            found[f"oracle_floor_ratio_{method}_d{d}"] = measurement(
                ratio,
                TARGET,
                "<=",
                "ratio",
                f"{method} on the race's instance (d = {d}, kappa = {CORNER['kappa']:g}, separability "
                f"{CORNER['separability']}, logistic), {done} iterations as acceleration.race runs them, {reps} rounds "
                f"of a run and its floor, medians: {seconds / done * 1e3:.3g} ms per iteration against a floor of "
                f"{floor / done * 1e3:.3g} ms "
                f"({per_iteration} quadratures per iteration on rules of {rules} nodes, as the spreads need; "
                f"one S v per gradient, O(d) in the eigenbasis)" + ("" if ratio <= TARGET else "; TARGET MISSED"),
                ms_per_iteration=round(seconds / done * 1e3, 4),
                floor_ms_per_iteration=round(floor / done * 1e3, 4),
                quadratures_per_iteration={k: round(kinds[k] / done, 3) for k in ("value", "gradient", "length")},
                times_s=[round(t, 5) for t in times],
                floors_s=[round(f, 5) for f in floors],
            )
    return found
