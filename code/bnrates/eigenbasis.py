"""The acceleration race in the eigenbasis of ``S``: ``O(d)`` oracles and lean kernels.

Chapter "Where decoupling pays off".

Every method of the race (GD, AGD, Algorithm 1, BN-GD, L-BFGS) is equivariant under rotations
[D]: with ``S = Q diag(lam) Q^T``, the run on ``(diag(lam), Q^T u)`` from ``Q^T w0`` has the
iterates ``Q^T w~_t`` and the same ``||grad f(w~_t)||_{S^-1}``, because each update is built
from gradients, inner products and products with ``S``. In that basis ``S v`` costs ``d``
multiplications instead of ``d^2``, so an iteration at ``d = 1000`` no longer costs a dozen
``d x d`` products (29 ms for GD in the sweep of cap 500).

The kernels :func:`gd`, :func:`agd`, :func:`gdnp`, :func:`bngd`, :func:`lbfgs` run the same
iterations as :func:`bnrates.gdnp.gd`, :func:`~bnrates.gdnp.agd`, :func:`~bnrates.gdnp.gdnp`
(``h = "stein"``), :func:`~bnrates.gdnp.bngd` and :func:`~bnrates.gdnp.lbfgs` on one instance,
and record only what the race measures: ``||grad f(w~_t)||^2_{S^-1}`` and the oracle calls
(:class:`Oracles`). Each expectation is one trapezoid sum with the nodes its spread needs
(:func:`nodes_needed`) or, for a long ``w~``, the kink rule of :func:`~bnrates.halfspace.kink_rule`:
the accuracy of :func:`~bnrates.halfspace.gaussian_expectations` (round-off), at the cost of the
nodes actually needed. The test ``test_eigenbasis`` compares every kernel with its reference
on rotated instances, iterate by iterate.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .gdnp import bisection, lbfgs_options
from .halfspace import HALF_WIDTH, RESOLUTION, GaussianHalfspace, kink_rule
from .losses import Loss, get_loss
from .quadrature import trapezoid_rule

Array = NDArray[np.float64]
Integrand = Callable[[Array], Array]

MIN_NODES = 65
"""The fewest trapezoid nodes a spread gets: the Gaussian weight alone needs ``h <= 0.7`` (its
trapezoid error ``exp(-2 pi^2 / h^2)``), and 33 nodes (``h = 0.875``) leave 1e-11."""
MAX_NODES = 1025
"""Most trapezoid nodes: beyond ``s = 0.45 (MAX_NODES - 1) / 28 = 16.5`` the kink rule takes over,
as in :func:`~bnrates.halfspace.gaussian_expectations` with the race's 1025 nodes."""


def nodes_needed(s: float) -> int:
    """Trapezoid nodes on ``[-14, 14]`` a spread ``s`` needs for round-off accuracy: ``s h <= 0.45``.

    The rule of :func:`~bnrates.halfspace.gaussian_expectations` (its
    :data:`~bnrates.halfspace.RESOLUTION`), rounded up to ``2^k + 1`` and at least
    :data:`MIN_NODES`. A result above :data:`MAX_NODES` means: the kink rule.
    """
    intervals = max(MIN_NODES - 1, math.ceil(2 * HALF_WIDTH * s / RESOLUTION))
    return (1 << (intervals - 1).bit_length()) + 1  # 2^ceil(log2(intervals)) + 1, in integers


@dataclass
class Oracles:
    """The oracle calls of a run, by kind: ``calls[kind, nodes]`` (``nodes = 0``: the kink rule).

    Kinds: ``"gradient"`` (``E[phi']`` and ``E[phi'']`` on one rule, plus one ``S v``),
    ``"value"`` (``E[phi]``, evaluated with a gradient: L-BFGS's line search), ``"length"``
    (``E[phi'(X) X]``, one ``d_g f`` of the bisection).
    """

    calls: Counter[tuple[str, int]] = field(default_factory=Counter)

    def count(self, kind: str) -> int:
        """Calls of ``kind``, over all rules."""
        return sum(n for (k, _), n in self.calls.items() if k == kind)


