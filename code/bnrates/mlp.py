"""One hidden layer with BN-reparametrised tanh units and Gaussian inputs (paper Sec. 5, book: lem-mlp-critical).

Model [S]: ``F(x) = sum_i theta_i tanh(x^T w~_i)`` with ``w~_i = g_i w_i / ||w_i||_S`` and fixed
output weights ``theta``; the loss is ``f(W~) = E[l(-y F(x))]``. ``tanh`` is odd, so with
``z = -y x ~ N(u, C)``, ``C = S - u u^T``,

    f(W~) = E[l(F(z))],    F(z) = sum_i theta_i tanh(a_i),    a = W~ z ~ N(W~ u, W~ C W~^T).

Every expectation is an ``m``-dimensional Gaussian integral over the pre-activations ``a``
(``m`` = number of units), computed by the tensor-product trapezoid rule of
:func:`gaussian_rule` on the eigen-coordinates of ``cov(a)``. Stein's lemma gives the gradient

    grad_{w~_i} f = theta_i [alpha_i u + C sum_j beta_ij w~_j],
    alpha_i = E[l'(F) tanh'(a_i)],
    beta_ij = theta_j E[l''(F) tanh'(a_i) tanh'(a_j)] + delta_ij E[l'(F) tanh''(a_i)].

For a linear outer loss ``l(t) = t`` the units decouple (``B = (beta_ij)`` is diagonal) and every
integral is one-dimensional.

Shapes: ``S`` is ``(..., d, d)``, ``u`` is ``(..., d)``, the weights ``W~`` are ``(..., m, d)``
(row ``i`` is ``w~_i``), ``theta`` is ``(m,)``; leading axes broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from .gdnp import GDNPHistory, gdnp
from .losses import softplus
from .numerics import central_jacobian, s_cosine
from .quadrature import trapezoid_rule
from .reparametrization import inv_norm_sq, matvec, s_norm
from .validation import check_array, check_int, check_real, check_spd, check_vector_for

Array = NDArray[np.float64]

OUTER_LOSSES = ("linear", "logistic")
"""The outer losses ``l``: ``linear`` (``l(t) = t``) and ``logistic`` (``l(t) = log(1 + e^t)``)."""

RESOLUTION = 0.25
"""Default ``c h``: node spacing ``h`` times the largest coefficient ``c`` of an eigen-coordinate.

