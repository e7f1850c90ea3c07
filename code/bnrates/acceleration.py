"""The acceleration sweep: where length-direction decoupling pays off (chapter "Where decoupling pays off").

One task runs one method on one Gaussian halfspace instance (Eq. (16))
until ``||grad f(w~_t)||^2_{S^-1} < tol`` or ``cap`` iterations, and records the count and the
oracle calls. The runs take place in the eigenbasis of ``S`` with the kernels of
:mod:`~bnrates.eigenbasis`, which do the iterations of the reference implementations named here:

- ``GD`` and ``AGD`` (Nesterov, convex schedule) on ``w~`` with step ``1 / zeta``,
  ``zeta = L sup|phi''|`` (:func:`~bnrates.gdnp.gd`, :func:`~bnrates.gdnp.agd`), from ``w~ = 0``;
- ``GDNP``, Algorithm 1 with ``T_s`` = :data:`T_S` halvings (:func:`~bnrates.gdnp.gdnp`), from a
  random direction;
- ``BN-GD``, vanilla BN gradient descent with fixed steps ``1 / zeta`` on ``(w, g)``
  (:func:`~bnrates.gdnp.bngd`), from the same direction with ``g = 0`` (i.e. ``w~ = 0``);
- ``L-BFGS`` (scipy, :func:`~bnrates.gdnp.lbfgs`) from ``w~ = 0``.

The instance (``S``, ``u``, the start direction) depends only on ``d``, ``kappa``, ``separability``, the
loss and the replicate ``seed`` axis (the seed axes), so the five methods of a cell race on the
same problem. ``S`` has the log-spaced spectrum of :func:`~bnrates.problems.random_spd` in
``[1/kappa, 1]``: ``L = 1`` and ``mu = 1/kappa`` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import eigenbasis
from .eigenbasis import DiagonalHalfspace, Run
from .gdnp import bisection, iterations_to, length_derivative_of
from .halfspace import GaussianHalfspace, halfspace_instances
from .problems import random_starts
from .rates import rayleigh_gap, theory_factor
from .rayleigh import rayleigh_argmin
from .reparametrization import s_norm
from .sweeps import Sweep, choice, integer_in, real_in

Array = NDArray[np.float64]

METHODS = ("GD", "AGD", "GDNP", "BN-GD", "L-BFGS")
LOSSES = ("logistic", "smoothed_hinge")
TOL = 1e-10
"""Gradient tolerance: ``||grad f||^2_{S^-1} < TOL``."""
T_S = 20
"""Halvings per GDNP bisection: the length error is then at most ``2^-21 |b0 - a0|`` (``|b0 - a0| <= 64``
here), so the length part ``(d_g f)^2`` stays below ``1e-13``, far below :data:`TOL`; each halving
is one quadrature, most of GDNP's cost per iteration."""
N_NODES = 1025
"""Quadrature nodes (the halfspace chapter's race uses the same)."""

SEPARABILITIES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
"""Values of the separability ``u^T S^{-1} u`` in the full grid (``-> 1``: separable data)."""
KAPPAS = (1.0, 6.0, 40.0, 250.0, 1600.0, 10000.0)

GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "quick": {
        "d": (10,),
        "kappa": (1.0, 10.0, 250.0),
        "separability": (0.3, 0.9),
        "loss": ("logistic",),
        "method": METHODS,
        "seed": (0,),
        "cap": (1000,),
    },
    "full": {
        "d": (10, 100, 1000),
        "kappa": KAPPAS,
        "separability": SEPARABILITIES,
        "loss": LOSSES,
        "method": METHODS,
        "seed": (0,),
        "cap": (500,),
    },
    "large": {
        "d": (10, 100, 1000, 2000),
        "kappa": tuple(float(k) for k in np.geomspace(1, 1e4, 12).round(1)),
        "separability": tuple(float(s) for s in np.linspace(0.04, 0.96, 24).round(2)),
        "loss": LOSSES,
        "method": METHODS,
        "seed": tuple(range(10)),
        "cap": (5000,),
    },
}
"""``quick`` (30 tasks, seconds), ``full`` (2160 tasks, what the book shows), ``large`` (115 200 tasks)."""