def expectations(funcs: Sequence[Integrand], m: float, s: float, oracles: Oracles, kind: str) -> list[float]:
    """``E[psi(m + s xi)]``, ``xi ~ N(0, 1)``, for each ``psi``; one call of ``kind`` counted.

    The trapezoid rule of :func:`~bnrates.quadrature.trapezoid_rule` on ``[-14, 14]`` with
    :func:`nodes_needed` ``(s)`` nodes, or the kink rule beyond :data:`MAX_NODES` (book:
    thm-gdnp; the expectations of Eq. (16) are one-dimensional).
    """
    n = nodes_needed(s)
    if n <= MAX_NODES:
        xi, w = trapezoid_rule(n, HALF_WIDTH)
        t = m + s * xi
        oracles.calls[kind, n] += 1
        return [float(f(t) @ w) for f in funcs]
    nodes, weights = kink_rule(np.array([m]), np.array([s]))
    t = m + s * nodes[0]
    oracles.calls[kind, 0] += 1
    return [float(f(t) @ weights[0]) for f in funcs]


@dataclass(frozen=True)
class DiagonalHalfspace:
    """One Gaussian halfspace instance (Eq. (16)) in the eigenbasis of its ``S``.

    Attributes
    ----------
    lam : ndarray, shape ``(d,)``
        The eigenvalues of ``S``: ``S = diag(lam)`` here.
    u : ndarray, shape ``(d,)``
        ``Q^T u``.
    loss : Loss
    rotation : ndarray, shape ``(d, d)``
        ``Q``, the eigenvectors: a vector ``v`` here is ``Q v`` in the original basis.
    """

    lam: Array
    u: Array
    loss: Loss
    rotation: Array

    @classmethod
    def of(cls, problem: GaussianHalfspace) -> DiagonalHalfspace:
        """The instance of a batch of one ``problem`` in the eigenbasis of its ``S`` (one ``eigh``)."""
        if problem.u.shape[0] != 1 or problem.u.ndim != 2:
            raise ValueError(f"problem must be a batch of one instance, u of shape (1, d); got {problem.u.shape}")
        lam, Q = np.linalg.eigh(problem.S[0])
        return cls(lam, Q.T @ problem.u[0], get_loss(problem.loss), Q)

    def to_eigenbasis(self, v: Array) -> Array:
        """``Q^T v`` for ``v`` of shape ``(d,)`` in the original basis."""
        return self.rotation.T @ v

    def moments(self, wt: Array) -> tuple[float, float]:
        """Mean and spread of ``z^T w~``: ``m = u^T w~``, ``s^2 = w~^T S w~ - m^2``."""
        m, s, _ = self._moments(wt)
        return m, s

    def _moments(self, wt: Array) -> tuple[float, float, Array]:
        """:meth:`moments` and ``S w~``, which the gradient needs too."""
        m = float(self.u @ wt)
        s_wt = self.lam * wt
        return m, math.sqrt(max(float(wt @ s_wt) - m * m, 0.0)), s_wt

    def stein_gradient(self, wt: Array, oracles: Oracles) -> tuple[Array, float]:
        """``grad f(w~) = c1 u + c2 S w~`` (Stein form, book: thm-gdnp) and ``c1``; one gradient counted."""
        m, s, s_wt = self._moments(wt)
        e1, e2 = expectations((self.loss.dphi, self.loss.d2phi), m, s, oracles, "gradient")
        c1 = e1 - e2 * m
        return c1 * self.u + e2 * s_wt, c1

    def value_and_grad(self, wt: Array, oracles: Oracles) -> tuple[float, Array]:
        """``(f(w~), grad f(w~))`` from one rule (L-BFGS's evaluation); one value and one gradient counted."""
        m, s, s_wt = self._moments(wt)
        loss = self.loss
        e0, e1, e2 = expectations((loss.phi, loss.dphi, loss.d2phi), m, s, oracles, "value")
        n = nodes_needed(s)
        oracles.calls["gradient", n if n <= MAX_NODES else 0] += 1
        return e0, (e1 - e2 * m) * self.u + e2 * s_wt

    def inv_norm_sq(self, v: Array) -> float:
        """``||v||^2_{S^-1} = sum v_i^2 / lam_i``."""
        return float(v @ (v / self.lam))

    def length_derivative(self, w: Array, oracles: Oracles) -> Callable[[Array], Array]:
        """``g -> d_g f(w, g) = E[phi'(X) X] / g`` at the direction ``w`` (as
        :meth:`~bnrates.halfspace.GaussianHalfspace.length_derivative`), for :func:`~bnrates.gdnp.bisection`.

        ``X ~ N(g m_w, g^2 s_w^2)`` with the direction moments ``(m_w, s_w)`` of ``w / ||w||_S``,
        computed once here; at ``g = 0`` the value is ``phi'(0) m_w``. Each call counts one ``"length"``.
        """
        norm = math.sqrt(float(w @ (self.lam * w)))
        uw = float(self.u @ w)
        mv = uw / norm
        sv = math.sqrt(max(norm * norm - uw * uw, 0.0)) / norm
        dphi = self.loss.dphi
        at_zero = float(dphi(np.zeros(1))[0]) * mv

        def integrand(t: Array) -> Array:
            return dphi(t) * t

        def dg(length: Array) -> Array:
            g = float(np.asarray(length).item())  # one instance: shape () or (1,)
            if g == 0:
                return np.array([at_zero])
            return np.array([expectations((integrand,), g * mv, abs(g) * sv, oracles, "length")[0] / g])

        return dg


