"""Problems in the paper's setting and random instances of them (book: prop-bn-reparam, thm-ols).

A problem is given by the second moment ``S = E[x x^T]`` (spectrum in ``[mu, L]``) and
``u = E[-y x]``. Every problem offers its value and gradient in the effective weights ``w~``
(``value``/``grad``) and, through the reparametrization, in ``(w, g)`` (``value_wg``/``grad_wg``).
All arrays may carry leading batch axes: ``S`` has shape ``(..., d, d)``, ``u`` ``(..., d)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .reparametrization import gradient_wg, inv_norm_sq, matvec, quadratic_form, reparametrize
from .validation import check_int, check_real, check_seeds, check_spd, check_vector_for

Array = NDArray[np.float64]


class Problem(Protocol):
    """What every problem offers: ``S``, ``u``, value and gradient in ``w~``."""

    S: Array
    u: Array

    def value(self, wt: Array) -> Array: ...

    def grad(self, wt: Array) -> Array: ...


def value_and_grad(problem: Problem, wt: Array) -> tuple[Array, Array]:
    """``(f(w~), grad f(w~))``, through the problem's own ``value_and_grad`` if it has one.

    Problems on data (:class:`~bnrates.empirical.EmpiricalHalfspace`) share the margins
    ``Z w~`` between the two; for the others this is ``(problem.value(wt), problem.grad(wt))``.
    """
    own = getattr(problem, "value_and_grad", None)
    if own is not None:
        return own(wt)
    return problem.value(wt), problem.grad(wt)


def dual_norm_sq(problem: Problem, v: Array) -> Array:
    """``||v||^2_{S^-1}``, through the problem's own ``inv_norm_sq`` if it has one, shape ``(...)``.

    A problem that keeps a factor of ``S`` answers in ``O(d^2)``; otherwise this is
    :func:`~bnrates.reparametrization.inv_norm_sq` (a solve, ``O(d^3)``, per call).
    """
    own = getattr(problem, "inv_norm_sq", None)
    return own(v) if own is not None else inv_norm_sq(v, problem.S)


def value_wg(problem: Problem, w: Array, g: Array | float) -> Array:
    """``f(w, g) = f(g w / ||w||_S)``, shape ``(...)``."""
    return problem.value(reparametrize(w, g, problem.S))


def grad_wg(problem: Problem, w: Array, g: Array | float) -> tuple[Array, Array]:
    """``(grad_w f(w, g), d_g f(w, g))`` by the chain rule of :func:`gradient_wg`."""
    return gradient_wg(problem.grad(reparametrize(w, g, problem.S)), w, g, problem.S)


def spectrum_bounds(S: Array) -> tuple[Array, Array]:
    """``(mu, L)``: smallest and largest eigenvalues of ``S``, each of shape ``(...)``."""
    eig = np.linalg.eigvalsh(S)
    return eig[..., 0], eig[..., -1]


@dataclass(frozen=True)
class OLS:
    """Ordinary least squares, Eq. (10): ``f(w~) = 2 u^T w~ + w~^T S w~``.

    (``E[y^2]`` is dropped: it shifts the objective, not the minimiser.)

    Parameters
    ----------
    S : array, shape ``(..., d, d)``
        Symmetric positive definite.
    u : array, shape ``(..., d)``
    """

    S: Array
    u: Array

    def __init__(self, S: ArrayLike, u: ArrayLike) -> None:
        S_arr = check_spd("S", S)
        object.__setattr__(self, "S", S_arr)
        object.__setattr__(self, "u", check_vector_for("u", u, S_arr))

    def value(self, wt: Array) -> Array:
        """``2 u^T w~ + w~^T S w~``, shape ``(...)``."""
        return 2 * np.einsum("...i,...i->...", self.u, wt) + quadratic_form(wt, self.S)

    def grad(self, wt: Array) -> Array:
        """``2 u + 2 S w~``, shape ``(..., d)``."""
        return 2 * self.u + 2 * matvec(self.S, wt)

    def solution(self) -> Array:
        """The OLS solution ``w~* = -S^{-1} u``, shape ``(..., d)``."""
        return -np.linalg.solve(self.S, self.u[..., None])[..., 0]


def random_rotation(d: int, rng: np.random.Generator, batch: int) -> Array:
    """Haar-random orthogonal matrices, shape ``(batch, d, d)`` (QR with sign fix)."""
    Q, R = np.linalg.qr(rng.standard_normal((batch, d, d)))
    return Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[:, None, :]


def random_spd(d: int, kappa: float, seeds: ArrayLike, *, L: float = 1.0) -> Array:
    """Random SPD matrices with a log-spaced spectrum in ``[L / kappa, L]``.

    Parameters
    ----------
    d : int
        Dimension, ``d >= 1``.
    kappa : float
        Condition number ``L / mu >= 1``.
    seeds : array of int, shape ``(B,)``
        One instance per seed; the rotation of instance ``b`` depends only on ``seeds[b]``.
    L : float
        Largest eigenvalue.

    Returns
    -------
    ndarray, shape ``(B, d, d)``
        ``Q diag(lambda) Q^T`` with ``lambda_k = L kappa^{-k/(d-1)}`` and ``Q`` Haar.
    """
    d = check_int("d", d, minimum=1)
    kappa = check_real("kappa", kappa, minimum=1.0)
    L = check_real("L", L, minimum=0.0, strict=True)
    seeds = check_seeds(seeds)
    lam = L * kappa ** (-np.linspace(0.0, 1.0, d)) if d > 1 else np.array([L])
    Q = np.stack([random_rotation(d, np.random.default_rng(int(s)), 1)[0] for s in seeds])
    return (Q * lam) @ np.swapaxes(Q, -1, -2)


def ols_instances(d: int, kappa: float, seeds: ArrayLike) -> OLS:
    """A batch of OLS instances: ``S`` from :func:`random_spd`, ``u ~ N(0, I/d)``.

    Returns
    -------
    OLS
        With ``S`` of shape ``(B, d, d)`` and ``u`` of shape ``(B, d)``.
    """
    S = random_spd(d, kappa, seeds)
    u = np.stack([np.random.default_rng([int(s), 1]).standard_normal(d) for s in seeds]) / np.sqrt(d)
    return OLS(S, u)


def ols_worst_case(d: int, kappa: float, seeds: ArrayLike, *, offset: float = 1e-2) -> tuple[OLS, Array]:
    """Instances and starts on which the OLS theorem's factor ``(1 - mu/L)^2`` is attained.

    In the rescaled coordinates of the proof, Rayleigh GD is ``e_{t+1} = (I - S/L) e_t`` with the
    error ``e_t`` kept (to first order) in ``u^perp``. When ``u`` has a component along the slowest
    eigenvector ``v_min`` the slow mode is partly removed and the late factor is below the bound
    (paper Sec. 3, book: thm-ols, [D]). Removing that component from ``u`` and starting at
    ``w* + offset ||w*||_S v_min / sqrt(mu)``
    puts the whole error on the slow mode from the first step.

    Returns
    -------
    problem : OLS
        ``S`` of shape ``(B, d, d)``, ``u`` of shape ``(B, d)`` with ``u^T v_min = 0``.
    w0 : ndarray, shape ``(B, d)``
    """
    base = ols_instances(d, kappa, seeds)
    eig, V = np.linalg.eigh(base.S)
    v_min = V[..., 0]
    u = base.u - np.einsum("bi,bi->b", base.u, v_min)[:, None] * v_min
    problem = OLS(base.S, u)
    w_star = np.linalg.solve(problem.S, u[..., None])[..., 0]
    scale = offset * np.sqrt(quadratic_form(w_star, problem.S)) / np.sqrt(eig[:, 0])
    return problem, w_star + scale[:, None] * v_min


def random_starts(d: int, seeds: ArrayLike, scale: float = 1.0) -> Array:
    """One Gaussian start per seed (own stream ``[seed, 41]``), shape ``(B, d)``, Euclidean norm ``scale``."""
    w = np.stack([np.random.default_rng([int(s), 41]).standard_normal(d) for s in np.atleast_1d(seeds)])
    return scale * w / np.linalg.norm(w, axis=-1, keepdims=True)


def halfspace_moments(d: int, kappa: float, separability: float, seeds: ArrayLike) -> tuple[Array, Array]:
    """``S`` and ``u`` of a batch of Gaussian halfspace populations of a given separability, Eq. (16).

    ``S`` comes from :func:`random_spd`; ``u = c v`` with ``v ~ N(0, I)`` (own seed stream
    ``[seed, 2]``) scaled so that ``u^T S^{-1} u = separability``, in ``(0, 1)``. The problems
    (:func:`bnrates.halfspace.halfspace_instances`) and the data sampled from them
    (:func:`bnrates.datasets.simulated_halfspace`) share this law.

    Returns
    -------
    S, u : ndarray, shapes ``(B, d, d)`` and ``(B, d)``
    """
    separability = check_real("separability", separability, minimum=0.0, maximum=1.0, strict=True)
    seeds = check_seeds(seeds)
    S = random_spd(d, kappa, seeds)
    v = np.stack([np.random.default_rng([int(s), 2]).standard_normal(d) for s in seeds])
    return S, v * np.sqrt(separability / inv_norm_sq(v, S))[:, None]


def sample_halfspace(S: Array, u: Array, n: int, rng: np.random.Generator) -> Array:
    """``n`` draws of the halfspace population's ``z ~ N(u, S - u u^T)``, shape ``(n, ..., d)``."""
    chol = np.linalg.cholesky(S - u[..., :, None] * u[..., None, :])
    xi = rng.standard_normal((n, *u.shape))
    return u + np.einsum("...ij,n...j->n...i", chol, xi)
