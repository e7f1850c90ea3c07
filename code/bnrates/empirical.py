"""Experiments beyond the Gaussian assumption (paper Sec. 6, book: rem-ex-cai).

1. Halfspaces on real data: the empirical logistic objective of
   :class:`~bnrates.halfspace.EmpiricalHalfspace`, a high-accuracy reference optimum, and GDNP
   with a direction step adapted to non-Gaussian data (:func:`gdnp_empirical`).
2. A one-hidden-layer network with batch normalization, forward and backward in numpy
   (:func:`network_loss_grad`), and its training loops (:func:`train_network`).
3. Mini-batch against population statistics (:func:`minibatch_deviation`).
4. Vanilla BN gradient descent on OLS, Eq. (11), with fixed learning rates (:func:`bngd_ols`).

Shapes: data ``X`` is ``(n, d)``, labels ``y`` are ``(n,)`` in ``{-1, +1}``; batched iterates are
``(B, d)`` and histories ``(T + 1, B)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import t as student_t

from .datasets import BinaryDataset, standardize
from .gdnp import bisection, newton_length
from .halfspace import EmpiricalHalfspace
from .losses import Loss, softplus
from .problems import spectrum_bounds
from .reparametrization import inv_norm_sq, matvec, quad, s_norm
from .validation import check_array, check_int, check_real

Array = NDArray[np.float64]
Params = dict[str, Array]
Kind = Literal["plain", "bn", "gdnp"]
KINDS: tuple[str, ...] = ("plain", "bn", "gdnp")


# ----------------------------------------------------------------------------- halfspaces on data


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
    res = minimize(lambda x: float(problem.value(x)), np.zeros(problem.u.size), jac=problem.grad,
                   hess=lambda x: empirical_hessian(problem, x), method="trust-exact",
                   options={"gtol": gtol, "maxiter": 500})
    x = res.x
    for _ in range(NEWTON_POLISH):
        x = x - np.linalg.solve(empirical_hessian(problem, x), problem.grad(x))
    grad_norm = float(np.linalg.norm(problem.grad(x)))
    if grad_norm > 100 * gtol:
        raise ValueError(f"the reference solver stopped at ||grad f|| = {grad_norm:.3g} > 100 gtol: "
                         "the data may be linearly separable (no finite minimiser)")
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
    rec: dict[str, list[Array]] = {k: [] for k in EmpiricalGDNPHistory.__dataclass_fields__}
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
        for key, val in (("w", w), ("g", g), ("wt", wt), ("value", loss.phi(scaled).mean(axis=-1)),
                         ("grad_norm_sq", inv_norm_sq(grad, S)), ("h", h), ("evaluations", evaluations)):
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
    found = newton_length(length_derivatives(loss, margins), guess, length_curvature(loss, margins),
                          2.0**-n_bisection)
    g, rest = found.g.copy(), ~found.certified
    if rest.any():
        g[rest] = bisection(counted(margins[rest]), n_bisection)[0]
    return g, calls + found.evaluations


def halfspace_on_data(data: BinaryDataset, seed: int, standardized: bool = True) -> dict[str, object]:
    """The empirical logistic problem of a dataset as one instance, with a start direction.

    What the benchopt benchmark's datasets hand to its objective (``benchmarks/halfspace``):
    ``problem`` (:class:`Batched` of one :class:`~bnrates.halfspace.EmpiricalHalfspace` on the
    inputs, centred and scaled by :func:`~bnrates.datasets.standardize` unless ``standardized``
    is false), ``w0`` (:func:`random_starts` for ``[seed]``, shape ``(1, d)``) and the inputs
    ``X`` (shape ``(n, d)``) and labels ``y`` (shape ``(n,)``) the problem was built from.
    """
    X = standardize(data.X)[0] if standardized else np.asarray(data.X, dtype=np.float64)
    problem = EmpiricalHalfspace(X, data.y)
    return {"problem": Batched(problem, 1), "w0": random_starts(X.shape[1], [check_int("seed", seed, minimum=0)]),
            "X": X, "y": data.y}


def random_starts(d: int, seeds: ArrayLike, scale: float = 1.0) -> Array:
    """One Gaussian start per seed (own stream ``[seed, 41]``), shape ``(B, d)``, Euclidean norm ``scale``."""
    w = np.stack([np.random.default_rng([int(s), 41]).standard_normal(d) for s in np.atleast_1d(seeds)])
    return scale * w / np.linalg.norm(w, axis=-1, keepdims=True)


@dataclass(frozen=True)
class RateFit:
    """Least-squares fit of ``log ||grad f||^2`` against the iteration, per run.

    Attributes
    ----------
    factors : ndarray, shape ``(B,)``
        Fitted per-iteration contraction factor of ``||grad f||^2`` of each run.
    mean, low, high : float
        Mean factor over the runs and its two-sided 95 % confidence interval (Student ``t``,
        ``B - 1`` degrees of freedom, computed on the log scale).
    """

    factors: Array
    mean: float
    low: float
    high: float


def fit_linear_rate(grad_norm_sq: ArrayLike, start: int, stop: int) -> RateFit:
    """Fit ``log ||grad f_t||^2 = a + t log q`` on ``t in [start, stop)`` for each run.

    Parameters
    ----------
    grad_norm_sq : array, shape ``(T + 1, B)``, ``B >= 2``
    start, stop : int
        Window, ``0 <= start < stop - 1``, ``stop <= T + 1``.
    """
    g = check_array("grad_norm_sq", grad_norm_sq, ndim_min=2)
    start = check_int("start", start, minimum=0)
    stop = check_int("stop", stop, minimum=start + 2, maximum=g.shape[0])
    if g.shape[1] < 2:
        raise ValueError(f"grad_norm_sq needs at least 2 runs (columns) for a confidence interval, got {g.shape[1]}")
    t = np.arange(start, stop)
    slopes = np.polyfit(t, np.log(g[start:stop]), 1)[0]
    mean, sem = slopes.mean(), slopes.std(ddof=1) / np.sqrt(slopes.size)
    half = student_t.ppf(0.975, slopes.size - 1) * sem
    return RateFit(np.exp(slopes), float(np.exp(mean)), float(np.exp(mean - half)), float(np.exp(mean + half)))


def s_cosine(a: Array, b: Array, S: Array) -> Array:
    """``|a^T S b| / (||a||_S ||b||_S)``: the cosine in the ``S`` inner product, shape ``(...)``."""
    return np.abs(np.sum(a * matvec(S, b), axis=-1)) / (s_norm(a, S) * s_norm(b, S))


# ------------------------------------------------------------------------ a small network with BN

BN_EPS = 1e-5
"""The ``epsilon`` inside BN's square root (as in common frameworks)."""


