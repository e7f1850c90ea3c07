"""Tuned baselines for the acceleration race: each baseline with its best step, on the map's instances.

The acceleration map (:mod:`bnrates.acceleration`) runs GD, AGD and BN-GD with the global step
``1 / zeta``. This sweep runs the *variants* of :data:`VARIANTS` on the same instances (the
map's seeds, :func:`map_seed`) with a cap of its own, so that a reader sees each baseline with
its best step and how much a verdict moves:

- ``GD:grid``, ``AGD:grid`` -- the best step ``m / zeta`` for ``m`` in :data:`STEPS` (AGD with the
  convex schedule), per instance;
- ``BN-GD:grid`` -- the best pair ``(a / zeta, b / zeta)`` on ``(w, g)``, ``a`` in :data:`BN_STEPS_W`,
  ``b`` in :data:`BN_STEPS_G`, per instance;
- ``GD:1``, ``AGD:1``, ``BN-GD:1:1`` -- the map's untuned step ``1 / zeta``;
- ``GD-Armijo`` -- backtracking from ``2 x`` the last accepted step (:func:`~bnrates.eigenbasis.gd_armijo`,
  first trial :data:`ARMIJO_FIRST` ``/ zeta``);
- ``AGD-strongly-convex`` -- step ``1 / zeta`` and the constant momentum ``(sqrt(q) - 1) / (sqrt(q) + 1)``,
  ``q = zeta / mu`` with ``mu = E[phi''] / kappa`` at the minimiser (``c2_star / kappa``): the
  curvature at the solution, which a practitioner does not know, so this variant is an oracle;
- ``GDNP`` and ``L-BFGS`` untuned, as the map runs them (Algorithm 1's constants are the theorem's).

A grid is raced in lockstep (:func:`tune`): every step runs, one batched gradient per iteration,
until the first reaches the tolerance; its run in the race is the row, and the step runs alone
for as many iterations to time it. Within a family every step costs the same oracle calls per
iteration, so the fewest iterations is also the fewest oracle calls. Every task records its run's
iterations, oracle calls (:class:`~bnrates.eigenbasis.Oracles`) and seconds, and what the tuning cost.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from . import acceleration, eigenbasis, sweeps
from .eigenbasis import Run
from .sweeps import Sweep, choice

STEPS = tuple(2**k for k in range(17))
"""Multiples of ``1 / zeta`` tried for GD and AGD: ``1, 2, 4, .., 65536``. The grid is that wide
because near separable data the curvature at the minimiser (``c2_star``) is far below ``zeta``, and
the best fixed step with it: ``16384 / zeta`` for GD at ``kappa = 1600``, separability 0.95."""
BN_STEPS_W = tuple(4**k for k in range(9))
"""Multiples of ``1 / zeta`` tried for BN-GD's step on ``w``: ``1, 4, .., 65536`` (the effective step
on the direction is ``lr_w / ||w||^2_S``, and ``||w||`` grows)."""
BN_STEPS_G = tuple(4**k for k in range(5))
"""Multiples of ``1 / zeta`` tried for BN-GD's step on ``g``: ``1, 4, .., 256``."""
GRIDS_OF = {
    "GD": tuple(f"GD:{m}" for m in STEPS),
    "AGD": tuple(f"AGD:{m}" for m in STEPS),
    "BN-GD": tuple(f"BN-GD:{a}:{b}" for a in BN_STEPS_W for b in BN_STEPS_G),
}
"""Each tuned family's grid of fixed steps, by variant name (``"GD:16"``: step ``16 / zeta``)."""
ARMIJO_FIRST = 256
"""GD-Armijo's first trial step, in multiples of ``1 / zeta``."""
UNTUNED = {"GD": "GD:1", "AGD": "AGD:1", "BN-GD": "BN-GD:1:1"}
"""The variants that are the acceleration map's untuned runs (step ``1 / zeta``), by family."""
VARIANTS = (
    "GDNP",
    "L-BFGS",
    "GD-Armijo",
    "AGD-strongly-convex",
    *UNTUNED.values(),
    *(f"{f}:grid" for f in GRIDS_OF),
)
"""The race's tasks on each instance: the solo variants, and one ``:grid`` task per family of
:data:`GRIDS_OF` that races its whole grid in lockstep (:func:`tune`)."""


