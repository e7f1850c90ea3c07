"""Batch normalization as a length-direction reparametrization (book: prop-bn-reparam).

With population statistics and centred inputs, ``BN(x^T w) = g x^T w / ||w||_S``: the network
sees ``w~ = g w / ||w||_S``. Every function here broadcasts over leading batch axes: vectors
have shape ``(..., d)``, matrices ``(..., d, d)``, scalars per instance shape ``(...)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def matvec(S: Array, w: Array) -> Array:
    """``S w`` for stacks: ``S`` of shape ``(..., d, d)``, ``w`` of shape ``(..., d)`` (broadcast)."""
    return (S @ w[..., None])[..., 0]


def quadratic_form(v: Array, S: Array, w: Array | None = None) -> Array:
    """Bilinear form ``v^T S w`` (``v^T S v`` if ``w`` is omitted), shape ``(...)``.

    Computed as ``sum(v * (S w))`` through a matrix product: a three-operand ``einsum`` loops
    naively and was the bottleneck on long trajectories.
    """
    return np.sum(v * matvec(S, v if w is None else w), axis=-1)


def s_norm(w: Array, S: Array) -> Array:
    """S-norm ``||w||_S = sqrt(w^T S w)``, shape ``(...)``."""
    return np.sqrt(quadratic_form(w, S))


def inv_norm_sq(v: Array, S: Array) -> Array:
    """Squared dual norm ``||v||^2_{S^-1} = v^T S^{-1} v``, shape ``(...)``."""
    return np.einsum("...i,...i->...", v, np.linalg.solve(S, v[..., None])[..., 0])


def reparametrize(w: Array, g: Array | float, S: Array) -> Array:
    """Effective weights ``w~ = g w / ||w||_S`` (book: prop-bn-reparam), shape ``(..., d)``."""
    return (np.asarray(g) / s_norm(w, S))[..., None] * w


def direction_projector(w: Array, S: Array) -> Array:
    """Projector ``P_w = I - S w w^T / ||w||^2_S``, shape ``(..., d, d)``.

    ``P_w`` is an orthogonal projector in the ``S^-1`` inner product and ``P_w S w = 0``.
    """
    Sw = matvec(S, w)
    eye = np.broadcast_to(np.eye(w.shape[-1]), S.shape)
    return eye - Sw[..., :, None] * w[..., None, :] / quadratic_form(w, S)[..., None, None]


def gradient_wg(grad_wt: Array, w: Array, g: Array | float, S: Array) -> tuple[Array, Array]:
    """Gradients in ``(w, g)`` from the gradient in ``w~`` (chain rule, book: prop-bn-reparam).

    ``grad_w = (g / ||w||_S) P_w grad_wt`` and ``grad_g = w^T grad_wt / ||w||_S``.

    Returns
    -------
    grad_w : ndarray, shape ``(..., d)``
    grad_g : ndarray, shape ``(...)``
    """
    norm = s_norm(w, S)
    Sw = matvec(S, w)
    wg = np.einsum("...i,...i->...", w, grad_wt)
    grad_w = (np.asarray(g) / norm)[..., None] * (grad_wt - Sw * (wg / norm**2)[..., None])
    return grad_w, wg / norm


def length_direction_split(
    grad_w: Array, grad_g: Array, w: Array, g: Array | float, S: Array, dual: Array | None = None
) -> tuple[Array, Array]:
    """The two parts of ``||grad f(w~)||^2_{S^-1}`` (book: prop-bn-reparam).

    ``||grad f(w~)||^2_{S^-1} = (||w||^2_S / g^2) ||grad_w f||^2_{S^-1} + (d_g f)^2``.
    ``dual``, if given, is ``||grad_w f||^2_{S^-1}`` already computed (e.g. from a stored factor
    of ``S``); otherwise it is solved for here.

    Returns
    -------
    direction : ndarray, shape ``(...)``
        ``(||w||^2_S / g^2) ||grad_w f||^2_{S^-1}``.
    length : ndarray, shape ``(...)``
        ``(d_g f)^2``.
    """
    direction = quadratic_form(w, S) / np.asarray(g) ** 2 * (inv_norm_sq(grad_w, S) if dual is None else dual)
    return direction, np.asarray(grad_g) ** 2


def batch_norm(X: Array, w: Array, g: float, *, mean: Array | None = None, var: Array | None = None) -> Array:
    """Batch-normalized pre-activation ``g (x^T w - m) / sqrt(v)`` for the rows of ``X``.

    Parameters
    ----------
    X : ndarray, shape ``(n, d)``
        Inputs, one per row.
    w : ndarray, shape ``(d,)``
    g : float
        The BN scale (the length ``g``); the shift is zero, as in the paper.
    mean, var : float, optional
        Statistics of ``x^T w``. Omitted, they are the statistics of the batch ``X`` itself
        (what BN computes during training).

    Returns
    -------
    ndarray, shape ``(n,)``
    """
    z = X @ w
    m = z.mean() if mean is None else mean
    v = z.var() if var is None else var
    return g * (z - m) / np.sqrt(v)


def weight_norm(w: Array, g: Array | float) -> Array:
    """Weight normalization ``g w / ||w||_2`` (Salimans & Kingma 2016): the case ``S = I``."""
    return (np.asarray(g) / np.linalg.norm(w, axis=-1))[..., None] * w


def minibatch_gap(X: Array, W: Array, S: Array, g: Array | float = 1.0) -> tuple[Array, Array]:
    """BN with each batch's own statistics minus the population reparametrization (book: prop-bn-reparam).

    For the rows ``x`` of each batch and every direction ``w_k``,
    ``BN_batch(x^T w_k) = g_k (x^T w_k - m_b) / s_b`` (``m_b``, ``s_b`` the batch's mean and biased
    standard deviation of ``x^T w_k``) against the population value ``g_k x^T w_k / ||w_k||_S``
    on the same rows. The two agree for infinite batches; the gap falls like ``b^{-1/2}``.

    Parameters
    ----------
    X : ndarray, shape ``(..., b, d)``
        Batches of ``b`` rows each (centred inputs).
    W : ndarray, shape ``(K, d)``
        The directions, one per row.
    S : ndarray, shape ``(d, d)``
        The population second moment.
    g : float or ndarray of shape ``(K,)``
        The lengths.

    Returns
    -------
    gap, population : ndarray, shape ``(..., b, K)``
        ``BN_batch - BN_population`` and ``BN_population``.
    """
    Z = X @ W.T
    bn = g * (Z - Z.mean(axis=-2, keepdims=True)) / Z.std(axis=-2, keepdims=True)
    population = Z * (g / s_norm(W, S))
    return bn - population, population