class SweepHalfspace(GaussianHalfspace):
    """A :class:`~bnrates.halfspace.GaussianHalfspace` that answers the sweep's repeated questions in ``O(d^2)``.

    It keeps ``S^{-1}`` (one inversion) for ``||v||^2_{S^-1}`` (:func:`~bnrates.problems.dual_norm_sq`
    calls :meth:`inv_norm_sq` instead of solving per iteration, ``O(d^3)``: 27 ms at ``d = 1000``),
    and the direction moments of the last ``w`` asked for (a bisection asks for the same ``w``
    about 27 times: :data:`T_S` halvings, the bracket's two ends and their doublings). Values and
    gradients are the parent's.
    """

    _S_inv: Array
    _last: dict[str, Any]
    """The last ``w`` asked for and its moments (keys ``w``, ``moments``)."""

    def __init__(self, S: Array, u: Array, loss: str, n_nodes: int):
        super().__init__(S, u, loss, n_nodes)
        object.__setattr__(self, "_S_inv", np.linalg.inv(self.S))
        object.__setattr__(self, "_last", {})

    def inv_norm_sq(self, v: Array) -> Array:
        """``v^T S^{-1} v`` from the stored inverse, shape ``(...)``."""
        return np.einsum("...i,...i->...", v, (self._S_inv @ v[..., None])[..., 0])

    def direction_moments(self, w: Array) -> tuple[Array, Array]:
        """The parent's moments, reused while ``w`` is unchanged (an ``O(d)`` comparison)."""
        last = self._last
        if "w" not in last or last["w"].shape != w.shape or not np.array_equal(last["w"], w):
            last["w"], last["moments"] = w.copy(), super().direction_moments(w)
        return last["moments"]


@dataclass(frozen=True)
class Instance:
    """A task's problem (batch of one), its start direction and what the theory says about it.

    Attributes
    ----------
    problem : SweepHalfspace
    w0 : ndarray, shape ``(1, d)``
        ``||w_0||_S = 1``, ``u^T w_0 < 0``.
    diagonal : DiagonalHalfspace
        The same instance in the eigenbasis of ``S``, where the race runs
        (:mod:`~bnrates.eigenbasis`).
    w0_diagonal : ndarray, shape ``(d,)``
        ``w0`` in that basis.
    g_star, rho_gap0, c2_star : float
        Optimal length (:func:`optimal_length`), ``rho(w_0) - rho*``, and ``E[phi'']`` at the
        minimiser (GD's curvature along the solution).
    """

    problem: SweepHalfspace
    w0: Array
    diagonal: DiagonalHalfspace
    w0_diagonal: Array
    g_star: float
    rho_gap0: float
    c2_star: float


@lru_cache(maxsize=2)
def instance(d: int, kappa: float, separability: float, loss: str, seed: int) -> Instance:
    """The task's instance, kept for the next call.

    The grid's last axis is the method, so a worker usually receives the five methods of one
    instance in a row; at ``d = 1000`` building it (a Haar rotation, two eigenvalue checks, an
    inverse, three solves) takes about a second.
    """
    base = halfspace_instances(d, kappa, separability, [seed], loss)
    problem = SweepHalfspace(base.S, base.u, loss, N_NODES)
    w0 = random_starts(d, [seed])
    w0 = -np.sign(np.sum(problem.u * w0, axis=-1))[:, None] * w0
    w0 = w0 / s_norm(w0, problem.S)[:, None]
    g_star = optimal_length(problem)
    w_star = rayleigh_argmin(problem.S, problem.u)
    wt_star = -g_star[:, None] * w_star / s_norm(w_star, problem.S)[:, None]
    diagonal = DiagonalHalfspace.of(problem)
    return Instance(
        problem,
        w0,
        diagonal,
        diagonal.to_eigenbasis(w0[0]),
        float(g_star[0]),
        float(rayleigh_gap(w0, problem.S, problem.u)[0]),
        float(problem.stein_coefficients(wt_star)[1][0]),
    )


def optimal_length(problem: GaussianHalfspace) -> Array:
    """``g* = ||w~*||_S``: the root of ``d_g f`` along ``-S^{-1} u`` (60 halvings), shape ``(B,)``.

    For the logistic loss it equals ``2 sqrt(separability) / (1 - separability)``
    (:func:`~bnrates.halfspace.logistic_minimizer`).
    """
    direction = -rayleigh_argmin(problem.S, problem.u)
    return bisection(partial(length_derivative_of, problem, direction), 60)[0]