def _stops(grad_norm_sq: float, tol: float, t: int, cap: int) -> bool:
    """A run ends at the tolerance, at the cap, or where a too-long step made the gradient non-finite."""
    return grad_norm_sq < tol or t == cap or not math.isfinite(grad_norm_sq)


@dataclass(frozen=True)
class Run:
    """A kernel's run: ``||grad f(w~_t)||^2_{S^-1}`` for ``t = 0 .. T`` (shape ``(T + 1,)``) and its oracle calls."""

    grad_norm_sq: Array
    oracles: Oracles


def gd(problem: DiagonalHalfspace, wt0: Array, cap: int, step: float, tol: float) -> Run:
    """:func:`bnrates.gdnp.gd`: ``w~_{t+1} = w~_t - step grad f(w~_t)``.

    Until ``||grad f||^2_{S^-1} < tol`` or ``cap`` steps.
    """
    oracles, gns, wt = Oracles(), [], wt0.copy()
    for t in range(cap + 1):
        grad, _ = problem.stein_gradient(wt, oracles)
        gns.append(problem.inv_norm_sq(grad))
        if _stops(gns[-1], tol, t, cap):
            break
        wt = wt - step * grad
    return Run(np.array(gns), oracles)


def agd(
    problem: DiagonalHalfspace, wt0: Array, cap: int, step: float, tol: float, momentum: float | None = None
) -> Run:
    """:func:`bnrates.gdnp.agd`: the convex schedule ``beta_t = (t - 1) / (t + 2)``, or a constant ``momentum``.

    The stopping test is on the main sequence ``x_t`` (one gradient), the step on ``y_t`` (another,
    except while ``beta_t = 0``, where ``y_t = x_t``): two gradients per iteration.
    """
    oracles, gns = Oracles(), []
    wt, prev = wt0.copy(), wt0.copy()
    for t in range(cap + 1):
        grad, _ = problem.stein_gradient(wt, oracles)
        gns.append(problem.inv_norm_sq(grad))
        if _stops(gns[-1], tol, t, cap):
            break
        beta = max(t - 1, 0) / (t + 2) if momentum is None else momentum
        if beta == 0:
            prev, wt = wt, wt - step * grad
        else:
            y = wt + beta * (wt - prev)
            prev, wt = wt, y - step * problem.stein_gradient(y, oracles)[0]
    return Run(np.array(gns), oracles)


def gd_armijo(problem: DiagonalHalfspace, wt0: Array, cap: int, step0: float, tol: float, c: float = 1e-4) -> Run:
    """Gradient descent with a backtracking (Armijo) line search on ``w~``.

    Each iteration tries ``step = 2 * (the last accepted step)`` (``step0`` at first) and halves it
    until ``f(w~ - step grad) <= f(w~) - c step ||grad||^2`` (at most 60 halvings); every trial is one
    value (``E[phi]``) counted, the accepted point's value is reused, its gradient is one more call.
    """
    oracles, gns, wt, step = Oracles(), [], wt0.copy(), step0 / 2
    loss = problem.loss
    value = expectations((loss.phi,), *problem.moments(wt), oracles, "value")[0]
    for t in range(cap + 1):
        grad, _ = problem.stein_gradient(wt, oracles)
        gns.append(problem.inv_norm_sq(grad))
        if _stops(gns[-1], tol, t, cap):
            break
        g2, step = float(grad @ grad), 2 * step
        for _ in range(60):
            trial = wt - step * grad
            trial_value = expectations((loss.phi,), *problem.moments(trial), oracles, "value")[0]
            if trial_value <= value - c * step * g2:
                break
            step /= 2
        wt, value = trial, trial_value
    return Run(np.array(gns), oracles)


