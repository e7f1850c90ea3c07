"""Learning halfspaces, Eq. (16): ``f(w~) = E[phi(z^T w~)]`` (paper Sec. 4, book: thm-gdnp).

Gaussian model: ``z ~ N(u, S - u u^T)``, so ``E[z] = u`` and ``E[z z^T] = S``; this needs
``u^T S^{-1} u < 1``. Every expectation is one-dimensional: ``z^T w~ ~ N(m, s^2)`` with
``m = u^T w~`` and ``s^2 = w~^T (S - u u^T) w~``, and is computed by the trapezoid rule of
:func:`gaussian_expectations`.

Stein's lemma gives the gradient (paper Sec. 4, book: thm-gdnp, Lemma)::

    grad f(w~) = c1 u + c2 S w~,   c1 = E[phi'] - E[phi''] u^T w~,   c2 = E[phi''],

so every critical point lies on the line ``w~ ~ S^{-1} u``. For the logistic loss the
minimiser is known in closed form (derived here, [D]): ``w~* = -2 S^{-1} u / (1 - sep)`` with
the separability ``sep = u^T S^{-1} u``, i.e. the optimal length is
``g* = ||w~*||_S = 2 sqrt(sep) / (1 - sep)`` (see :func:`logistic_minimizer`).

Shapes: ``S`` is ``(..., d, d)``, ``u`` and ``w~`` are ``(..., d)``, values ``(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .losses import Loss, ScalarFunction, get_loss
from .problems import halfspace_moments, sample_halfspace, spectrum_bounds
from .quadrature import trapezoid_rule
from .reparametrization import inv_norm_sq, quadratic_form
from .validation import check_int, check_real, check_spd, check_vector_for

if TYPE_CHECKING:  # the empirical problem is only a type here: this chapter's code does not load it
    from .empirical import EmpiricalHalfspace

Array = NDArray[np.float64]

N_NODES = 4097
"""Default number of trapezoid nodes on ``xi in [-14, 14]``: step ``h = 28/4096``.

