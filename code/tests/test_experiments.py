"""Loaders, the BN backward pass, the empirical halfspace problem and the chapter's claims."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bnrates import bn_network, empirical
from bnrates import datasets as ds
from bnrates.algorithms import bngd_ols
from bnrates.claims import experiments as claims_ex
from bnrates.empirical import EmpiricalHalfspace
from bnrates.halfspace import halfspace_instances
from bnrates.numerics import central_gradient
from bnrates.problems import random_starts, value_and_grad
from bnrates.rates import fit_linear_rate


def test_loaders_shapes_labels_and_standardization() -> None:
    bc = ds.load_breast_cancer()
    assert bc.X.shape == (569, 8) and set(np.unique(bc.y)) == {-1.0, 1.0}
    assert np.sum(bc.y == 1) == 357  # benign
    assert ds.load_breast_cancer(None).d == 30
    dg = ds.load_digits_binary()
    assert dg.X.shape == (1797, 64) and set(np.unique(dg.y)) == {-1.0, 1.0}
    X, stats = ds.standardize(dg.X)
    assert X.shape[1] == int(stats.kept.sum()) < 64  # constant pixels dropped
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-12)


def test_loader_errors_name_the_dataset_and_the_reason() -> None:
    def missing() -> object:
        raise FileNotFoundError("breast_cancer.csv")

    with pytest.raises(ds.DatasetError, match=r"'breast_cancer'.*missing or unreadable"):
        ds.load_breast_cancer(loader=missing)

    def no_sklearn() -> object:
        raise ImportError("No module named 'sklearn'")

    with pytest.raises(ds.DatasetError, match=r"'digits'.*scikit-learn is not installed"):
        ds.load_digits_binary(loader=no_sklearn)
    with pytest.raises(ValueError, match="positive"):
        ds.load_digits_binary(positive=tuple(range(10)))
    with pytest.raises(ValueError, match=r"features\[k\]"):
        ds.load_breast_cancer((0, 30))


@pytest.mark.parametrize("kind", bn_network.KINDS)
def test_backprop_matches_finite_differences(kind: str) -> None:
    _, X, S = claims_ex.digits()
    y = claims_ex.digits()[0].y
    rows = np.random.default_rng(3).choice(X.shape[0], 10, replace=False)
    params = bn_network.init_network(kind, X.shape[1], 3, 7)
    assert bn_network.finite_difference_check(kind, params, X[rows], y[rows], S) < 1e-6


def test_wrong_bn_backward_is_caught() -> None:
    _, X, S = claims_ex.digits()
    y = claims_ex.digits()[0].y
    params = bn_network.init_network("bn", X.shape[1], 3, 7)
    assert bn_network.finite_difference_check("bn", params, X[:10], y[:10], S, through_statistics=False) > 1e-3


def test_empirical_halfspace_gradient_matches_finite_differences() -> None:
    _, X, problem = claims_ex.breast_cancer()
    wt = np.random.default_rng(4).standard_normal(X.shape[1])
    h = 1e-6
    fd = central_gradient(problem.value, wt, h)
    np.testing.assert_allclose(problem.grad(wt), fd, rtol=1e-6, atol=1e-9)


def test_reference_optimum_is_stationary() -> None:
    ref = claims_ex.reference()
    assert ref.grad_norm < 1e-12
    _, _, problem = claims_ex.breast_cancer()
    assert np.linalg.norm(problem.grad(ref.wt)) < 1e-12


def test_gdnp_empirical_h_equals_stein_h_on_gaussian_like_data() -> None:
    """On Gaussian samples the empirical h = -c2 g ||w||_S is close to c1 u^T w (Stein holds approximately)."""
    gauss = halfspace_instances(4, 5.0, 0.5, [0])
    z = gauss.sample(200_000, np.random.default_rng(0))[:, 0]
    problem = EmpiricalHalfspace(z, np.full(z.shape[0], -1.0))
    hist = empirical.gdnp_empirical(problem, random_starts(4, [1, 2]), 3, 40)
    c1, _ = problem.stein_coefficients(hist.wt[-1])
    stein_h = c1 * (hist.w[-1] @ problem.u)
    np.testing.assert_allclose(hist.h[-1], stein_h, rtol=2e-2)


def test_gdnp_empirical_newton_length_search_follows_the_bisection() -> None:
    """Same trajectory (lengths certified to 2^-30 instead of bisected), far fewer length evaluations."""
    _, X, problem = claims_ex.breast_cancer()
    starts = random_starts(X.shape[1], [0, 1, 2])
    bis = empirical.gdnp_empirical(problem, starts, 40, 30)
    new = empirical.gdnp_empirical(problem, starts, 40, 30, length_search="newton")
    # the bisection's own error is up to 2^-31 |b0 - a0|, and its brackets here reach [-8, 8] (|g| < 6.5)
    assert np.abs(bis.g).max() < 8
    np.testing.assert_allclose(new.g, bis.g, rtol=0, atol=16 * 2.0**-31 + 2.0**-30)
    np.testing.assert_allclose(new.value, bis.value, rtol=1e-8)  # w_{t+1} depends on g_t to first order
    assert np.all(bis.evaluations >= 32)
    assert new.evaluations[1:].mean() <= 3 and new.evaluations[-10:].max() <= 2
    with pytest.raises(ValueError, match=r"length_search must be one of 'bisection', 'newton'; got 'brent'"):
        empirical.gdnp_empirical(problem, starts, 1, 30, length_search="brent")  # type: ignore[arg-type]


def test_value_and_grad_shares_the_margins() -> None:
    _, X, problem = claims_ex.breast_cancer()
    wt = np.random.default_rng(5).standard_normal((3, X.shape[1]))
    value, grad = value_and_grad(problem, wt)
    np.testing.assert_array_equal(value, problem.value(wt))
    np.testing.assert_array_equal(grad, problem.grad(wt))


def test_validation_errors() -> None:
    with pytest.raises(ValueError, match="kind"):
        bn_network.init_network("wn", 3, 2, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lr_g"):
        bngd_ols(np.eye(2)[None], np.ones((1, 2)), np.ones((1, 2)), np.ones(1), 2, 1.0, -0.1)
    with pytest.raises(ValueError, match="stop"):
        fit_linear_rate(np.ones((5, 2)), 3, 4)


def test_the_halfspace_and_network_chapters_do_not_load_the_empirical_problem() -> None:
    """The book re-executes a chapter when a module its kernel loaded changes: editing the empirical problem
    (``bnrates.empirical``, ``bnrates.bn_network``) must leave the halfspace, mlp and acceleration chapters alone."""
    code = (
        "import sys\n"
        "import bnrates.claims.halfspace, bnrates.claims.mlp, bnrates.claims.acceleration\n"
        "import bnrates.plotting.halfspace, bnrates.plotting.mlp, bnrates.plotting.explorers, bnrates.exercises\n"
        "print(sorted(m for m in sys.modules if m in ('bnrates.empirical', 'bnrates.bn_network')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_quarter_drop_ratio_rejects_slow_decays_that_look_linear_and_accepts_geometric_ones() -> None:
    """The decays below each passed the earlier early-versus-late slope test (mark 1/3); the new
    statistic is compared with its closed forms, computed here from the windows' end points."""
    T = claims_ex.SIZES["full"]["t_halfspace"]
    t = np.arange(T + 1, dtype=np.float64)[:, None]
    a, b, c = T / 2, 3 * T / 4, T
    closed = {
        "(1 + t/400)^-20": np.log((400 + c) / (400 + b)) / np.log((400 + b) / (400 + a)),
        "(1 + t/100)^-5": np.log((100 + c) / (100 + b)) / np.log((100 + b) / (100 + a)),
        "exp(-sqrt t)": (np.sqrt(c) - np.sqrt(b)) / (np.sqrt(b) - np.sqrt(a)),
    }
    assert set(closed) == set(claims_ex.SUBLINEAR)
    for name, decay in claims_ex.SUBLINEAR.items():
        ratio = claims_ex.quarter_drop_ratio(decay(t))[0]
        np.testing.assert_allclose(ratio, closed[name], rtol=1e-12)
        assert ratio < 0.9, name
    geometric = 0.97**t + 5 * 0.8**t  # a linear rate behind a fast transient
    assert claims_ex.quarter_drop_ratio(geometric)[0] >= 0.99
    np.testing.assert_allclose(claims_ex.quarter_drop_ratio(0.99 ** np.hstack([t, 2 * t])), 1.0, rtol=1e-12)