def bn_forward(H: Array, gamma: Array, beta: Array, eps: float = BN_EPS) -> tuple[Array, tuple[Array, Array]]:
    """Batch normalization with batch statistics (Ioffe & Szegedy 2015), per column.

    ``BN(H)_{ij} = gamma_j (H_ij - m_j) / sqrt(v_j + eps) + beta_j``, ``m, v`` the batch mean and
    (biased) variance of column ``j``.

    Parameters
    ----------
    H : ndarray, shape ``(n, m)``
    gamma, beta : ndarray, shape ``(m,)``

    Returns
    -------
    out : ndarray, shape ``(n, m)``
    cache : (xhat, inv_std)
        ``xhat`` of shape ``(n, m)`` and ``1 / sqrt(v + eps)`` of shape ``(m,)``.
    """
    mean = H.mean(axis=0)
    inv_std = 1.0 / np.sqrt(H.var(axis=0) + eps)
    xhat = (H - mean) * inv_std
    return gamma * xhat + beta, (xhat, inv_std)


def bn_backward(
    dout: Array, gamma: Array, cache: tuple[Array, Array], through_statistics: bool = True
) -> tuple[Array, Array, Array]:
    """Backpropagation through :func:`bn_forward`.

    With ``dxhat = dout gamma``:
    ``dH = inv_std (dxhat - mean(dxhat) - xhat mean(dxhat xhat))`` (column means over the batch),
    ``dgamma = sum(dout xhat)``, ``dbeta = sum(dout)``.

    ``through_statistics=False`` treats the batch mean and variance as constants,
    ``dH = inv_std dxhat``: a common mistake, kept as the negative control of the gradient check.

    Returns
    -------
    dH : ndarray, shape ``(n, m)``
    dgamma, dbeta : ndarray, shape ``(m,)``
    """
    xhat, inv_std = cache
    dxhat = dout * gamma
    if through_statistics:
        dH = inv_std * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))
    else:
        dH = inv_std * dxhat
    return dH, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def init_network(kind: Kind, d: int, m: int, seed: int) -> Params:
    """Initial parameters of a network with ``m`` hidden units on ``d`` inputs.

    ``W ~ N(0, 1/d)`` (columns are the units' weights), output weights ``theta ~ N(0, 1/m)``,
    output bias ``b = 0``. ``plain``: hidden bias ``c = 0``. ``bn``: ``gamma = 1, beta = 0``.
    ``gdnp``: lengths ``g = 1``, shift ``beta = 0``. The same seed gives the same ``W``, ``theta``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")
    d = check_int("d", d, minimum=1)
    m = check_int("m", m, minimum=1)
    rng = np.random.default_rng([check_int("seed", seed, minimum=0), 51])
    params: Params = {"W": rng.standard_normal((d, m)) / np.sqrt(d), "theta": rng.standard_normal(m) / np.sqrt(m),
                      "b": np.zeros(1)}
    if kind == "plain":
        params["c"] = np.zeros(m)
    elif kind == "bn":
        params.update(gamma=np.ones(m), beta=np.zeros(m))
    else:
        params.update(g=np.ones(m), beta=np.zeros(m))
    return params


def network_loss_grad(
    kind: Kind,
    params: Mapping[str, Array],
    X: Array,
    y: Array,
    S: Array | None = None,
    through_statistics: bool = True,
) -> tuple[float, Params]:
    """Logistic loss of ``F(x) = theta^T tanh(a(x)) + b`` and its gradient (numpy backprop).

    ``loss = (1/n) sum_i softplus(-y_i F(x_i))`` (the logistic loss of paper Sec. 4, book: thm-gdnp, with the
    network ``F`` in place of ``x^T w~``). The pre-activations ``a`` are

    - ``plain``: ``a = W^T x + c``;
    - ``bn``: ``a = BN(W^T x; gamma, beta)`` with the statistics of the batch ``X``;
    - ``gdnp``: ``a_j = g_j x^T w_j / ||w_j||_S + beta_j``, the population reparametrization of
      book: prop-bn-reparam (``S`` the second moment of the centred training inputs), i.e. BN with
      population statistics and ``(w_j, g_j)`` as separate length and direction.

    Parameters
    ----------
    kind : {"plain", "bn", "gdnp"}
    params : dict of ndarray
        From :func:`init_network`.
    X : ndarray, shape ``(n, d)``
    y : ndarray, shape ``(n,)``
    S : ndarray, shape ``(d, d)``
        Required for ``gdnp``.
    through_statistics : bool
        For ``bn`` only: ``False`` gives the wrong backward pass of :func:`bn_backward`.

    Returns
    -------
    loss : float
    grads : dict of ndarray, same keys and shapes as ``params``
    """
    W, theta = params["W"], params["theta"]
    H = X @ W
    grads: Params = {}
    if kind == "plain":
        A = H + params["c"]
    elif kind == "bn":
        A, cache = bn_forward(H, params["gamma"], params["beta"])
    elif kind == "gdnp":
        if S is None:
            raise ValueError("S (the population second moment, shape (d, d)) is required for kind 'gdnp'")
        norms = np.sqrt(np.sum(W * (S @ W), axis=0))
        scale = params["g"] / norms
        A = H * scale + params["beta"]
    else:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")
    T = np.tanh(A)
    F = T @ theta + params["b"][0]
    n = X.shape[0]
    loss = float(np.mean(softplus(-y * F)))
    dF = -y * expit(-y * F) / n
    grads["theta"] = T.T @ dF
    grads["b"] = np.array([dF.sum()])
    dA = np.outer(dF, theta) * (1 - T**2)
    if kind == "plain":
        grads["c"] = dA.sum(axis=0)
        dH = dA
    elif kind == "bn":
        dH, grads["gamma"], grads["beta"] = bn_backward(dA, params["gamma"], cache, through_statistics)
    else:
        grads["beta"] = dA.sum(axis=0)
        dscale = np.sum(dA * H, axis=0)
        grads["g"] = dscale / norms
        dH = dA * scale
    grads["W"] = X.T @ dH
    if kind == "gdnp":
        # d(g / ||w||_S)/dw = -g S w / ||w||_S^3
        grads["W"] -= (S @ W) * (dscale * params["g"] / norms**3)
    return loss, grads


def finite_difference_check(
    kind: Kind, params: Mapping[str, Array], X: Array, y: Array, S: Array | None = None,
    through_statistics: bool = True, h: float = 1e-6,
) -> float:
    """Largest relative error, over the parameter arrays, of backprop against central differences.

    For each array ``p``: ``||grad_backprop - grad_fd|| / ||grad_fd||`` with
    ``grad_fd[k] = (loss(p + h e_k) - loss(p - h e_k)) / (2h)``.
    """
    _, grads = network_loss_grad(kind, params, X, y, S, through_statistics)
    worst = 0.0
    for key, value in params.items():
        fd = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[key][idx] += h
            minus[key][idx] -= h
            fd[idx] = (network_loss_grad(kind, plus, X, y, S)[0] - network_loss_grad(kind, minus, X, y, S)[0]) / (2 * h)
        worst = max(worst, float(np.linalg.norm(grads[key] - fd) / max(np.linalg.norm(fd), 1e-300)))
    return worst


def grad_norm(grads: Mapping[str, Array]) -> float:
    """Euclidean norm of all gradient arrays together."""
    return float(np.sqrt(sum(np.sum(v**2) for v in grads.values())))


def train_network(
    kind: Kind, X: Array, y: Array, *, m: int, n_iter: int, lr: float, batch_size: int, seed: int,
    record_every: int = 10, S: Array | None = None,
) -> pd.DataFrame:
    """Mini-batch SGD on the network of :func:`network_loss_grad`.

    Every iteration draws ``batch_size`` rows without replacement (stream ``[seed, 52]``) and
    steps every parameter by ``-lr`` times its mini-batch gradient, except for ``gdnp``, whose
    directions take the scale-invariant step ``w_j <- w_j - lr ||w_j||^2_S grad_{w_j}`` (the
    GDNP direction step with its curvature constant replaced by ``lr``; it makes the update of
    the direction independent of ``||w_j||``), while the lengths ``g`` step by ``-lr grad_g``.
    ``bn`` uses the mini-batch statistics. Every ``record_every`` iterations the full-data loss and
    gradient norm are recorded (``bn`` evaluated with full-data statistics).

    Returns
    -------
    DataFrame
        Columns ``iteration, loss, grad_norm, kind, seed``.
    """
    n = X.shape[0]
    n_iter = check_int("n_iter", n_iter, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=2, maximum=n)
    lr = check_real("lr", lr, minimum=0.0, strict=True)
    params = init_network(kind, X.shape[1], m, seed)
    rng = np.random.default_rng([seed, 52])
    rows = []
    for it in range(n_iter + 1):
        if it % record_every == 0 or it == n_iter:
            loss, full = network_loss_grad(kind, params, X, y, S)
            rows.append((it, loss, grad_norm(full)))
        if it == n_iter:
            break
        idx = rng.choice(n, batch_size, replace=False)
        _, grads = network_loss_grad(kind, params, X[idx], y[idx], S)
        for key, grad in grads.items():
            if kind == "gdnp" and key == "W":
                sq = np.sum(params["W"] * (S @ params["W"]), axis=0)
                params["W"] = params["W"] - lr * sq * grad
            else:
                params[key] = params[key] - lr * grad
    return pd.DataFrame(rows, columns=["iteration", "loss", "grad_norm"]).assign(kind=kind, seed=seed)


# -------------------------------------------------------------- mini-batch vs population statistics


def minibatch_deviation(
    X: Array, W: Array, batch_sizes: tuple[int, ...], n_draws: int, seed: int
) -> pd.DataFrame:
    """RMS distance between BN with batch statistics and the population reparametrization.

    For each batch size ``b``, ``n_draws`` batches are drawn with replacement from the rows of the
    centred ``X``; for every unit ``w_k`` (columns of ``W``) and batch,
    ``BN_batch(x^T w_k) = (x^T w_k - m_b) / s_b`` is compared with the population value
    ``x^T w_k / ||w_k||_S`` (``g = 1``) on the same rows (book: prop-bn-reparam: equal for infinite
    batches; the error should fall like ``b^{-1/2}``).

    Returns
    -------
    DataFrame
        Columns ``batch_size, unit, rms`` (RMS over the draws and the batch rows).
    """
    S = X.T @ X / X.shape[0]
    pop = X @ (W / np.sqrt(np.sum(W * (S @ W), axis=0)))  # (n, K)
    rng = np.random.default_rng([check_int("seed", seed, minimum=0), 53])
    rows = []
    for b in batch_sizes:
        b = check_int("batch_size", b, minimum=2)
        idx = rng.integers(X.shape[0], size=(n_draws, b))
        H = X[idx] @ W  # (draws, b, K)
        bn = (H - H.mean(axis=1, keepdims=True)) / H.std(axis=1, keepdims=True)
        rms = np.sqrt(np.mean((bn - pop[idx]) ** 2, axis=(0, 1)))
        rows.append(pd.DataFrame({"batch_size": b, "unit": np.arange(W.shape[1]), "rms": rms}))
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------- vanilla BN-GD on OLS (Cai et al.)


@dataclass(frozen=True)
class BNGDHistory:
    """Trajectory of :func:`bngd_ols`; index ``t = 0 .. T`` first.

    Attributes
    ----------
    gap : ndarray, shape ``(T + 1, B)``
        Relative suboptimality ``(f(w_t, g_t) - f*) / |f*| = ||w~_t + S^{-1}u||^2_S / (u^T S^{-1} u)``.
    w_norm_sq : ndarray, shape ``(T + 1, B)``
        ``||w_t||^2`` (Euclidean).
    effective_step : ndarray, shape ``(T + 1, B)``
        ``lr_w / ||w_t||^2_S``: the step the direction actually takes (auto rate-tuning).
    """

    gap: Array
    w_norm_sq: Array
    effective_step: Array


def bngd_ols(S: Array, u: Array, w0: Array, g0: Array, n_steps: int, lr_w: ArrayLike, lr_g: float) -> BNGDHistory:
    """Vanilla BN gradient descent on Eq. (11), ``f(w, g) = 2 g u^T w / ||w||_S + g^2``.

    Simultaneous GD with fixed learning rates:
    ``w_{t+1} = w_t - lr_w grad_w f``, ``g_{t+1} = g_t - lr_g d_g f`` with
    ``grad_w f = (2 g / ||w||_S) (u - (u^T w / ||w||_S^2) S w)`` and
    ``d_g f = 2 u^T w / ||w||_S + 2 g`` (paper Sec. 3, book: rem-ex-cai).

    Parameters
    ----------
    S : ndarray, shape ``(B, d, d)``
    u, w0 : ndarray, shape ``(B, d)``
    g0 : ndarray, shape ``(B,)``
    n_steps : int
    lr_w : float or ndarray of shape ``(B,)``
        Any positive value (Cai et al.: convergence for every ``lr_w``).
    lr_g : float
        In ``(0, 1)`` for the length iteration ``g <- g - lr_g (2 g + 2 a)`` to contract; outside
        it the length oscillates with growing amplitude (the negative control uses ``1.05``).
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    lr_g = check_real("lr_g", lr_g, minimum=0.0, strict=True)
    lr_w_arr = np.broadcast_to(check_array("lr_w", lr_w, ndim_min=0), g0.shape)
    if np.any(lr_w_arr <= 0):
        raise ValueError("lr_w must be positive")
    snr = inv_norm_sq(u, S)
    sol = np.linalg.solve(S, u[..., None])[..., 0]
    w, g = w0.copy(), g0.copy()
    gaps, norms, steps = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps + 1):
            nsq = quad(w, S)
            norm = np.sqrt(nsq)
            wt = (g / norm)[:, None] * w
            gaps.append(quad(wt + sol, S) / snr)
            norms.append(np.sum(w * w, axis=-1))
            steps.append(lr_w_arr / nsq)
            if t == n_steps:
                break
            a = np.sum(u * w, axis=-1)
            grad_w = (2 * g / norm)[:, None] * (u - (a / nsq)[:, None] * matvec(S, w))
            grad_g = 2 * a / norm + 2 * g
            w = w - lr_w_arr[:, None] * grad_w
            g = g - lr_g * grad_g
    return BNGDHistory(np.stack(gaps), np.stack(norms), np.stack(steps))
