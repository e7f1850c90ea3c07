"""Claims of the chapter "Batch normalization as a reparametrization" (the paper's setting; book label
``prop-bn-reparam``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..numerics import central_gradient
from ..problems import grad_wg, ols_instances, random_spd, value_wg
from ..reparametrization import (
    batch_norm,
    inv_norm_sq,
    length_direction_split,
    minibatch_gap,
    quadratic_form,
    reparametrize,
    weight_norm,
)
from .core import Claim, Evidence, chapter_claims_factory, injected

CHAPTER = "reparametrization"
SIZES = {
    "quick": {"n_population": 4000, "d": 6, "batch_sizes": 2 ** np.arange(3, 11), "samples": 2**15},
    "full": {"n_population": 20000, "d": 10, "batch_sizes": 2 ** np.arange(2, 13), "samples": 2**18},
}


def finite_population(n: int, d: int, seed: int, *, shift: float = 0.0) -> np.ndarray:
    """A finite population of ``n`` inputs in ``R^d``: Gaussian, exactly centred, plus ``shift``.

    Returns
    -------
    ndarray, shape ``(n, d)``
        Rows with mean exactly ``shift * (1, ..., 1)``.
    """
    rng = np.random.default_rng([seed, 11])
    S = random_spd(d, 10.0, [seed])[0]
    X = rng.standard_normal((n, d)) @ np.linalg.cholesky(S).T
    return X - X.mean(axis=0) + shift


def _population_bn_error(X: np.ndarray, W: np.ndarray, g: np.ndarray, S: np.ndarray) -> float:
    """Largest relative gap between BN with population statistics and ``x^T w~`` over ``W``."""
    errors = []
    for w, gi, wt in zip(W, g, reparametrize(W, g, S), strict=True):
        bn = batch_norm(X, w, float(gi))
        errors.append(np.max(np.abs(bn - X @ wt)) / np.max(np.abs(bn)))
    return float(max(errors))


def _directions(d: int, seed: int, count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 12])
    return rng.standard_normal((count, d)), rng.uniform(0.5, 3.0, count) * rng.choice([-1, 1], count)


def _population_bn(profile: str, seed: int, shift: float) -> Evidence:
    size = SIZES[profile]
    X = finite_population(size["n_population"], size["d"], seed, shift=shift)
    S = X.T @ X / len(X)
    W, g = _directions(size["d"], seed)
    return Evidence(observed=_population_bn_error(X, W, g, S), theory=0.0)


def population_bn(profile: str, seed: int) -> Evidence:
    """BN with population statistics equals ``x^T w~`` on centred inputs."""
    return _population_bn(profile, seed, shift=0.0)


def uncentred_negative_control(profile: str, seed: int) -> Evidence:
    """The same comparison on inputs with mean ``(1, ..., 1)``: BN subtracts the mean, ``x^T w~`` does not."""
    return _population_bn(profile, seed, shift=1.0)


def _weight_norm_gap(profile: str, seed: int, whiten: bool) -> Evidence:
    size = SIZES[profile]
    X = finite_population(size["n_population"], size["d"], seed)
    if whiten:
        eig, V = np.linalg.eigh(X.T @ X / len(X))
        X = X @ V / np.sqrt(eig) @ V.T
    W, g = _directions(size["d"], seed)
    gaps = [
        np.max(np.abs(batch_norm(X, w, float(gi)) - X @ wn)) / np.max(np.abs(X @ wn))
        for w, gi, wn in zip(W, g, weight_norm(W, g), strict=True)
    ]
    return Evidence(observed=float(max(gaps)), theory=0.0)


def weight_norm_whitened(profile: str, seed: int) -> Evidence:
    """On whitened inputs (``S = I``) BN and weight normalization coincide."""
    return _weight_norm_gap(profile, seed, whiten=True)


def weight_norm_unwhitened_negative_control(profile: str, seed: int) -> Evidence:
    """On correlated inputs they differ: WN normalizes by ``||w||_2``, BN by ``||w||_S``."""
    return _weight_norm_gap(profile, seed, whiten=False)


def minibatch_errors(profile: str, seed: int) -> pd.DataFrame:
    """Relative RMS gap between mini-batch BN and the population reparametrization.

    For each batch size ``m``, ``samples / m`` batches are drawn from ``N(0, S)``; BN uses each
    batch's own mean and variance of ``x^T w``. The gap is measured on the batch's own points.

    Returns
    -------
    DataFrame
        Columns ``batch_size``, ``direction`` (0..3), ``relative_rms_error``.
    """
    size = SIZES[profile]
    d = size["d"]
    S = random_spd(d, 10.0, [seed])[0]
    chol = np.linalg.cholesky(S)
    W, g = _directions(d, seed, count=4)
    rng = np.random.default_rng([seed, 13])
    rows = []
    for m in size["batch_sizes"]:
        X = rng.standard_normal((size["samples"] // m, m, d)) @ chol.T
        gap, pop = minibatch_gap(X, W, S, g)
        err = np.sqrt(np.mean(gap**2, axis=(0, 1)) / np.mean(pop**2, axis=(0, 1)))
        rows += [{"batch_size": int(m), "direction": k, "relative_rms_error": e} for k, e in enumerate(err)]
    return pd.DataFrame(rows)


def minibatch_rate(profile: str, seed: int) -> Evidence:
    """The mini-batch gap decays like ``m^{-1/2}``: slope of ``log error`` against ``log m``."""
    data = minibatch_errors(profile, seed)
    slope = np.polyfit(np.log(data["batch_size"]), np.log(data["relative_rms_error"]), 1)[0]
    return Evidence(observed=float(slope), theory=-0.5, data=data)


def _split_gap(profile: str, seed: int, metric: str) -> Evidence:
    """Largest relative defect of the length/direction split of ``||grad f(w~)||^2`` (book: prop-gradients).

    The split alone is Pythagoras and holds for any vector passed as the gradient, so the
    gradients ``(grad_w f, d_g f)`` it splits are first checked against central differences
    of ``f(w, g)`` (:func:`~bnrates.problems.value_wg`, ``h = 1e-5``): ``observed`` is the
    larger of the two relative errors, both also in ``extra``.
    """
    d = SIZES[profile]["d"]
    P = ols_instances(d, 50.0, np.arange(16) + 16 * seed)
    rng = np.random.default_rng([seed, 14])
    w = rng.standard_normal((16, d))
    g = rng.uniform(0.5, 3.0, 16)
    gw, gg = grad_wg(P, w, g)
    wg = np.concatenate([w, g[:, None]], axis=-1)
    fd = central_gradient(lambda x: value_wg(P, x[..., :-1], x[..., -1]), wg, 1e-5)
    exact = np.concatenate([gw, gg[:, None]], axis=-1)
    gradient_error = float(np.max(np.linalg.norm(exact - fd, axis=-1) / np.linalg.norm(fd, axis=-1)))
    full = P.grad(reparametrize(w, g, P.S))
    direction, length = length_direction_split(gw, gg, w, g, P.S)
    total = inv_norm_sq(full, P.S)
    if metric == "euclidean":
        direction = quadratic_form(w, P.S) / g**2 * np.sum(gw**2, axis=-1)
        total = np.sum(full**2, axis=-1)
    split_defect = float(np.max(np.abs(direction + length - total) / total))
    return Evidence(
        observed=max(split_defect, gradient_error),
        theory=0.0,
        extra={"split_defect": split_defect, "gradient_error": gradient_error},
    )


def split_identity(profile: str, seed: int) -> Evidence:
    """``||grad f||^2_{S^-1} = (||w||^2_S / g^2) ||grad_w f||^2_{S^-1} + (d_g f)^2``, with the gradients checked."""
    return _split_gap(profile, seed, "S^-1")


def split_euclidean_negative_control(profile: str, seed: int) -> Evidence:
    """The same split measured in Euclidean norms fails when ``S != I``."""
    return _split_gap(profile, seed, "euclidean")


_claim = chapter_claims_factory(CHAPTER)
HERE = __name__
ROUND_OFF = "an identity: exact in exact arithmetic; the pass mark allows float64 round-off"
SPLIT = (
    "the split is exact (round-off ~1e-16); the gradients are compared with central differences "
    "(h = 1e-5), good to ~1e-10 relative (truncation ~h^2 times the third derivative)"
)


def _euclidean_split(gw: np.ndarray, gg: np.ndarray, w: np.ndarray, g: np.ndarray, S: np.ndarray):
    """The split with the direction part in the Euclidean norm (a wrong implementation)."""
    return quadratic_form(w, S) / np.asarray(g) ** 2 * np.sum(gw**2, axis=-1), np.asarray(gg) ** 2


def _uncentred_bn(f):
    """BN that forgets to subtract the mean (normalizes by the root mean square of ``x^T w``)."""
    return lambda X, w, g, **kw: f(X, w, g, mean=0.0, var=np.mean((X @ w) ** 2))


CLAIMS: tuple[Claim, ...] = (
    _claim(
        "population_bn",
        "With population statistics and centred inputs, BN(x^T w) = x^T w~ with "
        "w~ = g w/||w||_S (to {pass_mark:.0e}, relative).",
        "<=",
        0.0,
        population_bn,
        source="P",
        label="prop-bn-reparam",
        pass_mark=1e-10,
        reason=ROUND_OFF,
        sabotages={
            "Euclidean length ||w||_2 in w~": injected(
                population_bn, f"{HERE}:reparametrize", lambda f: lambda w, g, S: weight_norm(w, g)
            ),
            "sample variance (n - 1) in BN": injected(
                population_bn, f"{HERE}:batch_norm", lambda f: lambda X, w, g, **kw: f(X, w, g, var=(X @ w).var(ddof=1))
            ),
        },
    ),
    _claim(
        "uncentred_negative_control",
        "Without centred inputs the identity breaks (BN removes the mean of x^T w).",
        "<=",
        0.0,
        uncentred_negative_control,
        negative_control=True,
        label="prop-bn-reparam",
        pass_mark=1e-10,
        reason=ROUND_OFF,
        sabotages={
            "BN without the mean subtraction": injected(uncentred_negative_control, f"{HERE}:batch_norm", _uncentred_bn)
        },
    ),
    _claim(
        "weight_norm_whitened",
        "On whitened inputs (S = I) BN equals weight normalization g w/||w||_2 (to {pass_mark:.0e}).",
        "<=",
        0.0,
        weight_norm_whitened,
        source="S",
        label="sec-reparam-wn",
        pass_mark=1e-10,
        reason=ROUND_OFF,
        sabotages={
            "weight normalization by ||w||^2": injected(
                weight_norm_whitened,
                f"{HERE}:weight_norm",
                lambda f: lambda w, g: (np.asarray(g) / np.sum(w**2, axis=-1))[..., None] * w,
            )
        },
    ),
    _claim(
        "weight_norm_unwhitened_negative_control",
        "On correlated inputs BN and weight normalization differ.",
        "<=",
        0.0,
        weight_norm_unwhitened_negative_control,
        negative_control=True,
        label="sec-reparam-wn",
        pass_mark=1e-10,
        reason=ROUND_OFF,
        sabotages={
            "BN normalizing by ||w||_2": injected(
                weight_norm_unwhitened_negative_control,
                f"{HERE}:batch_norm",
                lambda f: lambda X, w, g, **kw: X @ weight_norm(w, g),
            )
        },
    ),
    _claim(
        "minibatch_rate",
        "Mini-batch BN approaches the population reparametrization like m^(-1/2) in the "
        "batch size m (slope within {tolerance:.0%}).",
        "≈",
        0.1,
        minibatch_rate,
        label="sec-reparam-minibatch",
        reason="a least-squares slope over finitely many batches: sampling noise of a few per cent",
        sabotages={
            "mean square instead of root mean square": injected(
                minibatch_rate,
                f"{HERE}:minibatch_errors",
                lambda f: lambda p, s: f(p, s).assign(relative_rms_error=lambda d: d["relative_rms_error"] ** 2),
            )
        },
    ),
    _claim(
        "split_identity",
        "The chain-rule gradients in (w, g) match central differences of f(w, g), and the squared S^-1 "
        "gradient norm splits exactly into their direction part and length part (to {pass_mark:.0e}).",
        "<=",
        0.0,
        split_identity,
        label="prop-gradients",
        pass_mark=1e-8,
        reason=SPLIT,
        sabotages={
            "OLS gradient 1.7 grad f + 0.3": injected(
                split_identity, "bnrates.problems:OLS.grad", lambda f: lambda self, wt: 1.7 * f(self, wt) + 0.3
            ),
            "direction part in the Euclidean norm": injected(
                split_identity, f"{HERE}:length_direction_split", lambda f: _euclidean_split
            ),
            "factor ||w||^2_S/g^2 dropped": injected(
                split_identity,
                f"{HERE}:length_direction_split",
                lambda f: lambda gw, gg, w, g, S: (inv_norm_sq(gw, S), np.asarray(gg) ** 2),
            ),
        },
    ),
    _claim(
        "split_euclidean_negative_control",
        "In Euclidean norms the split fails (S != I).",
        "<=",
        0.0,
        split_euclidean_negative_control,
        negative_control=True,
        label="prop-gradients",
        pass_mark=1e-8,
        reason=SPLIT,
        sabotages={
            "instances with S = I (kappa ignored)": injected(
                split_euclidean_negative_control,
                f"{HERE}:ols_instances",
                lambda f: lambda d, kappa, seeds: f(d, 1.0, seeds),
            )
        },
    ),
)