def gdnp(problem: DiagonalHalfspace, w0: Array, cap: int, n_bisection: int, L: float, tol: float) -> Run:
    """Algorithm 1 (:func:`bnrates.gdnp.gdnp`, ``h = "stein"``), until ``||grad f||^2_{S^-1} < tol`` or ``cap`` steps.

    ``g_t = Bisection(T_s, d_g f(w_t, .))`` (:func:`~bnrates.gdnp.bisection`), ``w~_t = g_t w_t / ||w_t||_S``,
    ``h_t = c1(w~_t) u^T w_t``, ``w_{t+1} = w_t + ||w_t||^3_S / (L g_t h_t) grad_w f(w_t, g_t)``
    (paper Sec. 4, Algorithm 1; book: thm-gdnp).
    """
    oracles, gns, w = Oracles(), [], w0.copy()
    lam = problem.lam
    for t in range(cap + 1):
        g = float(bisection(problem.length_derivative(w, oracles), n_bisection)[0][0])
        s_w = lam * w
        norm2 = float(w @ s_w)
        norm = math.sqrt(norm2)
        wt = (g / norm) * w
        grad_wt, c1 = problem.stein_gradient(wt, oracles)
        gns.append(problem.inv_norm_sq(grad_wt))
        if _stops(gns[-1], tol, t, cap):
            break
        h = c1 * float(problem.u @ w)
        if h != 0 and g != 0:
            grad_w = (g / norm) * (grad_wt - s_w * (float(w @ grad_wt) / norm2))
            w = w + (norm**3 / (L * g * h)) * grad_w
    return Run(np.array(gns), oracles)


def bngd(problem: DiagonalHalfspace, w0: Array, g0: float, cap: int, lr_w: float, lr_g: float, tol: float) -> Run:
    """:func:`bnrates.gdnp.bngd`: fixed steps on ``(w, g)`` by the chain rule (book: prop-bn-reparam)."""
    oracles, gns = Oracles(), []
    w, g, lam = w0.copy(), float(g0), problem.lam
    for t in range(cap + 1):
        s_w = lam * w
        norm2 = float(w @ s_w)
        norm = math.sqrt(norm2)
        grad, _ = problem.stein_gradient((g / norm) * w, oracles)
        gns.append(problem.inv_norm_sq(grad))
        if _stops(gns[-1], tol, t, cap):
            break
        wg = float(w @ grad)
        grad_w = (g / norm) * (grad - s_w * (wg / norm2))
        w, g = w - lr_w * grad_w, g - lr_g * wg / norm
    return Run(np.array(gns), oracles)


def lbfgs(problem: DiagonalHalfspace, wt0: Array, cap: int, tol: float, memory: int = 10) -> Run:
    """:func:`bnrates.gdnp.lbfgs` (scipy's ``L-BFGS-B``, no bounds, its own stopping rules off).

    Every evaluation of scipy's (its line search's included) counts one value and one gradient;
    the stopping test at an accepted iterate reuses the evaluation made there.
    """
    from scipy.optimize import minimize

    oracles, gns = Oracles(), []
    seen: dict[bytes, Array] = {}

    def fun(x: Array) -> tuple[float, Array]:
        value, grad = problem.value_and_grad(x, oracles)
        seen.clear()
        seen[x.tobytes()] = grad
        return value, grad

    def reached(x: Array) -> bool:
        grad = seen.get(x.tobytes())
        if grad is None:
            grad = fun(x)[1]
        gns.append(problem.inv_norm_sq(grad))
        return gns[-1] < tol

    def callback(intermediate_result) -> None:
        if reached(intermediate_result.x):
            raise StopIteration

    if not reached(wt0.copy()):
        minimize(
            fun,
            wt0.copy(),
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options=lbfgs_options(cap, memory),
        )
    return Run(np.array(gns), oracles)