def race(inst: Instance, method: str, cap: int, tol: float = TOL) -> Run:
    """One method of :data:`METHODS` on the instance for at most ``cap`` iterations, as the sweep runs it.

    In the eigenbasis of ``S`` (:mod:`~bnrates.eigenbasis`; the methods are rotation-equivariant).
    GD, AGD, BN-GD use the step ``1 / zeta`` (``L = 1``); GD, AGD and L-BFGS start from ``w~ = 0``,
    GDNP from the direction ``w0``, BN-GD from ``w0`` with ``g = 0``. A ``tol`` below round-off
    (``1e-300``) runs all ``cap`` iterations unless a line search fails (the benchmarks' fixed-length runs).

    Returns
    -------
    Run
        ``||grad f(w~_t)||^2_{S^-1}`` along the run, shape ``(iterations + 1,)``, and its oracle calls.
    """
    problem, w0 = inst.diagonal, inst.w0_diagonal
    step = 1.0 / problem.loss.curvature_bound  # 1 / zeta with L = 1
    wt0 = np.zeros_like(w0)
    if method == "GD":
        return eigenbasis.gd(problem, wt0, cap, step, tol)
    if method == "AGD":
        return eigenbasis.agd(problem, wt0, cap, step, tol)
    if method == "GDNP":
        return eigenbasis.gdnp(problem, w0, cap, T_S, 1.0, tol)
    if method == "BN-GD":
        return eigenbasis.bngd(problem, w0, 0.0, cap, step, step, tol)
    if method == "L-BFGS":
        return eigenbasis.lbfgs(problem, wt0, cap, tol)
    raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")


RUN_OUTCOMES = ("iterations", "censored", "final_grad_norm_sq", "gradients", "function_values", "length_evaluations")
"""What a race task records of its run (:func:`run_outcomes`); both race sweeps' outcomes start with these."""


def run_outcomes(run: Run) -> dict[str, object]:
    """A run's :data:`RUN_OUTCOMES`: iterations to :data:`TOL` (the run's length if never), ``censored``,
    the last ``||grad f||^2_{S^-1}`` and the oracle calls (:class:`~bnrates.eigenbasis.Oracles`)."""
    gns = run.grad_norm_sq
    its = int(iterations_to(gns[:, None], TOL)[0])
    return {
        "iterations": its if its >= 0 else len(gns) - 1,
        "censored": its < 0,
        "final_grad_norm_sq": float(gns[-1]),
        "gradients": run.oracles.count("gradient"),
        "function_values": run.oracles.count("value"),
        "length_evaluations": run.oracles.count("length"),
    }


def acceleration_task(params: dict, seed: int) -> dict[str, object]:
    """One method on one instance: iterations to :data:`TOL` (at most ``cap``) and the theory's numbers.

    Returns
    -------
    dict
        ``iterations`` (the cap if not reached), ``censored``, ``final_grad_norm_sq``, the oracle
        calls ``gradients``, ``function_values`` (L-BFGS's evaluations) and ``length_evaluations`` (GDNP's
        ``d_g f``; :class:`~bnrates.eigenbasis.Oracles`),
        ``g_star`` (optimal length), ``rate_factor`` (``(1 - mu/L)^2``), ``rho_gap0``
        (``rho(w_0) - rho*`` of the start direction), ``c2_star`` (``E[phi'']`` at the minimiser:
        GD's curvature along the solution, which vanishes as the data become separable).
    """
    d, kappa, separability = params["d"], params["kappa"], params["separability"]
    loss, method, cap = params["loss"], params["method"], params["cap"]
    inst = instance(d, kappa, separability, loss, seed)
    return {
        **run_outcomes(race(inst, method, cap)),
        "g_star": inst.g_star,
        "rate_factor": float(theory_factor(1.0 / kappa, 1.0)),
        "rho_gap0": inst.rho_gap0,
        "c2_star": inst.c2_star,
    }


SEED_NAMES = {"separability": "snr"}
"""The seed key's spelling of the ``separability`` axis: it was called ``snr`` when the seeds of the
committed table ``data/sweeps/acceleration-full.parquet`` were fixed, and keeps that spelling in
:func:`~bnrates.sweeps.task_seed` so that every task keeps its seed (:attr:`~bnrates.sweeps.Sweep.seed_names`)."""

INSTANCE_AXES = (
    integer_in("d", 2, 5000),
    real_in("kappa", 1.0, 1e6),
    real_in("separability", 0.0, 1.0, open_interval=True),
    choice("loss", LOSSES),
    integer_in("seed", 0, 10**6),
    integer_in("cap", 1, 10**6),
)
"""The axes of a race instance and its cap, shared by both race sweeps (:mod:`~bnrates.tuning`)."""
SEED_AXES = ("d", "kappa", "separability", "loss", "seed")
"""The axes that fix the instance, hence its seed."""

SWEEP = Sweep(
    name="acceleration",
    axes=(*INSTANCE_AXES, choice("method", METHODS)),
    grids=GRIDS,
    seed_axes=SEED_AXES,
    seed_names=SEED_NAMES,
    task=acceleration_task,
    outcomes=(*RUN_OUTCOMES, "g_star", "rate_factor", "rho_gap0", "c2_star"),
)