def family(variant: str) -> str:
    """The method a variant tunes: ``"GD:16"`` -> ``"GD"``, ``"BN-GD:grid"`` -> ``"BN-GD"``, ``"GDNP"`` -> itself."""
    return variant.split(":")[0]


GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "quick": {
        "d": (10,),
        "kappa": (1.0, 6.0, 40.0, 250.0),
        "separability": (0.8,),
        "loss": ("logistic",),
        "seed": (0,),
        "cap": (1000,),
        "variant": VARIANTS,
    },
    "full": {
        "d": (10,),
        "kappa": acceleration.KAPPAS[:-1],
        "separability": acceleration.SEPARABILITIES,
        "loss": acceleration.LOSSES,
        "seed": (0,),
        "cap": (200_000,),
        "variant": VARIANTS,
    },
}
"""``quick`` (40 tasks, seconds: three of the corner's instances and one at ``kappa = 250``) and
``full`` (the map's 120 instances at ``d = 10`` and ``kappa <= 1600``, 1200 tasks). The map's
``kappa = 10^4`` is left out: there the best fixed step of GD needs 1e5 to 3e5 iterations
(measured on three instances), and racing its 17 steps about 100 s per instance."""


def map_seed(params: dict) -> int:
    """The acceleration map's task seed for these instance parameters: the tuned runs race on its instances."""
    return sweeps.task_seed(acceleration.SWEEP, {**params, "method": "GD"})


def _steps(variant: str) -> list[float]:
    return [float(x) for x in variant.split(":")[1:]]


def run_variant(inst: acceleration.Instance, variant: str, cap: int, tol: float = acceleration.TOL) -> Run:
    """One solo variant on the map's instance, in the eigenbasis (:mod:`~bnrates.eigenbasis`): a
    variant of :data:`VARIANTS` other than the ``:grid`` ones, or a step of a family's grid (:data:`GRIDS_OF`)."""
    name = family(variant)
    allowed = [v for v in VARIANTS if not v.endswith(":grid")]
    if variant not in allowed and variant not in GRIDS_OF.get(name, ()):
        raise ValueError(
            f"variant must be one of {', '.join(allowed)} or a step of the grids of "
            f"{', '.join(GRIDS_OF)} ({', '.join(GRIDS_OF['GD'][:3])}, ..); got {variant!r}"
        )
    problem, zero = inst.diagonal, 0 * inst.w0_diagonal
    unit = 1.0 / problem.loss.curvature_bound  # 1 / zeta with L = 1
    if name in ("GDNP", "L-BFGS"):
        return acceleration.race(inst, name, cap, tol)
    if name == "GD-Armijo":
        return eigenbasis.gd_armijo(problem, zero, cap, ARMIJO_FIRST * unit, tol)
    if name == "AGD-strongly-convex":
        kappa = 1.0 / float(problem.lam.min())
        q = (1.0 / unit) / (inst.c2_star / kappa)
        beta = (math.sqrt(q) - 1) / (math.sqrt(q) + 1)
        return eigenbasis.agd(problem, zero, cap, unit, tol, momentum=beta)
    steps = _steps(variant)
    if name == "GD":
        return eigenbasis.gd(problem, zero, cap, steps[0] * unit, tol)
    if name == "AGD":
        return eigenbasis.agd(problem, zero, cap, steps[0] * unit, tol)
    return eigenbasis.bngd(problem, inst.w0_diagonal, 0.0, cap, steps[0] * unit, steps[1] * unit, tol)


