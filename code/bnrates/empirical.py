"""Halfspaces on finite data: GDNP with its certified length search (paper Sec. 6, book: sec-ex-real).

The empirical logistic objective of :class:`EmpiricalHalfspace`, a high-accuracy reference
optimum (:func:`reference_optimum`), GDNP with a direction step adapted to non-Gaussian data
(:func:`gdnp_empirical`) and the length search on the data's margins (:func:`length_derivative`,
:func:`length_curvature`, :func:`exact_lengths`).

Shapes: data ``X`` is ``(n, d)``, labels ``y`` are ``(n,)`` in ``{-1, +1}``; batched iterates are
``(B, d)`` and histories ``(T + 1, B)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from .datasets import BinaryDataset, standardize
from .gdnp import bisection, newton_length
from .losses import Loss, get_loss
from .problems import random_starts, spectrum_bounds
from .reparametrization import inv_norm_sq, matvec, s_norm
from .validation import check_array, check_int, check_real, check_spd

Array = NDArray[np.float64]


@dataclass(frozen=True, init=False)
class EmpiricalHalfspace:
    """Eq. (16) on finite data: ``f(w~) = (1/n) sum_i phi(z_i^T w~)``, ``z_i = -y_i x_i``.

    Parameters
    ----------
    X : array, shape ``(n, d)``
        Inputs (centre them first: the paper assumes ``E[x] = 0``).
    y : array, shape ``(n,)``
        Labels in ``{-1, +1}``.
    loss : str or Loss

    Attributes
    ----------
    Z : ndarray, shape ``(n, d)``
        ``z_i = -y_i x_i``.
    S : ndarray, shape ``(d, d)``
        ``Z^T Z / n`` (must be positive definite: ``X`` of full column rank).
    u : ndarray, shape ``(d,)``
        ``mean_i z_i``.
    """

    Z: Array
    S: Array
    u: Array
    loss: Loss

    def __init__(self, X: ArrayLike, y: ArrayLike, loss: str | Loss = "logistic"):
        X_arr = check_array("X", X, ndim_min=2)
        if X_arr.ndim != 2 or X_arr.shape[0] < 1:
            raise ValueError(f"X must have shape (n, d) with n >= 1, got {X_arr.shape}")
        y_arr = check_array("y", y)
        if y_arr.shape != (X_arr.shape[0],):
            raise ValueError(f"y must have shape ({X_arr.shape[0]},) to match X {X_arr.shape}, got {y_arr.shape}")
        if not np.all(np.isin(y_arr, (-1.0, 1.0))):
            raise ValueError("y must contain only the labels -1 and +1")
        Z = -y_arr[:, None] * X_arr
        S = Z.T @ Z / Z.shape[0]
        try:
            S = check_spd("S", (S + S.T) / 2)
        except ValueError as err:
            raise ValueError("X must have full column rank so that S = Z^T Z / n is positive definite") from err
        object.__setattr__(self, "Z", Z)
        object.__setattr__(self, "S", S)
        object.__setattr__(self, "u", Z.mean(axis=0))
        object.__setattr__(self, "loss", get_loss(loss))

    def _margins(self, wt: Array) -> Array:
        return np.einsum("nd,...d->...n", self.Z, np.asarray(wt, dtype=np.float64))

    def value(self, wt: Array) -> Array:
        """``(1/n) sum_i phi(z_i^T w~)``, shape ``(...)`` for ``w~`` of shape ``(..., d)``."""
        return self.loss.phi(self._margins(wt)).mean(axis=-1)

    def grad(self, wt: Array) -> Array:
        """``(1/n) sum_i phi'(z_i^T w~) z_i``, shape ``(..., d)``."""
        return self._grad_from_margins(self._margins(wt))

    def value_and_grad(self, wt: Array) -> tuple[Array, Array]:
        """:meth:`value` and :meth:`grad` from one pass of ``Z`` for the margins (two instead of three)."""
        t = self._margins(wt)
        return self.loss.phi(t).mean(axis=-1), self._grad_from_margins(t)

    def _grad_from_margins(self, t: Array) -> Array:
        # numpy's own einsum loop reads Z at about twice the speed of single-threaded BLAS gemv here
        return np.einsum("...n,nd->...d", self.loss.dphi(t), self.Z) / self.Z.shape[0]

    def stein_coefficients(self, wt: Array) -> tuple[Array, Array]:
        """The Gaussian (moment-matched) coefficients from the data's summaries.

        ``c1 = mean phi' - (mean phi'') u^T w~``, ``c2 = mean phi''``. On non-Gaussian data
        ``grad f != c1 u + c2 S w~`` in general; GDNP only uses ``c1`` in its step size.
        """
        t = self._margins(wt)
        e1, e2 = self.loss.dphi(t).mean(axis=-1), self.loss.d2phi(t).mean(axis=-1)
        return e1 - e2 * np.einsum("...i,...i->...", self.u, wt), e2

    def sample(self, n: int, rng: np.random.Generator) -> Array:
        """``n`` rows of ``Z`` drawn uniformly with replacement, shape ``(n, d)``."""
        return self.Z[rng.integers(self.Z.shape[0], size=n)]


