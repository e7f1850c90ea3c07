"""A one-hidden-layer network with batch normalization, in numpy (paper Sec. 6, book: sec-ex-network).

Forward and backward through BN with batch statistics (:func:`bn_forward`, :func:`bn_backward`),
the logistic loss of a ``tanh`` network with plain, BN or GDNP-style (population
reparametrization) hidden units and its gradient (:func:`network_loss_grad`), checked against
central differences (:func:`finite_difference_check`), and mini-batch SGD (:func:`train_network`).

Shapes: inputs ``X`` are ``(n, d)``, labels ``y`` ``(n,)`` in ``{-1, +1}``, hidden weights ``W``
``(d, m)`` (columns are the units).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit

from .losses import softplus
from .numerics import central_gradient
from .reparametrization import minibatch_gap
from .validation import check_int, check_real

Array = NDArray[np.float64]
Params = dict[str, Array]
Kind = Literal["plain", "bn", "gdnp"]
KINDS: tuple[Kind, ...] = ("plain", "bn", "gdnp")


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
    params: Params = {
        "W": rng.standard_normal((d, m)) / np.sqrt(d),
        "theta": rng.standard_normal(m) / np.sqrt(m),
        "b": np.zeros(1),
    }
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
        assert S is not None  # the forward pass of gdnp refused a missing S
        # d(g / ||w||_S)/dw = -g S w / ||w||_S^3
        grads["W"] -= (S @ W) * (dscale * params["g"] / norms**3)
    return loss, grads


def finite_difference_check(
    kind: Kind,
    params: Mapping[str, Array],
    X: Array,
    y: Array,
    S: Array | None = None,
    through_statistics: bool = True,
    h: float = 1e-6,
) -> float:
    """Largest relative error, over the parameter arrays, of backprop against central differences.

    For each array ``p``: ``||grad_backprop - grad_fd|| / ||grad_fd||`` with
    ``grad_fd[k] = (loss(p + h e_k) - loss(p - h e_k)) / (2h)``.
    """
    _, grads = network_loss_grad(kind, params, X, y, S, through_statistics)
    worst = 0.0
    for key, value in params.items():

        def loss_of(flat: Array, key: str = key, shape: tuple[int, ...] = value.shape) -> float:
            return network_loss_grad(kind, {**params, key: flat.reshape(shape)}, X, y, S)[0]

        fd = central_gradient(loss_of, value.ravel(), h).reshape(value.shape)
        worst = max(worst, float(np.linalg.norm(grads[key] - fd) / max(float(np.linalg.norm(fd)), 1e-300)))
    return worst


def grad_norm(grads: Mapping[str, Array]) -> float:
    """Euclidean norm of all gradient arrays together."""
    return float(np.sqrt(sum(np.sum(v**2) for v in grads.values())))


def train_network(
    kind: Kind,
    X: Array,
    y: Array,
    *,
    m: int,
    n_iter: int,
    lr: float,
    batch_size: int,
    seed: int,
    record_every: int = 10,
    S: Array | None = None,
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
                assert S is not None  # network_loss_grad refused gdnp without S at the first record
                sq = np.sum(params["W"] * (S @ params["W"]), axis=0)
                params["W"] = params["W"] - lr * sq * grad
            else:
                params[key] = params[key] - lr * grad
    return pd.DataFrame(rows, columns=["iteration", "loss", "grad_norm"]).assign(kind=kind, seed=seed)


def minibatch_deviation(X: Array, W: Array, batch_sizes: tuple[int, ...], n_draws: int, seed: int) -> pd.DataFrame:
    """RMS distance between BN with batch statistics and the population reparametrization.

    For each batch size ``b``, ``n_draws`` batches are drawn with replacement from the rows of the
    centred ``X``; for every unit ``w_k`` (columns of ``W``) and batch,
    :func:`~bnrates.reparametrization.minibatch_gap` (``g = 1``) compares BN with the batch's
    statistics with the population value on the batch's rows (book: prop-bn-reparam).

    Returns
    -------
    DataFrame
        Columns ``batch_size, unit, rms`` (RMS over the draws and the batch rows).
    """
    S = X.T @ X / X.shape[0]
    rng = np.random.default_rng([check_int("seed", seed, minimum=0), 53])
    rows = []
    for b in batch_sizes:
        b = check_int("batch_size", b, minimum=2)
        idx = rng.integers(X.shape[0], size=(n_draws, b))
        gap, _ = minibatch_gap(X[idx], W.T, S)  # (draws, b, K)
        rms = np.sqrt(np.mean(gap**2, axis=(0, 1)))
        rows.append(pd.DataFrame({"batch_size": b, "unit": np.arange(W.shape[1]), "rms": rms}))
    return pd.concat(rows, ignore_index=True)
