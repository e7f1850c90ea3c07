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

from .gdnp import bisection
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
        m = float(self.u @ wt)
        return m, math.sqrt(max(float(wt @ (self.lam * wt)) - m * m, 0.0))

    def stein_gradient(self, wt: Array, oracles: Oracles) -> tuple[Array, float]:
        """``grad f(w~) = c1 u + c2 S w~`` (Stein form, book: thm-gdnp) and ``c1``; one gradient counted."""
        m, s = self.moments(wt)
        e1, e2 = expectations((self.loss.dphi, self.loss.d2phi), m, s, oracles, "gradient")
        c1 = e1 - e2 * m
        return c1 * self.u + e2 * (self.lam * wt), c1

    def value_and_grad(self, wt: Array, oracles: Oracles) -> tuple[float, Array]:
        """``(f(w~), grad f(w~))`` from one rule (L-BFGS's evaluation); one value and one gradient counted."""
        m, s = self.moments(wt)
        loss = self.loss
        e0, e1, e2 = expectations((loss.phi, loss.dphi, loss.d2phi), m, s, oracles, "value")
        n = nodes_needed(s)
        oracles.calls["gradient", n if n <= MAX_NODES else 0] += 1
        return e0, (e1 - e2 * m) * self.u + e2 * (self.lam * wt)

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
        norm2 = float(w @ (lam * w))
        norm = math.sqrt(norm2)
        wt = (g / norm) * w
        grad_wt, c1 = problem.stein_gradient(wt, oracles)
        gns.append(problem.inv_norm_sq(grad_wt))
        if _stops(gns[-1], tol, t, cap):
            break
        h = c1 * float(problem.u @ w)
        if h != 0 and g != 0:
            grad_w = (g / norm) * (grad_wt - lam * w * (float(w @ grad_wt) / norm2))
            w = w + (norm**3 / (L * g * h)) * grad_w
    return Run(np.array(gns), oracles)


def bngd(problem: DiagonalHalfspace, w0: Array, g0: float, cap: int, lr_w: float, lr_g: float, tol: float) -> Run:
    """:func:`bnrates.gdnp.bngd`: fixed steps on ``(w, g)`` by the chain rule (book: prop-bn-reparam)."""
    oracles, gns = Oracles(), []
    w, g, lam = w0.copy(), float(g0), problem.lam
    for t in range(cap + 1):
        norm2 = float(w @ (lam * w))
        norm = math.sqrt(norm2)
        grad, _ = problem.stein_gradient((g / norm) * w, oracles)
        gns.append(problem.inv_norm_sq(grad))
        if _stops(gns[-1], tol, t, cap):
            break
        wg = float(w @ grad)
        grad_w = (g / norm) * (grad - lam * w * (wg / norm2))
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
            options={"maxiter": cap, "maxcor": memory, "gtol": 0.0, "ftol": 0.0, "maxls": 50},
        )
    return Run(np.array(gns), oracles)
