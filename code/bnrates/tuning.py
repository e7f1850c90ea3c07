"""Tuned baselines for the acceleration race: each baseline with its best step, on the map's instances.

The acceleration map (:mod:`bnrates.acceleration`) runs GD, AGD and BN-GD with the global step
``1 / zeta``. This sweep runs every *variant* of :data:`VARIANTS` on the same instances (the
map's seeds, :func:`map_seed`) with a cap of its own, so that a reader can take per instance
the best step of each baseline and see how much a verdict moves:

- ``GD:m``, ``AGD:m`` -- step ``m / zeta`` for ``m`` in :data:`STEPS` (AGD with the convex schedule);
- ``BN-GD:a:b`` -- steps ``(a / zeta, b / zeta)`` on ``(w, g)`` for ``a, b`` in :data:`BN_STEPS`;
- ``GD-Armijo`` -- backtracking from ``2 x`` the last accepted step (:func:`~bnrates.eigenbasis.gd_armijo`,
  first trial ``STEPS[-1] / zeta``);
- ``AGD-strongly-convex`` -- step ``1 / zeta`` and the constant momentum ``(sqrt(q) - 1) / (sqrt(q) + 1)``,
  ``q = zeta / mu`` with ``mu = E[phi''] / kappa`` at the minimiser (``c2_star / kappa``): the
  curvature at the solution, which a practitioner does not know, so this variant is an oracle;
- ``GDNP`` and ``L-BFGS`` untuned, as the map runs them (Algorithm 1's constants are the theorem's).

Every task records its iterations and oracle calls (:class:`~bnrates.eigenbasis.Oracles`); the
cost of tuning a baseline is the sum over its grid.
"""

from __future__ import annotations

import math
from typing import Any

from . import acceleration, eigenbasis, sweeps
from .eigenbasis import Run
from .sweeps import Sweep, choice

STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
"""Multiples of ``1 / zeta`` tried for GD and AGD."""
BN_STEPS = (1, 4, 16, 64, 256)
"""Multiples of ``1 / zeta`` tried for each of BN-GD's two steps."""
VARIANTS = (
    "GDNP",
    "L-BFGS",
    "GD-Armijo",
    "AGD-strongly-convex",
    *(f"GD:{m}" for m in STEPS),
    *(f"AGD:{m}" for m in STEPS),
    *(f"BN-GD:{a}:{b}" for a in BN_STEPS for b in BN_STEPS),
)
UNTUNED = {"GD": "GD:1", "AGD": "AGD:1", "BN-GD": "BN-GD:1:1"}
"""The variants that are the acceleration map's untuned runs (step ``1 / zeta``), by family."""


def family(variant: str) -> str:
    """The method a variant tunes: ``"GD:16"`` -> ``"GD"``, ``"BN-GD:1:4"`` -> ``"BN-GD"``, ``"GDNP"`` -> ``"GDNP"``."""
    return variant.split(":")[0]


QUICK_VARIANTS = (
    "GDNP",
    "L-BFGS",
    "GD-Armijo",
    "AGD-strongly-convex",
    *(f"GD:{m}" for m in (1, 4, 16, 64)),
    *(f"AGD:{m}" for m in (1, 4, 16, 64)),
    *(f"BN-GD:{a}:{b}" for a in (1, 16, 64) for b in (1, 16, 64)),
)
"""The quick grid's variants: every family, with every other step up to ``64 / zeta`` (the largest
steps mostly diverge and cost the most), the map's untuned step ``1 / zeta`` among them."""

GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "quick": {
        "d": (10,),
        "kappa": (1.0, 6.0, 40.0, 250.0),
        "separability": (0.8,),
        "loss": ("logistic",),
        "seed": (0,),
        "cap": (1000,),
        "variant": QUICK_VARIANTS,
    },
    "full": {
        "d": (10,),
        "kappa": acceleration.KAPPAS,
        "separability": acceleration.SEPARABILITIES,
        "loss": acceleration.LOSSES,
        "seed": (0,),
        "cap": (5000,),
        "variant": VARIANTS,
    },
}
"""``quick`` (84 tasks, a few seconds: three of the corner's instances and one at ``kappa = 250``, where
GDNP needs more than the cap of 1000 and a tuned baseline does not) and
``full`` (the map's 144 instances at ``d = 10``, 6768 tasks)."""


def map_seed(params: dict) -> int:
    """The acceleration map's task seed for these instance parameters: the tuned runs race on its instances."""
    return sweeps.task_seed(acceleration.SWEEP, {**params, "method": "GD"})


def run_variant(inst: acceleration.Instance, variant: str, cap: int, tol: float = acceleration.TOL) -> Run:
    """One variant of :data:`VARIANTS` on the map's instance, in the eigenbasis (:mod:`~bnrates.eigenbasis`)."""
    name, *steps = variant.split(":")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    problem, zero = inst.diagonal, 0 * inst.w0_diagonal
    unit = 1.0 / problem.loss.curvature_bound  # 1 / zeta with L = 1
    if name in ("GDNP", "L-BFGS"):
        return acceleration.race(inst, name, cap, tol)
    if name == "GD-Armijo":
        return eigenbasis.gd_armijo(problem, zero, cap, STEPS[-1] * unit, tol)
    if name == "AGD-strongly-convex":
        kappa = 1.0 / float(problem.lam.min())
        q = (1.0 / unit) / (inst.c2_star / kappa)
        beta = (math.sqrt(q) - 1) / (math.sqrt(q) + 1)
        return eigenbasis.agd(problem, zero, cap, unit, tol, momentum=beta)
    if name == "GD":
        return eigenbasis.gd(problem, zero, cap, float(steps[0]) * unit, tol)
    if name == "AGD":
        return eigenbasis.agd(problem, zero, cap, float(steps[0]) * unit, tol)
    lr_w, lr_g = (float(s) * unit for s in steps)
    return eigenbasis.bngd(problem, inst.w0_diagonal, 0.0, cap, lr_w, lr_g, tol)


def tuning_task(params: dict, seed: int) -> dict[str, object]:
    """One variant on one instance of the map: iterations to the tolerance (at most ``cap``) and oracle calls."""
    inst = acceleration.instance(params["d"], params["kappa"], params["separability"], params["loss"], map_seed(params))
    return {**acceleration.run_outcomes(run_variant(inst, params["variant"], params["cap"])), "c2_star": inst.c2_star}


SWEEP = Sweep(
    name="tuning",
    axes=(*acceleration.INSTANCE_AXES, choice("variant", VARIANTS)),
    grids=GRIDS,
    seed_axes=acceleration.SEED_AXES,
    task=tuning_task,
    outcomes=(*acceleration.RUN_OUTCOMES, "c2_star"),
)
"""The tuned-baselines sweep; its ``task_seed`` column is its own, the instance's seed is :func:`map_seed`."""