def batch_expectations(funcs: Sequence[Integrand], m: Array, s: Array, oracles: Oracles, kind: str) -> Array:
    """:func:`expectations` for ``B`` means and spreads at once: shape ``(len(funcs), B)``; ``B`` calls counted.

    Each row gets the rule :func:`expectations` gives it (the trapezoid rule with its
    :func:`nodes_needed`, or the kink rule), and the rows that share a rule share one array
    pass per ``psi``: a race over ``B`` step sizes pays the nodes each row needs, and the
    Python overhead of a call once per rule instead of once per row.

    Parameters
    ----------
    m, s : ndarray, shape ``(B,)``
        Means and spreads of ``m + s xi``, ``s >= 0``.
    """
    out = np.empty((len(funcs), m.shape[0]))
    intervals = np.maximum(MIN_NODES - 1, np.ceil(2 * HALF_WIDTH * s / RESOLUTION)).astype(np.int64)
    nodes = np.where(intervals <= MAX_NODES - 1, np.left_shift(1, _bit_length(intervals - 1)) + 1, 0)
    for n in np.unique(nodes):
        rows = nodes == n
        if n:
            xi, w = trapezoid_rule(int(n), HALF_WIDTH)
            t = m[rows, None] + s[rows, None] * xi
            for k, f in enumerate(funcs):
                out[k, rows] = f(t) @ w
        else:
            xi, weights = kink_rule(m[rows], s[rows])
            t = m[rows, None] + s[rows, None] * xi
            for k, f in enumerate(funcs):
                out[k, rows] = np.einsum("ij,ij->i", f(t), weights)
        oracles.calls[kind, int(n)] += int(rows.sum())
    return out


def _bit_length(x: NDArray[np.int64]) -> NDArray[np.int64]:
    """``int.bit_length`` of each entry of ``x >= 0`` (exact below ``2^52``), as :func:`nodes_needed` rounds."""
    return np.where(x > 0, np.frexp(x.astype(np.float64))[1], 0).astype(np.int64)


def batch_stein_gradients(problem: DiagonalHalfspace, wt: Array, oracles: Oracles) -> tuple[Array, Array]:
    """:meth:`DiagonalHalfspace.stein_gradient` for ``B`` points ``wt`` of shape ``(B, d)``: the gradients
    ``(B, d)`` and their ``||grad f||^2_{S^-1}``, shape ``(B,)``; ``B`` gradients counted."""
    lam, u = problem.lam, problem.u
    m = wt @ u
    s = np.sqrt(np.maximum(np.einsum("bi,bi->b", wt, wt * lam) - m * m, 0.0))
    e1, e2 = batch_expectations((problem.loss.dphi, problem.loss.d2phi), m, s, oracles, "gradient")
    grad = (e1 - e2 * m)[:, None] * u + e2[:, None] * (lam * wt)
    return grad, np.einsum("bi,bi->b", grad, grad / lam)


@dataclass(frozen=True)
class Tuned:
    """A race of ``B`` step sizes run in lockstep (:func:`tune_gd`, :func:`tune_agd`, :func:`tune_bngd`).

    Attributes
    ----------
    best : int or None
        Index of the first step to reach the tolerance (the lowest index among those reaching it
        at the same iteration), ``None`` if none did within the cap.
    iterations : int
        The iteration the race stopped at: the best step's iterations to the tolerance, else the cap
        (or the iteration where the last step diverged).
    final_grad_norm_sq : float
        ``||grad f||^2_{S^-1}`` where the race stopped: the best step's, else the smallest of the
        steps still running (``inf`` if all diverged).
    diverged : ndarray of bool, shape ``(B,)``
        The steps whose gradient became non-finite before the race stopped.
    gradients : ndarray of int, shape ``(B,)``
        Each step's gradients until it stopped (as its solo kernel counts them).
    oracles : Oracles
        The race's calls, all steps together.
    """

    best: int | None
    iterations: int
    final_grad_norm_sq: float
    diverged: NDArray[np.bool_]
    gradients: NDArray[np.int64]
    oracles: Oracles


class _Lockstep:
    """The bookkeeping of a race in lockstep: which steps are still running, and when one wins."""

    def __init__(self, n: int):
        self.index = np.arange(n)
        self.diverged = np.zeros(n, dtype=bool)
        self.gradients = np.zeros(n, dtype=np.int64)
        self.oracles = Oracles()

    def gradient(self, problem: DiagonalHalfspace, wt: Array) -> tuple[Array, Array]:
        """:func:`batch_stein_gradients` of the running steps' points, one gradient counted to each."""
        self.gradients[self.index] += 1
        return batch_stein_gradients(problem, wt, self.oracles)

    def verdict(self, grad_norm_sq: Array, tol: float, t: int, cap: int) -> Tuned | NDArray[np.bool_]:
        """The race's end at iteration ``t`` (a :class:`Tuned`), or the mask of the running steps that go on."""
        finite = np.isfinite(grad_norm_sq)
        self.diverged[self.index[~finite]] = True
        reached = finite & (grad_norm_sq < tol)
        if reached.any():
            first = int(np.flatnonzero(reached)[0])  # the running steps keep the grid's order
            best = int(self.index[first])
            return Tuned(best, t, float(grad_norm_sq[first]), self.diverged, self.gradients, self.oracles)
        if t == cap or not finite.any():
            final = float(grad_norm_sq[finite].min()) if finite.any() else math.inf
            return Tuned(None, t, final, self.diverged, self.gradients, self.oracles)
        self.index = self.index[finite]
        return finite