@dataclass(frozen=True)
class Batched:
    """One :class:`EmpiricalHalfspace` seen as ``B`` identical instances (for several starts).

    ``u`` is broadcast to ``(B, d)`` so that the batched algorithms of :mod:`bnrates.gdnp` accept
    starts of shape ``(B, d)``; ``S`` stays ``(d, d)`` and broadcasts.
    """

    base: EmpiricalHalfspace
    n_starts: int

    @property
    def S(self) -> Array:
        return self.base.S

    @property
    def u(self) -> Array:
        return np.broadcast_to(self.base.u, (self.n_starts, self.base.u.size))

    @property
    def loss(self) -> Loss:
        return self.base.loss

    def value(self, wt: Array) -> Array:
        return self.base.value(wt)

    def grad(self, wt: Array) -> Array:
        return self.base.grad(wt)

    def value_and_grad(self, wt: Array) -> tuple[Array, Array]:
        return self.base.value_and_grad(wt)


def empirical_hessian(problem: EmpiricalHalfspace, wt: ArrayLike) -> Array:
    """``(1/n) sum_i phi''(z_i^T w~) z_i z_i^T`` (logistic loss), shape ``(d, d)``."""
    Z = problem.Z
    return (Z.T * problem.loss.d2phi(Z @ np.asarray(wt, dtype=np.float64))) @ Z / Z.shape[0]


@dataclass(frozen=True)
class Reference:
    """A high-accuracy minimiser of the empirical objective.

    Attributes
    ----------
    wt : ndarray, shape ``(d,)``
    value : float
        ``f* = f(w~*)``.
    grad_norm : float
        Euclidean ``||grad f(w~*)||``.
    iterations : int
        Newton (trust-region) iterations used.
    """

    wt: Array
    value: float
    grad_norm: float
    iterations: int


REFERENCE_GTOL = 1e-12
"""Gradient tolerance (Euclidean, infinity norm inside scipy) of the reference solver."""


NEWTON_POLISH = 3
"""Plain Newton steps after the trust-region solver (quadratic convergence: round-off after one or two)."""


def reference_optimum(problem: EmpiricalHalfspace, gtol: float = REFERENCE_GTOL) -> Reference:
    """Minimise the empirical objective with ``scipy.optimize.minimize(method="trust-exact")``.

    Exact trust-region Newton with the exact gradient and Hessian (:func:`empirical_hessian`),
    started at ``w~ = 0``, stopped when ``||grad f|| < gtol``, then :data:`NEWTON_POLISH` plain
    Newton steps ``w~ <- w~ - H^{-1} grad f`` (quadratic convergence takes the gradient to
    round-off). The logistic objective is convex; a finite minimiser exists when the classes are
    not linearly separable.

    Raises
    ------
    ValueError
        If the returned point's gradient norm exceeds ``100 gtol`` (no finite minimiser found).
    """
    gtol = check_real("gtol", gtol, minimum=0.0, strict=True)
    res = minimize(
        lambda x: float(problem.value(x)),
        np.zeros(problem.u.size),
        jac=problem.grad,
        hess=lambda x: empirical_hessian(problem, x),
        method="trust-exact",
        options={"gtol": gtol, "maxiter": 500},
    )
    x = res.x
    for _ in range(NEWTON_POLISH):
        x = x - np.linalg.solve(empirical_hessian(problem, x), problem.grad(x))
    grad_norm = float(np.linalg.norm(problem.grad(x)))
    if grad_norm > 100 * gtol:
        raise ValueError(
            f"the reference solver stopped at ||grad f|| = {grad_norm:.3g} > 100 gtol: "
            "the data may be linearly separable (no finite minimiser)"
        )
    return Reference(x, float(problem.value(x)), grad_norm, int(res.nit))


@dataclass(frozen=True)
class EmpiricalGDNPHistory:
    """Trajectory of :func:`gdnp_empirical`; index ``t = 0 .. T`` on the first axis.

    Attributes
    ----------
    w : ndarray, shape ``(T + 1, B, d)``
    g : ndarray, shape ``(T + 1, B)``
    wt : ndarray, shape ``(T + 1, B, d)``
    value, grad_norm_sq, h : ndarray, shape ``(T + 1, B)``
        ``f(w~_t)``, ``||grad f(w~_t)||^2_{S^-1}`` and ``h_t = -c2_t g_t ||w_t||_S``.
    evaluations : ndarray of int, shape ``(T + 1,)``
        Evaluations of the length derivative (each one pass over the ``n`` margins) at step ``t``.
    """

    w: Array
    g: Array
    wt: Array
    value: Array
    grad_norm_sq: Array
    h: Array
    evaluations: NDArray[np.int64]