Measured against a 400001-node rule (softplus, expit, expit'; ``m = 0.3 s``): the relative
error is at round-off (<= 5e-15) while ``s h <= 0.5``, about 4e-11 at ``s h = 0.7`` and 1e-7 at
``s h = 1`` (the integrand has poles at imaginary distance ``pi / s`` from the real axis, so
the trapezoid error decays like ``exp(-2 pi^2 / (s h))``). 4097 nodes are therefore exact to
round-off for ``s <= 0.45 / h = 65.8`` (:data:`RESOLUTION`); at the logistic optimum
``s* = 2 sqrt(sep / (1 - sep))``, which is 8.7 at separability ``sep = 0.95`` and 20 at ``sep = 0.99``.
The rule is :func:`~bnrates.quadrature.trapezoid_rule`. Larger ``s`` use the kink-centred rule
of :func:`kink_rule`. A rule of "tens of thousands of nodes" would be more than needed.
"""

HALF_WIDTH = 14.0
"""Both rules cover ``xi in [-14, 14]``; the Gaussian tail beyond has mass ~1e-44."""

RESOLUTION = 0.45
"""Largest ``s h`` for which the trapezoid rule is used (beyond it, :func:`kink_rule`)."""

KINK_HALF_WIDTH = 50.0
"""Half-width in ``t = m + s xi`` of the central piece of :func:`kink_rule`: the losses differ
from their asymptotes (linear or constant) by less than ``e^{-50}`` outside ``|t| <= 50``."""

KINK_NODES = (128, 320)
"""Gauss-Legendre nodes per outer piece and in the central piece of :func:`kink_rule`."""


@lru_cache(maxsize=4)
def _legendre(n: int) -> tuple[Array, Array]:
    x, w = np.polynomial.legendre.leggauss(n)
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def kink_rule(m: Array, s: Array) -> tuple[Array, Array]:
    """Nodes and weights in ``xi`` for large ``s``: composite Gauss-Legendre around the kink.

    For large ``s`` the loss varies on the scale ``1/s`` in ``xi`` near ``xi0 = -m/s`` and is
    linear or constant elsewhere (up to ``e^{-50}``). The interval ``[-14, 14]`` is split at
    ``xi0 -+ 50/s`` into three pieces (clipped to ``[-14, 14]``; empty pieces get zero
    weight), each integrated by Gauss-Legendre (:data:`KINK_NODES`). Exact to ~1e-14 relative
    for every ``s >= 20`` (the central piece resolves the poles at ``t = +-i pi``).

    Parameters
    ----------
    m, s : ndarray, shape ``(K,)``
        Means and standard deviations, ``s > 0``.

    Returns
    -------
    nodes, weights : ndarray, shape ``(K, n)`` each
        Weights include the normal density.
    """
    xi0 = -m / s
    delta = KINK_HALF_WIDTH / s
    c_lo = np.clip(xi0 - delta, -HALF_WIDTH, HALF_WIDTH)
    c_hi = np.clip(xi0 + delta, -HALF_WIDTH, HALF_WIDTH)
    n_out, n_mid = KINK_NODES
    nodes, weights = [], []
    for lo, hi, n in ((-HALF_WIDTH, c_lo, n_out), (c_lo, c_hi, n_mid), (c_hi, HALF_WIDTH, n_out)):
        x, w = _legendre(n)
        lo_arr, hi_arr = np.broadcast_arrays(np.asarray(lo, dtype=np.float64), hi)
        half = (hi_arr - lo_arr)[:, None] / 2
        pts = (hi_arr + lo_arr)[:, None] / 2 + half * x
        nodes.append(pts)
        weights.append(half * w * np.exp(-(pts**2) / 2) / np.sqrt(2 * np.pi))
    return np.concatenate(nodes, axis=-1), np.concatenate(weights, axis=-1)


def gaussian_expectations(funcs: Sequence[ScalarFunction], m: ArrayLike, s: ArrayLike, n_nodes: int = N_NODES) -> Array:
    """``E[psi(m + s xi)]``, ``xi ~ N(0, 1)``, for each ``psi`` in ``funcs`` (paper Sec. 4, book: thm-gdnp).

    Where ``s h <= 0.45`` (``h = 28 / (n_nodes - 1)``): the trapezoid rule on
    ``xi in [-14, 14]`` with ``n_nodes`` nodes (:data:`N_NODES`); elsewhere (very long
    ``w~``, e.g. a length running off to infinity) the kink-centred Gauss-Legendre rule of
    :func:`kink_rule`, which is accurate for every ``s`` but assumes ``psi`` is one of the
    losses of :mod:`bnrates.losses` or their derivatives (smooth at scale 1, asymptotically
    linear). ``s = 0`` is allowed and gives ``psi(m)``. Each instance is computed
    independently of the others in the batch.

    Parameters
    ----------
    funcs : sequence of callables
        Elementwise functions ``psi``.
    m, s : array_like, broadcastable to a common shape ``(...)``
        Mean and standard deviation, ``s >= 0``.
    n_nodes : int
        Number of trapezoid nodes.

    Returns
    -------
    ndarray, shape ``(len(funcs), ...)``
    """
    m, s = np.broadcast_arrays(np.asarray(m, dtype=np.float64), np.asarray(s, dtype=np.float64))
    shape = m.shape
    m, s = m.reshape(-1), s.reshape(-1)
    xi, w = trapezoid_rule(check_int("n_nodes", n_nodes, minimum=3), HALF_WIDTH)
    wide = s * (xi[1] - xi[0]) > RESOLUTION
    out = np.empty((len(funcs), m.size))
    narrow = np.flatnonzero(~wide)
    for block in _blocks(narrow, n_nodes):
        t = m[block][:, None] + s[block][:, None] * xi
        for k, f in enumerate(funcs):
            out[k, block] = f(t) @ w
    for block in _blocks(np.flatnonzero(wide), 2 * KINK_NODES[0] + KINK_NODES[1]):
        nodes, weights = kink_rule(m[block], s[block])
        t = m[block][:, None] + s[block][:, None] * nodes
        for k, f in enumerate(funcs):
            out[k, block] = np.sum(f(t) * weights, axis=-1)
    return out.reshape(len(funcs), *shape)


BLOCK_ELEMENTS = 2**20
"""Largest points-times-nodes array formed at once (8 MB): bounds memory for any batch size."""


def _blocks(indices: Array, nodes_per_point: int) -> list[Array]:
    """``indices`` cut into blocks of at most ``BLOCK_ELEMENTS // nodes_per_point`` points."""
    size = max(1, BLOCK_ELEMENTS // nodes_per_point)
    return [indices[i : i + size] for i in range(0, len(indices), size)]


@dataclass(frozen=True, init=False)
class GaussianHalfspace:
    """The Gaussian halfspace problem, Eq. (16), computed by 1-D quadrature.

    ``f(w~) = E[phi(z^T w~)]`` with ``z ~ N(u, S - u u^T)`` (paper Sec. 4, book: thm-gdnp).

    Parameters
    ----------
    S : array, shape ``(..., d, d)``
        Second moment ``E[z z^T]``, symmetric positive definite.
    u : array, shape ``(..., d)``
        Mean ``E[z] = E[-y x]``; must satisfy ``u^T S^{-1} u < 1``.
    loss : str or Loss
        ``"logistic"`` (default) or ``"sigmoid"``.
    n_nodes : int
        Minimum number of quadrature nodes (default :data:`N_NODES`).

    Attributes
    ----------
    cov : ndarray, shape ``(..., d, d)``
        ``S - u u^T``, the covariance of ``z``.
    """

    S: Array
    u: Array
    loss: Loss
    n_nodes: int
    cov: Array

    def __init__(self, S: ArrayLike, u: ArrayLike, loss: str | Loss = "logistic", n_nodes: int = N_NODES):
        S_arr = check_spd("S", S)
        u_arr = check_vector_for("u", u, S_arr)
        separability = inv_norm_sq(u_arr, S_arr)
        if np.any(separability >= 1):
            raise ValueError(
                "u must satisfy u^T S^-1 u < 1 (z ~ N(u, S - u u^T) needs S - u u^T positive "
                f"definite), i.e. u^T S^-1 u in [0, 1); got max u^T S^-1 u = {np.max(separability):.6g}"
            )
        object.__setattr__(self, "S", S_arr)
        object.__setattr__(self, "u", u_arr)
        object.__setattr__(self, "loss", get_loss(loss))
        object.__setattr__(self, "n_nodes", check_int("n_nodes", n_nodes, minimum=3))
        object.__setattr__(self, "cov", S_arr - u_arr[..., :, None] * u_arr[..., None, :])

    @property
    def separability(self) -> Array:
        """The separability ``u^T S^{-1} u`` in ``[0, 1)`` (``-> 1``: separable), shape ``(...)``."""
        return inv_norm_sq(self.u, self.S)

    def _moments(self, wt: Array) -> tuple[Array, Array]:
        wt = np.asarray(wt, dtype=np.float64)
        m = np.einsum("...i,...i->...", self.u, wt)
        s = np.sqrt(np.maximum(quadratic_form(wt, self.cov), 0.0))
        return m, s

    def value(self, wt: Array) -> Array:
        """``f(w~) = E[phi(m + s xi)]``, shape ``(...)`` (Eq. (16))."""
        m, s = self._moments(wt)
        return gaussian_expectations([self.loss.phi], m, s, self.n_nodes)[0]

    def stein_coefficients(self, wt: Array) -> tuple[Array, Array]:
        """``(c1, c2)`` with ``grad f(w~) = c1 u + c2 S w~`` (Stein's lemma, paper Sec. 4, book: thm-gdnp).

        ``c1 = E[phi'(z^T w~)] - E[phi''(z^T w~)] u^T w~`` and ``c2 = E[phi''(z^T w~)]``.

        Returns
        -------
        c1, c2 : ndarray, shape ``(...)`` each
        """
        m, s = self._moments(wt)
        e1, e2 = gaussian_expectations([self.loss.dphi, self.loss.d2phi], m, s, self.n_nodes)
        return e1 - e2 * m, e2

    def grad(self, wt: Array) -> Array:
        """``grad f(w~) = c1 u + c2 S w~``, shape ``(..., d)`` (Stein form, paper Sec. 4, book: thm-gdnp)."""
        c1, c2 = self.stein_coefficients(wt)
        Swt = np.einsum("...ij,...j->...i", self.S, wt)
        return c1[..., None] * self.u + c2[..., None] * Swt

    def length_derivative(self, w: Array, g: Array | float) -> Array:
        """``d_g f(w, g) = E[phi'(X) X] / g`` with ``X = z^T w~``, ``w~ = g w / ||w||_S``.

        The same quantity as ``w^T grad f(w~) / ||w||_S`` (book: prop-bn-reparam), computed as one
        expectation instead of the Stein combination ``c1 u^T v + c2 g v^T S v``, whose two
        terms cancel for long ``w~``: for a bounded loss ``d_g f ~ g^{-3}`` while each term is
        O(1), so only this form gives the correct sign far out (the bracket search of
        :func:`~bnrates.gdnp.bisection`). At ``g = 0`` it is ``phi'(0) u^T w / ||w||_S``.

        Parameters
        ----------
        w : array, shape ``(..., d)``
        g : float or array, shape ``(...)``

        Returns
        -------
        ndarray, shape ``(...)``
        """
        g = np.asarray(g, dtype=np.float64)
        mv, sv = self.direction_moments(np.asarray(w, dtype=np.float64))
        g_b, mv, sv = np.broadcast_arrays(g, mv, sv)
        dphi = self.loss.dphi
        e = gaussian_expectations([lambda t: dphi(t) * t], g_b * mv, np.abs(g_b) * sv, self.n_nodes)[0]
        safe = np.where(g_b == 0, 1.0, g_b)
        return np.where(g_b == 0, dphi(np.zeros_like(mv)) * mv, e / safe)

    def direction_moments(self, w: Array) -> tuple[Array, Array]:
        """Mean and spread of ``z^T w / ||w||_S``: ``(u^T w, sqrt(w^T (S - u u^T) w)) / ||w||_S``, each ``(...)``."""
        norm = np.sqrt(quadratic_form(w, self.S))
        spread = np.sqrt(np.maximum(quadratic_form(w, self.cov), 0.0))
        return np.einsum("...i,...i->...", self.u, w) / norm, spread / norm

    def sample(self, n: int, rng: np.random.Generator) -> Array:
        """``n`` draws of ``z ~ N(u, S - u u^T)``, shape ``(n, ..., d)``."""
        return sample_halfspace(self.S, self.u, n, rng)


def halfspace_smoothness(problem: GaussianHalfspace | EmpiricalHalfspace) -> Array:
    """Smoothness bound ``zeta = lambda_max(S) sup|phi''|`` of ``f``, shape ``(...)``.

    The Hessian ``E[phi''(z^T w~) z z^T]`` is bounded by ``sup|phi''| E[z z^T]``; for the
    logistic loss ``zeta = lambda_max(S) / 4``.
    """
    return spectrum_bounds(problem.S)[1] * problem.loss.curvature_bound


def logistic_minimizer(S: ArrayLike, u: ArrayLike) -> Array:
    """The minimiser of the logistic Gaussian problem: ``w~* = -2 S^{-1} u / (1 - u^T S^{-1} u)``.

    Derivation [D]: with the separability ``sep = u^T S^{-1} u``, on the line
    ``w~ = -g S^{-1} u / sqrt(sep)`` (``||w~||_S = g``), ``X = z^T w~ ~ N(-g sqrt(sep), g^2 (1 - sep))``.
    A normal law with mean ``-var / 2`` satisfies ``p(-x) = e^x p(x)``, hence ``E[expit(X) X] = 0``,
    i.e. ``d_g f = 0``. So ``g sqrt(sep) = g^2 (1 - sep) / 2``: ``g* = 2 sqrt(sep) / (1 - sep)``,
    and ``s* = 2 sqrt(sep / (1 - sep))``.

    Returns
    -------
    ndarray, shape ``(..., d)``
    """
    S_arr = check_spd("S", S)
    u_arr = check_vector_for("u", u, S_arr)
    v = np.linalg.solve(S_arr, u_arr[..., None])[..., 0]
    separability = np.einsum("...i,...i->...", u_arr, v)
    return -2 * v / (1 - separability)[..., None]


def halfspace_instances(
    d: int, kappa: float, separability: float, seeds: ArrayLike, loss: str | Loss = "logistic"
) -> GaussianHalfspace:
    """A batch of Gaussian halfspace problems with a given separability.

    ``S`` comes from :func:`random_spd` (log-spaced spectrum in ``[1/kappa, 1]``, ``L = 1``),
    ``u = c v`` with ``v ~ N(0, I)`` (own seed stream ``[seed, 2]``) scaled so that
    ``u^T S^{-1} u = separability``.

    The knob ``sep = separability`` in ``(0, 1)``: the best direction ``w ~ S^{-1} u`` sees
    ``z^T w ~ N(-sqrt(sep), 1 - sep)`` in S-norm units, so the projected data have
    signal-to-noise ratio ``t = sqrt(sep / (1 - sep))`` and the Bayes error
    ``P(z^T w > 0) = Phi(-t)``: separability 0.1 -> t 0.33 (37 %), 0.5 -> 1 (16 %), 0.9 -> 3 (0.13 %),
    0.95 -> 4.36 (6.5e-6); ``sep -> 1`` is separable. For the logistic loss the optimal length
    is ``g* = 2 sqrt(sep) / (1 - sep)`` (0.70, 2.83, 19.0, 39.0 at those values), independent
    of ``d``, ``kappa`` and the seed.

    Parameters
    ----------
    d : int
    kappa : float
        Condition number of ``S``, ``>= 1``.
    separability : float
        ``u^T S^{-1} u``, in the open interval ``(0, 1)``.
    seeds : array of int, shape ``(B,)``
    loss : str or Loss

    Returns
    -------
    GaussianHalfspace
        With ``S`` of shape ``(B, d, d)`` and ``u`` of shape ``(B, d)``.
    """
    loss = get_loss(loss)
    return GaussianHalfspace(*halfspace_moments(d, kappa, separability, seeds), loss)


def monte_carlo_grad(
    problem: GaussianHalfspace | EmpiricalHalfspace, wt: ArrayLike, n: int, seed: int
) -> tuple[Array, Array]:
    """Monte-Carlo estimate of ``grad f(w~) = E[phi'(z^T w~) z]`` and its standard error.

    Parameters
    ----------
    problem : GaussianHalfspace or EmpiricalHalfspace
    wt : array, shape ``(..., d)`` matching the problem's batch shape
    n : int
        Number of samples, ``>= 2``.
    seed : int

    Returns
    -------
    mean, stderr : ndarray, shape ``(..., d)`` each
        Sample mean of ``phi'(z^T w~) z`` and its standard error ``std / sqrt(n)`` (``ddof=1``).
    """
    n = check_int("n", n, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    wt = np.asarray(wt, dtype=np.float64)
    z = problem.sample(n, np.random.default_rng(seed))
    samples = problem.loss.dphi(np.einsum("n...i,...i->n...", z, wt))[..., None] * z
    return samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(n)


@dataclass(frozen=True, init=False)
class MixtureHalfspace:
    """Eq. (16) for a non-Gaussian ``z``: an equal-weight mixture of two Gaussians, exactly.

    ``z ~ (N(u + delta, a_1 C) + N(u - delta, a_2 C)) / 2`` has mean ``u`` and second moment
    ``S = (a_1 + a_2)/2 C + u u^T + delta delta^T`` but is not Gaussian, so Stein's lemma (and
    with it the alignment of critical points with ``S^{-1} u``) does not apply. Each component
    is a :class:`GaussianHalfspace`, so values and gradients stay exact 1-D quadratures.
    Measured [D]: with equal spreads ``a_1 = a_2`` the minimiser stays aligned to within
    ``1 - |cos| ~ 1e-9``; unequal spreads tilt it by ``1 - |cos| ~ 1e-2``.

    Parameters
    ----------
    C : array, shape ``(d, d)``
        Shape of the components' covariances, symmetric positive definite.
    u : array, shape ``(d,)``
        Mean of the mixture.
    delta : array, shape ``(d,)``
        Half the distance between the component means.
    spreads : pair of float
        ``(a_1, a_2)``, both positive.
    loss : str or Loss
    """

    S: Array
    u: Array
    components: tuple[GaussianHalfspace, GaussianHalfspace]

    def __init__(
        self,
        C: ArrayLike,
        u: ArrayLike,
        delta: ArrayLike,
        spreads: tuple[float, float] = (1.0, 1.0),
        loss: str | Loss = "logistic",
    ):
        C_arr = check_spd("C", C)
        u_arr = check_vector_for("u", u, C_arr)
        delta_arr = check_vector_for("delta", delta, C_arr)
        a = [check_real(f"spreads[{k}]", x, minimum=0.0, strict=True) for k, x in enumerate(spreads)]
        parts = tuple(
            GaussianHalfspace(a_k * C_arr + np.outer(m, m), m, loss)
            for a_k, m in zip(a, (u_arr + delta_arr, u_arr - delta_arr), strict=True)
        )
        object.__setattr__(self, "components", parts)
        object.__setattr__(self, "u", u_arr)
        object.__setattr__(self, "S", (parts[0].S + parts[1].S) / 2)

    def value(self, wt: Array) -> Array:
        """``f(w~) = (f_1(w~) + f_2(w~)) / 2``, shape ``(...)``."""
        return (self.components[0].value(wt) + self.components[1].value(wt)) / 2

    def grad(self, wt: Array) -> Array:
        """``grad f(w~)``, the average of the components' gradients, shape ``(..., d)``."""
        return (self.components[0].grad(wt) + self.components[1].grad(wt)) / 2