The integrand is analytic in a strip: ``tanh`` has poles at ``a = i pi/2`` and ``softplus(F)``
becomes singular once ``theta tanh(a)`` reaches ``i pi`` (for ``|theta| <= 1`` at ``|Im a| >= 1.2``),
so the trapezoid error decays like ``exp(-2 pi (pi/2) / (c h))``. Measured against
``c h = 0.1`` it is below 1e-13 relative at 0.25 (claim ``mlp.quadrature_accuracy``).
"""

HALF_WIDTH = 9.0
"""Each eigen-coordinate ``eta ~ N(0, 1)`` is integrated over ``[-9, 9]`` (outside mass 2e-19)."""

MAX_STEP = 0.8
"""Largest node spacing, also for nearly constant coordinates: the trapezoid rule integrates
the Gaussian weight itself to ~1e-14 at ``h = 0.8``."""

DEGENERATE = 1e-10
"""Eigen-coordinates with coefficient ``c <= 1e-10`` (zero or exactly aligned units) get one node."""


def gaussian_rule(mean: Array, cov: Array, resolution: float = RESOLUTION) -> tuple[Array, Array]:
    """Nodes and weights for ``E[psi(a)]``, ``a ~ N(mean, cov)``, batched (paper Sec. 5, book: lem-mlp-critical).

    ``cov = Q diag(lambda) Q^T``; ``a = mean + A eta`` with ``A = Q diag(sqrt(lambda))`` and
    ``eta ~ N(0, I_m)``. Coordinate ``k`` gets the trapezoid rule on ``[-9, 9]`` with spacing
    ``h_k = min(resolution / c_k, 0.8)``, ``c_k = max |A_ik|`` over the batch, or a single node if
    ``c_k <= 1e-10`` (a rank-deficient ``cov``, e.g. aligned or zero units). The tensor product
    has ``prod_k n_k`` nodes, so the cost grows like ``n^m``: fine for ``m <= 2``, slow for ``m = 3``.

    Parameters
    ----------
    mean : ndarray, shape ``(K, m)``
    cov : ndarray, shape ``(K, m, m)``, symmetric positive semi-definite
    resolution : float
        ``c h``, see :data:`RESOLUTION`.

    Returns
    -------
    nodes : ndarray, shape ``(K, N, m)``
        Values of ``a`` at the ``N`` tensor nodes.
    weights : ndarray, shape ``(N,)``
    """
    lam, Q = np.linalg.eigh(cov)
    A = Q * np.sqrt(np.maximum(lam, 0.0))[:, None, :]
    c = np.max(np.abs(A), axis=(0, 1)) if len(A) else np.zeros(mean.shape[-1])
    rules = []
    for ck in c:
        if ck <= DEGENERATE:
            rules.append(trapezoid_rule(1, HALF_WIDTH, scale_by_spacing=False))
        else:
            h = min(resolution / ck, MAX_STEP)
            rules.append(trapezoid_rule(2 * int(np.ceil(HALF_WIDTH / h)) + 1, HALF_WIDTH, scale_by_spacing=False))
    grids = np.meshgrid(*[r[0] for r in rules], indexing="ij")
    eta = np.stack([g.ravel() for g in grids], axis=-1)
    weights = np.ones(1)
    for r in rules:
        weights = np.multiply.outer(weights, r[1]).ravel()
    return mean[:, None, :] + eta @ np.swapaxes(A, -1, -2), weights


def _outer(name: str, t: Array) -> tuple[Array, Array, Array]:
    """``(l(t), l'(t), l''(t))`` for the outer loss ``name``."""
    if name == "linear":
        return t, np.ones_like(t), np.zeros_like(t)
    p = expit(t)
    return softplus(t), p, p * expit(-t)


@dataclass(frozen=True)
class Expectations:
    """The Gaussian integrals of the model at one point ``W~`` (paper Sec. 5, book: lem-mlp-critical).

    Attributes
    ----------
    value : ndarray, shape ``(...)``
        ``f(W~) = E[l(F)]``.
    alpha : ndarray, shape ``(..., m)``
        ``alpha_i = E[l'(F) tanh'(a_i)]``.
    beta : ndarray, shape ``(..., m, m)``
        ``beta_ij = theta_j E[l''(F) tanh'(a_i) tanh'(a_j)] + delta_ij E[l'(F) tanh''(a_i)]``.
    """

    value: Array
    alpha: Array
    beta: Array


@dataclass(frozen=True, init=False)
class OneHiddenLayer:
    """``f(W~) = E[l(sum_i theta_i tanh(z^T w~_i))]``, ``z ~ N(u, S - u u^T)`` (paper Sec. 5, book: lem-mlp-critical).

    Parameters
    ----------
    S : array, shape ``(..., d, d)``
        ``E[x x^T] = E[z z^T]``, symmetric positive definite.
    u : array, shape ``(..., d)``
        ``E[z]``; needs ``u^T S^-1 u`` in ``[0, 1)``.
    theta : array, shape ``(m,)``
        Fixed output weights, finite.
    outer : {"linear", "logistic"}
        The outer loss ``l``.
    resolution : float
        Quadrature parameter ``c h`` of :func:`gaussian_rule`, in ``(0, 1]``.

    Attributes
    ----------
    cov : ndarray, shape ``(..., d, d)``
        ``C = S - u u^T``.
    """

    S: Array
    u: Array
    theta: Array
    outer: str
    resolution: float
    cov: Array

    def __init__(
        self, S: ArrayLike, u: ArrayLike, theta: ArrayLike, outer: str = "logistic", resolution: float = RESOLUTION
    ) -> None:
        S_arr = check_spd("S", S)
        u_arr = check_vector_for("u", u, S_arr)
        separability = inv_norm_sq(u_arr, S_arr)
        if np.any(separability >= 1):
            raise ValueError(
                f"u must satisfy u^T S^-1 u in [0, 1) (z ~ N(u, S - u u^T)); got max {np.max(separability):.6g}"
            )
        theta_arr = check_array("theta", theta)
        if theta_arr.ndim != 1:
            raise ValueError(f"theta must be a 1-D array of output weights, shape (m,), got shape {theta_arr.shape}")
        if outer not in OUTER_LOSSES:
            raise ValueError(f"outer must be one of 'linear', 'logistic'; got {outer!r}")
        object.__setattr__(self, "S", S_arr)
        object.__setattr__(self, "u", u_arr)
        object.__setattr__(self, "theta", theta_arr)
        object.__setattr__(self, "outer", outer)
        object.__setattr__(
            self, "resolution", check_real("resolution", resolution, minimum=0.0, maximum=1.0, strict=True)
        )
        object.__setattr__(self, "cov", S_arr - u_arr[..., :, None] * u_arr[..., None, :])

    @property
    def m(self) -> int:
        """Number of hidden units."""
        return len(self.theta)

    @property
    def separability(self) -> Array:
        """The separability ``u^T S^-1 u``, shape ``(...)``."""
        return inv_norm_sq(self.u, self.S)

    def check_weights(self, wt: ArrayLike) -> Array:
        """``wt`` as an array of shape ``(..., m, d)`` or a clear ``ValueError``."""
        arr = check_array("wt", wt, ndim_min=2)
        m, d = self.m, self.S.shape[-1]
        if arr.shape[-2:] != (m, d):
            raise ValueError(
                f"wt must have shape (..., m, d) = (..., {m}, {d}) to match theta (m = {m}) and "
                f"S (d = {d}), got {arr.shape}"
            )
        return arr

    def moments(self, wt: ArrayLike) -> tuple[Array, Array]:
        """Mean ``W~ u`` (shape ``(..., m)``) and covariance ``W~ C W~^T`` (``(..., m, m)``) of ``a``."""
        wt = self.check_weights(wt)
        mean = np.einsum("...md,...d->...m", wt, self.u)
        cov = wt @ (self.cov @ np.swapaxes(wt, -1, -2))
        return mean, (cov + np.swapaxes(cov, -1, -2)) / 2

    def expectations(self, wt: ArrayLike) -> Expectations:
        """Value, ``alpha`` and ``beta`` at ``W~`` (one quadrature for all three)."""
        mean, cov = self.moments(wt)
        shape, m = mean.shape[:-1], self.m
        mean, cov = mean.reshape(-1, m), cov.reshape(-1, m, m)
        if self.outer == "linear":
            # decoupled: m one-dimensional integrals per instance
            a, w = gaussian_rule(
                mean.reshape(-1, 1), cov.reshape(-1, m * m)[:, :: m + 1].reshape(-1, 1, 1), self.resolution
            )
            t = np.tanh(a[..., 0])
            t1 = 1 - t**2
            val = (t @ w).reshape(-1, m) @ self.theta
            alpha = (t1 @ w).reshape(-1, m)
            beta = np.zeros((len(mean), m, m))
            beta[:, np.arange(m), np.arange(m)] = ((-2 * t * t1) @ w).reshape(-1, m)
        else:
            a, w = gaussian_rule(mean, cov, self.resolution)
            t = np.tanh(a)
            t1 = 1 - t**2
            ell, d1, d2 = _outer(self.outer, t @ self.theta)
            val = ell @ w
            alpha = np.einsum("kn,kni,n->ki", d1, t1, w)
            beta = np.einsum("kn,kni,knj,n->kij", d2, t1, t1 * self.theta, w)
            beta[:, np.arange(m), np.arange(m)] += np.einsum("kn,kni,n->ki", d1, -2 * t * t1, w)
        return Expectations(val.reshape(shape), alpha.reshape(*shape, m), beta.reshape(*shape, m, m))

    def value(self, wt: ArrayLike) -> Array:
        """``f(W~)``, shape ``(...)``."""
        return self.expectations(wt).value

    def grad_from(self, wt: Array, e: Expectations) -> Array:
        """Stein form ``theta_i [alpha_i u + C sum_j beta_ij w~_j]``, shape ``(..., m, d)``."""
        mixed = np.einsum("...ij,...jd->...id", e.beta, wt)
        cm = np.swapaxes(self.cov @ np.swapaxes(mixed, -1, -2), -1, -2)
        return self.theta[:, None] * (e.alpha[..., None] * self.u[..., None, :] + cm)

    def grad(self, wt: ArrayLike) -> Array:
        """``grad_{W~} f``, shape ``(..., m, d)``; row ``i`` is ``grad_{w~_i} f`` (book: lem-mlp-critical)."""
        wt = self.check_weights(wt)
        return self.grad_from(wt, self.expectations(wt))

    def grad_norm_sq(self, wt: ArrayLike) -> Array:
        """``sum_i ||grad_{w~_i} f||^2_{S^-1}``, shape ``(...)``."""
        g = self.grad(wt)
        return np.sum(inv_norm_sq(g, self.S[..., None, :, :]), axis=-1)

    def hessian(self, wt: ArrayLike, step: float = 1e-5) -> Array:
        """Hessian in the flattened ``W~`` (``m d`` coordinates), by central differences of the gradient.

        All ``2 m d`` perturbed points are evaluated as one batch; the result is symmetrised.

        Parameters
        ----------
        wt : array, shape ``(m, d)`` (one instance; ``S`` and ``u`` unbatched)
        step : float

        Returns
        -------
        ndarray, shape ``(m d, m d)``
        """
        wt = self.check_weights(wt)
        if wt.ndim != 2 or self.S.ndim != 2:
            raise ValueError("hessian needs a single instance: S of shape (d, d) and wt of shape (m, d)")
        n = wt.size
        H = central_jacobian(lambda flat: self.grad(flat.reshape(-1, *wt.shape)).reshape(-1, n), wt.ravel(), step)
        return (H + H.T) / 2

    def sample(self, n: int, rng: np.random.Generator) -> Array:
        """``n`` draws of ``z ~ N(u, S - u u^T)``, shape ``(n, ..., d)``."""
        chol = np.linalg.cholesky(self.cov)
        xi = rng.standard_normal((n, *self.u.shape))
        return self.u + np.einsum("...ij,n...j->n...i", chol, xi)


def monte_carlo_grad(net: OneHiddenLayer, wt: ArrayLike, n: int, seed: int) -> tuple[Array, Array]:
    """Monte-Carlo mean of ``l'(F(z)) theta_i tanh'(z^T w~_i) z`` and its standard error.

    Parameters
    ----------
    net : OneHiddenLayer
    wt : array, shape ``(..., m, d)`` matching the batch shape of ``net``
    n : int
        Samples, ``>= 2``.
    seed : int

    Returns
    -------
    mean, stderr : ndarray, shape ``(..., m, d)`` each
    """
    n = check_int("n", n, minimum=2)
    wt = net.check_weights(wt)
    z = net.sample(n, np.random.default_rng(check_int("seed", seed, minimum=0)))
    a = np.einsum("n...d,...md->n...m", z, wt)
    t = np.tanh(a)
    d1 = _outer(net.outer, t @ net.theta)[1]
    samples = (d1[..., None] * net.theta * (1 - t**2))[..., None] * z[..., None, :]
    return samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(n)


def unit_weights(w: ArrayLike, g: ArrayLike, S: Array) -> Array:
    """``W~`` from directions ``w`` (``(..., m, d)``) and lengths ``g`` (``(..., m)``): ``g_i w_i / ||w_i||_S``.

    A zero length gives a zero unit; a zero direction is an error (``||w_i||_S`` must be positive).
    """
    w = check_array("w", w, ndim_min=2)
    g = np.asarray(g, dtype=np.float64)
    norm = s_norm(w, S[..., None, :, :])
    if np.any(norm == 0):
        raise ValueError("every direction w_i must be non-zero (||w_i||_S > 0); set g_i = 0 to switch a unit off")
    return (g / norm)[..., None] * w


@dataclass(frozen=True)
class UnitProblem:
    """Unit ``i`` of a :class:`OneHiddenLayer` with the other units fixed, as a halfspace-like problem.

    It offers what :func:`bnrates.gdnp.gdnp` needs (``S``, ``u``, ``value``, ``grad``,
    ``stein_coefficients``), so Algorithm 1 runs on one unit unchanged (paper Sec. 5, book: lem-mlp-critical).
    ``stein_coefficients`` returns ``(c1, c2)`` with ``c2 = theta_i beta_ii`` and ``c1`` the
    ``S^-1``-coefficient of ``u`` in ``grad_{w~_i} f - c2 S w~_i``:

        c1 = (u^T S^-1 grad_{w~_i} f - c2 u^T w~_i) / (u^T S^-1 u).

    When the other units are zero or aligned with ``S^-1 u`` the gradient is exactly
    ``c1 u + c2 S w~_i`` and GDNP's direction steps are Rayleigh gradient steps.

    Attributes
    ----------
    net : OneHiddenLayer
        With ``S`` of shape ``(B, d, d)``.
    others : ndarray, shape ``(B, m, d)``
        All units; row ``i`` is replaced by the argument of ``value``/``grad``.
    index : int
    """

    net: OneHiddenLayer
    others: Array
    index: int

    @property
    def S(self) -> Array:
        return self.net.S

    @property
    def u(self) -> Array:
        return self.net.u

    def full(self, wt: Array) -> Array:
        """All units with row ``index`` set to ``wt`` (shape ``(B, d)``), shape ``(B, m, d)``."""
        W = np.array(np.broadcast_to(self.others, (*np.shape(wt)[:-1], *self.others.shape[-2:])))
        W[..., self.index, :] = wt
        return W

    def value(self, wt: Array) -> Array:
        return self.net.value(self.full(wt))

    def grad(self, wt: Array) -> Array:
        return self.net.grad(self.full(wt))[..., self.index, :]

    def stein_coefficients(self, wt: Array) -> tuple[Array, Array]:
        W = self.full(wt)
        e = self.net.expectations(W)
        grad = self.net.grad_from(W, e)[..., self.index, :]
        i = self.index
        c2 = self.net.theta[i] * e.beta[..., i, i]
        s_inv_u = np.linalg.solve(self.S, self.u[..., None])[..., 0]
        uw = np.einsum("...d,...d->...", self.u, wt)
        c1 = (np.einsum("...d,...d->...", s_inv_u, grad) - c2 * uw) / self.net.separability
        return c1, c2


def gdnp_unit(
    net: OneHiddenLayer, wt: ArrayLike, index: int, w0: ArrayLike, n_steps: int, n_bisection: int
) -> GDNPHistory:
    """Algorithm 1 on unit ``index`` with the other units of ``wt`` fixed (paper Sec. 5, book: lem-mlp-critical).

    Parameters
    ----------
    net : OneHiddenLayer
        ``S`` of shape ``(B, d, d)``.
    wt : array, shape ``(B, m, d)``
        Current units (row ``index`` is ignored).
    index : int
        In ``[0, m)``.
    w0 : array, shape ``(B, d)``
        Starting direction of unit ``index``, ``u^T w0 != 0``.
    n_steps, n_bisection : int
        ``T_d`` and ``T_s``.

    Returns
    -------
    GDNPHistory
        Of unit ``index``: ``wt`` is ``w~_index``, ``grad_norm_sq`` is ``||grad_{w~_index} f||^2_{S^-1}``.
    """
    wt = net.check_weights(wt)
    index = check_int("index", index, minimum=0, maximum=net.m - 1)
    return gdnp(UnitProblem(net, wt, index), w0, n_steps, n_bisection)


@dataclass(frozen=True)
class RoundsHistory:
    """Alternating rounds of per-unit GDNP; index ``r = 0 .. R`` (``0`` is the start).

    Attributes
    ----------
    wt : ndarray, shape ``(R + 1, B, m, d)``
    value : ndarray, shape ``(R + 1, B)``
    grad_norm_sq : ndarray, shape ``(R + 1, B)``
        ``sum_i ||grad_{w~_i} f||^2_{S^-1}`` after each round.
    units : list of GDNPHistory
        The per-unit runs in order (round 1 unit 0, round 1 unit 1, ...).
    """

    wt: Array
    value: Array
    grad_norm_sq: Array
    units: list[GDNPHistory]


def alternating_rounds(
    net: OneHiddenLayer, w0: ArrayLike, n_rounds: int, n_steps: int, n_bisection: int
) -> RoundsHistory:
    """Unit-by-unit GDNP in rounds, started from every length ``g_i = 0`` (paper Sec. 5, book: lem-mlp-critical).

    Round ``r`` runs :func:`gdnp_unit` for ``i = 0 .. m-1`` in turn, each from the unit's current
    direction (``w0`` in the first round), with the other units at their current values.
    In the first round the units not yet visited are zero, so each unit sees exactly the
    Rayleigh dynamics.

    Parameters
    ----------
    net : OneHiddenLayer
        ``S`` of shape ``(B, d, d)``.
    w0 : array, shape ``(B, m, d)``
        Starting directions, ``u^T w0_i != 0``.
    n_rounds, n_steps, n_bisection : int

    Returns
    -------
    RoundsHistory
    """
    n_rounds = check_int("n_rounds", n_rounds, minimum=0)
    w = net.check_weights(w0).copy()
    wt = np.zeros_like(w)
    wts, units = [wt.copy()], []
    for _ in range(n_rounds):
        for i in range(net.m):
            hist = gdnp_unit(net, wt, i, w[:, i], n_steps, n_bisection)
            w[:, i] = hist.w[-1]
            wt[:, i] = hist.wt[-1]
            units.append(hist)
        wts.append(wt.copy())
    stack = np.stack(wts)
    return RoundsHistory(stack, net.value(stack), net.grad_norm_sq(stack), units)


def direction_cosine(
    net: OneHiddenLayer, wt: ArrayLike, index: int, w: ArrayLike, grad: ArrayLike | None = None
) -> Array:
    """``|cos|`` in the ``S^-1`` inner product between ``grad_{w_i} f`` and ``grad rho(w_i)``.

    ``w_i`` is the direction of unit ``index`` (``wt[..., index]`` must be a multiple of it).
    Both vectors are orthogonal to ``w_i``; they are parallel when the cross terms of the
    other units vanish (paper Sec. 5, book: lem-mlp-critical). ``grad``, if given, is
    ``grad_{w~_i} f`` computed elsewhere (e.g. by central differences of the value, shape
    ``(..., d)``); otherwise :meth:`OneHiddenLayer.grad`.

    Returns
    -------
    ndarray, shape ``(...)``
    """
    from .rayleigh import rayleigh_grad
    from .reparametrization import direction_projector

    wt = net.check_weights(wt)
    w = np.asarray(w, dtype=np.float64)
    grad = net.grad(wt)[..., index, :] if grad is None else np.asarray(grad, dtype=np.float64)
    proj = matvec(direction_projector(w, net.S), grad)
    ray = rayleigh_grad(w, net.S, net.u)
    num = np.abs(np.sum(proj * np.linalg.solve(net.S, ray[..., None])[..., 0], axis=-1))
    return num / np.sqrt(inv_norm_sq(proj, net.S) * inv_norm_sq(ray, net.S))


def aligned_cosines(wt: ArrayLike, S: Array, u: Array) -> Array:
    """``|cos|`` in the ``S`` inner product between each unit ``w~_i`` and ``S^-1 u``, shape ``(..., m)``.

    Unlike the Euclidean cosine this depends on the instance only through ``u^T S^-1 u``.
    """
    wt = np.asarray(wt, dtype=np.float64)
    target = np.linalg.solve(S, u[..., None])[..., 0]
    return s_cosine(wt, target[..., None, :], S[..., None, :, :])