LengthRule = Literal["bisection", "newton"]


def gdnp_empirical(
    problem: EmpiricalHalfspace,
    w0: ArrayLike,
    n_steps: int,
    n_bisection: int,
    L: float | None = None,
    length_search: LengthRule = "bisection",
) -> EmpiricalGDNPHistory:
    """GDNP (Algorithm 1) on finite, non-Gaussian data, for ``B`` starts at once.

    Length: ``g_t = Bisection(T_s, d_g f(w_t, .))`` with
    ``d_g f(w, g) = (1/n) sum_i phi'(g m_i) m_i``, ``m_i = z_i^T w / ||w||_S`` (the margins are
    formed once per direction). Direction: ``w_{t+1} = w_t - s_t grad_w f(w_t, g_t)`` with
    ``s_t = -||w_t||^3_S / (L g_t h_t)`` and

        h_t = -c2_t g_t ||w_t||_S,     c2_t = (1/n) sum_i phi''(z_i^T w~_t),

    so ``s_t = ||w_t||^2_S / (L c2_t g_t^2)``. Why this ``h``: under the Stein form
    ``grad f = c1 u + c2 S w~`` (paper Sec. 4, book: thm-gdnp) the optimal length satisfies
    ``0 = w^T grad f(w~) = c1 u^T w + c2 g ||w||_S``, hence ``c1 u^T w = -c2 g ||w||_S``: this ``h``
    *is* the verified ``h = c1 u^T w`` at the bisection's length, and the step is then exactly the
    Rayleigh step. It is computed from the empirical length condition and the empirical ``phi''``
    and, unlike a ``c1`` fitted to the empirical gradient, does not vanish at the empirical
    stationary point.

    One iteration reads ``Z`` twice: the margins ``Z w / ||w||_S``, then the gradient
    ``(1/n) sum_i phi'(g m_i) z_i`` (the margins of ``w~ = g w / ||w||_S`` are ``g m_i``, and the
    value and ``c2`` come from them too). In between, the length search costs ``O(n)`` per
    evaluation of ``d_g f``: ``T_s + 2`` evaluations for the bisection, usually one or two for
    ``length_search="newton"`` (:func:`~bnrates.gdnp.newton_length`, warm-started at ``g_{t-1}``,
    certified to ``2^{-T_s}``, the accuracy of ``T_s`` halvings of ``[-1, 1]``; instances it
    cannot certify fall back to the bisection).

    Parameters
    ----------
    problem : EmpiricalHalfspace
    w0 : array, shape ``(B, d)``
    n_steps, n_bisection : int
        ``T_d`` and ``T_s``.
    L : float, optional
        ``lambda_max(S)`` by default.
    length_search : {"bisection", "newton"}
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    n_bisection = check_int("n_bisection", n_bisection, minimum=0)
    if length_search not in ("bisection", "newton"):
        raise ValueError(f"length_search must be one of 'bisection', 'newton'; got {length_search!r}")
    w = check_array("w0", w0, ndim_min=2)
    if w.ndim != 2 or w.shape[1] != problem.u.size:
        raise ValueError(f"w0 must have shape (B, {problem.u.size}), got {w.shape}")
    S, Z, loss = problem.S, problem.Z, problem.loss
    n = Z.shape[0]
    L_val = float(spectrum_bounds(S)[1]) if L is None else check_real("L", L, minimum=0.0, strict=True)
    rec: dict[str, list[ArrayLike]] = {k: [] for k in EmpiricalGDNPHistory.__dataclass_fields__}  # evaluations: ints
    g = g_before = np.zeros(w.shape[0])
    for t in range(n_steps + 1):
        norm = s_norm(w, S)
        margins = margins_of(problem, w)
        # after the first, large step the lengths change smoothly: extrapolate linearly
        guess = 2 * g - g_before if t >= 3 else g
        g_before = g
        g, evaluations = _length(loss, margins, guess, n_bisection, length_search)
        scaled = g[:, None] * margins  # the margins of w~
        first, second = loss.derivatives(scaled)
        grad = np.einsum("bn,nd->bd", first, Z) / n
        wt = (g / norm)[:, None] * w
        h = -np.mean(second, axis=-1) * g * norm
        for key, val in (
            ("w", w),
            ("g", g),
            ("wt", wt),
            ("value", loss.phi(scaled).mean(axis=-1)),
            ("grad_norm_sq", inv_norm_sq(grad, S)),
            ("h", h),
            ("evaluations", evaluations),
        ):
            rec[key].append(val)
        if t < n_steps:
            Sw = matvec(S, w)
            grad_w = (g / norm)[:, None] * (grad - Sw * (np.sum(w * grad, axis=-1) / norm**2)[:, None])
            step = -(norm**3) / (L_val * g * h)
            w = w - step[:, None] * grad_w
    return EmpiricalGDNPHistory(**{k: np.stack(v) for k, v in rec.items()})


def margins_of(problem: EmpiricalHalfspace, w: ArrayLike) -> Array:
    """The normalised margins ``m_i = z_i^T w / ||w||_S``, shape ``(..., n)`` for ``w`` of shape ``(..., d)``.

    The margins of ``w~ = g w / ||w||_S`` are ``g m_i``, and ``(1/n) sum_i m_i^2 = 1``.
    """
    w = np.asarray(w, dtype=np.float64)
    return np.einsum("nd,...d->...n", problem.Z, w / s_norm(w, problem.S)[..., None])


def length_derivative(loss: Loss, margins: Array) -> Callable[[Array], Array]:
    """``g -> d_g f(w, g) = (1/n) sum_i phi'(g m_i) m_i`` for margins of shape ``(..., n)``."""
    n = margins.shape[-1]

    def dg(g: Array) -> Array:
        return np.einsum("...n,...n->...", loss.dphi(np.asarray(g)[..., None] * margins), margins) / n

    return dg