def tune(inst: acceleration.Instance, name: str, cap: int, tol: float = acceleration.TOL) -> eigenbasis.Tuned:
    """The grid of family ``name`` (:data:`GRIDS_OF`) raced in lockstep on the instance until its first step
    reaches ``tol`` (:func:`~bnrates.eigenbasis.tune_gd`, :func:`~bnrates.eigenbasis.tune_agd`,
    :func:`~bnrates.eigenbasis.tune_bngd`); ``best`` indexes ``GRIDS_OF[name]``."""
    if name not in GRIDS_OF:
        raise ValueError(f"name must be one of {', '.join(GRIDS_OF)}; got {name!r}")
    problem, w0 = inst.diagonal, inst.w0_diagonal
    unit = 1.0 / problem.loss.curvature_bound
    steps = np.array([_steps(v) for v in GRIDS_OF[name]]) * unit
    if name == "GD":
        return eigenbasis.tune_gd(problem, 0 * w0, cap, steps[:, 0], tol)
    if name == "AGD":
        return eigenbasis.tune_agd(problem, 0 * w0, cap, steps[:, 0], tol)
    return eigenbasis.tune_bngd(problem, w0, 0.0, cap, steps[:, 0], steps[:, 1], tol)


def _calls(oracles: eigenbasis.Oracles) -> int:
    """Every oracle call of a run or race, of every kind."""
    return sum(oracles.calls.values())


def tuning_task(params: dict, seed: int) -> dict[str, object]:
    """One variant on one instance of the map: the run's iterations to the tolerance (at most ``cap``),
    oracle calls and seconds, and what finding it cost.

    A ``:grid`` variant races its family's grid (:func:`tune`): the row is the race's run of its
    winning step (``step``), whose iterations and gradients the race counted; ``run_seconds`` times
    that step alone for as many iterations, and ``tuning_oracle_calls`` is the whole race's calls.
    If no step reached the tolerance the row is censored, ``step`` is empty and the counts are the
    race's. A solo variant's ``step`` is its own name and its tuning is its run.

    The race's count, not a solo rerun's, is the row's: where a run is sensitive to round-off (BN-GD
    on some instances) the winning step alone can take longer than in the race, whose rows differ
    from a solo run in the order of the sums only. The race's count is the one the baseline reached.
    """
    inst = acceleration.instance(params["d"], params["kappa"], params["separability"], params["loss"], map_seed(params))
    variant, cap = params["variant"], params["cap"]
    if not variant.endswith(":grid"):
        start = time.perf_counter()
        run = run_variant(inst, variant, cap)
        run_seconds = time.perf_counter() - start
        outcomes = acceleration.run_outcomes(run)
        return {
            **outcomes,
            "c2_star": inst.c2_star,
            "step": variant,
            "run_seconds": run_seconds,
            "tuning_oracle_calls": _calls(run.oracles),
        }
    name = family(variant)
    start = time.perf_counter()
    tuned = tune(inst, name, cap)
    run_seconds = time.perf_counter() - start
    step = "" if tuned.best is None else GRIDS_OF[name][tuned.best]
    if step:
        start = time.perf_counter()
        run_variant(inst, step, tuned.iterations, tol=0.0)  # the winning step alone, as many iterations
        run_seconds = time.perf_counter() - start
    return {
        "iterations": tuned.iterations,
        "censored": not step,
        "final_grad_norm_sq": tuned.final_grad_norm_sq,
        "gradients": int(tuned.gradients[tuned.best]) if step else tuned.oracles.count("gradient"),
        "function_values": 0,
        "length_evaluations": 0,
        "c2_star": inst.c2_star,
        "step": step,
        "run_seconds": run_seconds,
        "tuning_oracle_calls": _calls(tuned.oracles),
    }


SWEEP = Sweep(
    name="tuning",
    axes=(*acceleration.INSTANCE_AXES, choice("variant", VARIANTS)),
    grids=GRIDS,
    seed_axes=acceleration.SEED_AXES,
    task=tuning_task,
    outcomes=(*acceleration.RUN_OUTCOMES, "c2_star", "step", "run_seconds", "tuning_oracle_calls"),
)
"""The tuned-baselines sweep; its ``task_seed`` column is its own, the instance's seed is :func:`map_seed`."""