def _check_steps(steps: Array, name: str) -> Array:
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or steps.size == 0 or not np.all(steps > 0):
        raise ValueError(f"{name} must be a non-empty 1-d array of positive steps; got {steps!r}")
    return steps


def tune_gd(problem: DiagonalHalfspace, wt0: Array, cap: int, steps: Array, tol: float) -> Tuned:
    """:func:`gd` with each step of ``steps`` (shape ``(B,)``) from ``wt0`` (shape ``(d,)``), in lockstep,
    until the first reaches ``||grad f||^2_{S^-1} < tol`` or ``cap`` steps: the best step of the grid
    and its iterations, at the cost of one batched gradient per iteration."""
    steps = _check_steps(steps, "steps")
    race, wt = _Lockstep(steps.size), np.tile(wt0, (steps.size, 1))
    for t in range(cap + 1):
        grad, gns = race.gradient(problem, wt)
        going = race.verdict(gns, tol, t, cap)
        if isinstance(going, Tuned):
            return going
        wt, steps = (wt - steps[:, None] * grad)[going], steps[going]
    raise AssertionError("unreachable: the race ends at the cap")


def tune_agd(problem: DiagonalHalfspace, wt0: Array, cap: int, steps: Array, tol: float) -> Tuned:
    """:func:`agd` (the convex schedule) with each step of ``steps``, in lockstep, as :func:`tune_gd`."""
    steps = _check_steps(steps, "steps")
    race = _Lockstep(steps.size)
    wt = np.tile(wt0, (steps.size, 1))
    prev = wt.copy()
    for t in range(cap + 1):
        grad, gns = race.gradient(problem, wt)
        going = race.verdict(gns, tol, t, cap)
        if isinstance(going, Tuned):
            return going
        wt, prev, grad, steps = wt[going], prev[going], grad[going], steps[going]
        beta = max(t - 1, 0) / (t + 2)
        if beta == 0:
            prev, wt = wt, wt - steps[:, None] * grad
        else:
            y = wt + beta * (wt - prev)
            prev, wt = wt, y - steps[:, None] * race.gradient(problem, y)[0]
    raise AssertionError("unreachable: the race ends at the cap")


def tune_bngd(
    problem: DiagonalHalfspace, w0: Array, g0: float, cap: int, lr_w: Array, lr_g: Array, tol: float
) -> Tuned:
    """:func:`bngd` with each step pair ``(lr_w[k], lr_g[k])`` (shapes ``(B,)``), in lockstep, as :func:`tune_gd`."""
    lr_w, lr_g = _check_steps(lr_w, "lr_w"), _check_steps(lr_g, "lr_g")
    if lr_w.shape != lr_g.shape:
        raise ValueError(f"lr_w and lr_g must have one shape; got {lr_w.shape} and {lr_g.shape}")
    race, lam = _Lockstep(lr_w.size), problem.lam
    w, g = np.tile(w0, (lr_w.size, 1)), np.full(lr_w.size, float(g0))
    for t in range(cap + 1):
        norm2 = np.einsum("bi,bi->b", w, w * lam)
        norm = np.sqrt(norm2)
        grad, gns = race.gradient(problem, (g / norm)[:, None] * w)
        going = race.verdict(gns, tol, t, cap)
        if isinstance(going, Tuned):
            return going
        wg = np.einsum("bi,bi->b", w, grad)
        grad_w = (g / norm)[:, None] * (grad - lam * w * (wg / norm2)[:, None])
        w, g = (w - lr_w[:, None] * grad_w)[going], (g - lr_g * wg / norm)[going]
        lr_w, lr_g = lr_w[going], lr_g[going]
    raise AssertionError("unreachable: the race ends at the cap")