def length_derivatives(loss: Loss, margins: Array) -> Callable[[Array], tuple[Array, Array]]:
    """``g -> (d_g f, d^2_g f)``, with ``d^2_g f(w, g) = (1/n) sum_i phi''(g m_i) m_i^2``, from one pass."""
    n = margins.shape[-1]
    squares = margins * margins

    def both(g: Array) -> tuple[Array, Array]:
        first, second = loss.derivatives(np.asarray(g)[..., None] * margins)
        return np.einsum("...n,...n->...", first, margins) / n, np.einsum("...n,...n->...", second, squares) / n

    return both


def length_curvature(loss: Loss, margins: Array) -> Array:
    """``C = sup|phi'''| (1/n) sum_i |m_i|^3``, which bounds ``|d^3_g f(w, g)|`` for every ``g``; shape ``(...)``."""
    # |m|^3 as |m| m m: numpy's float power is ten times slower than two products
    cubes = np.abs(margins) * margins
    return loss.third_derivative_bound * np.einsum("...n,...n->...", cubes, margins) / margins.shape[-1]


def exact_lengths(problem: EmpiricalHalfspace, w: ArrayLike, n_halvings: int = 60) -> Array:
    """The optimal lengths of directions ``w`` (shape ``(..., d)``) to round-off: bisection, ``n_halvings``."""
    margins = margins_of(problem, w)
    flat = margins.reshape(-1, margins.shape[-1])
    return bisection(length_derivative(problem.loss, flat), n_halvings)[0].reshape(margins.shape[:-1])


def _length(loss: Loss, margins: Array, guess: Array, n_bisection: int, rule: LengthRule) -> tuple[Array, int]:
    """The lengths for margins of shape ``(B, n)``, and the evaluations of ``d_g f`` they took."""
    calls = 0

    def counted(m: Array) -> Callable[[Array], Array]:
        dg = length_derivative(loss, m)

        def call(g: Array) -> Array:
            nonlocal calls
            calls += 1
            return dg(g)

        return call

    if rule == "bisection":
        return bisection(counted(margins), n_bisection)[0], calls
    found = newton_length(length_derivatives(loss, margins), guess, length_curvature(loss, margins), 2.0**-n_bisection)
    g, rest = found.g.copy(), ~found.certified
    if rest.any():
        g[rest] = bisection(counted(margins[rest]), n_bisection)[0]
    return g, calls + found.evaluations


def halfspace_on_data(data: BinaryDataset, seed: int, standardized: bool = True) -> dict[str, object]:
    """The empirical logistic problem of a dataset as one instance, with a start direction.

    What the benchopt benchmark's datasets hand to its objective (``benchmarks/halfspace``):
    ``problem`` (:class:`Batched` of one :class:`EmpiricalHalfspace` on the
    inputs, centred and scaled by :func:`~bnrates.datasets.standardize` unless ``standardized``
    is false), ``w0`` (:func:`~bnrates.problems.random_starts` for ``[seed]``, shape ``(1, d)``) and the inputs
    ``X`` (shape ``(n, d)``) and labels ``y`` (shape ``(n,)``) the problem was built from.
    """
    X = standardize(data.X)[0] if standardized else np.asarray(data.X, dtype=np.float64)
    problem = EmpiricalHalfspace(X, data.y)
    return {
        "problem": Batched(problem, 1),
        "w0": random_starts(X.shape[1], [check_int("seed", seed, minimum=0)]),
        "X": X,
        "y": data.y,
    }
