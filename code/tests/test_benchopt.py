"""The benchopt benchmark (benchmarks/halfspace): its classes driven as benchopt drives them, and its CLI.

Every component is loaded through ``benchopt.benchmark.Benchmark`` (as ``benchopt run`` loads
it); the wrappers' iterates are compared with direct calls of :mod:`bnrates` on a problem built
here from the loaders, and scikit-learn's L-BFGS with the book's reference optimum.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

benchopt = pytest.importorskip("benchopt")
from benchopt.benchmark import Benchmark  # noqa: E402

from bnrates import datasets as ds  # noqa: E402
from bnrates import empirical as ex  # noqa: E402
from bnrates.claims.experiments import benchopt_race as exc  # noqa: E402
from bnrates.empirical import EmpiricalHalfspace  # noqa: E402
from bnrates.gdnp import agd, bngd, gd, gdnp  # noqa: E402
from bnrates.halfspace import GaussianHalfspace, halfspace_instances  # noqa: E402
from bnrates.problems import random_starts  # noqa: E402
from bnrates.reparametrization import s_norm  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = ROOT / "benchmarks" / "halfspace"
SOLVERS = ("GD", "AGD", "GDNP", "BN-GD", "sklearn-lbfgs")
DATASETS = {
    "gaussian": {"d": 5, "kappa": 10.0, "separability": 0.5, "seed": 0},
    "breast_cancer": {"seed": 0},
    "digits": {"seed": 0},
    "simulated": {"n": 2000, "d": 5, "kappa": 10.0, "separability": 0.5, "seed": 0},
}
N_ITER = 4


@pytest.fixture(scope="module")
def bench() -> Benchmark:
    return Benchmark(BENCHMARK)


def component(classes: list, name: str) -> type:
    return next(c for c in classes if c.name == name)


@pytest.fixture(scope="module")
def objectives(bench: Benchmark) -> dict[str, object]:
    """One objective per dataset, with its data set (``Objective._set_dataset``, as the runner does)."""
    out = {}
    for name, params in DATASETS.items():
        dataset = component(bench.get_datasets(), name).get_instance(**params)
        objective = bench.get_benchmark_objective().get_instance()
        assert objective._set_dataset(dataset) == (False, None)
        out[name] = objective
    return out


def run_solver(bench: Benchmark, objective, name: str, n_iter: int, **params) -> dict | None:
    """``Solver._set_objective``, ``run(n_iter)``, ``get_result()``; ``None`` if the solver skips."""
    solver = component(bench.get_solvers(), name).get_instance(**params)
    skip, reason = solver._set_objective(objective)
    if skip:
        assert reason
        return None
    solver.run(n_iter)
    return solver.get_result()


def test_components_are_found(bench: Benchmark) -> None:
    assert {s.name for s in bench.get_solvers()} == set(SOLVERS)
    assert {d.name for d in bench.get_datasets()} == set(DATASETS)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_runs_on_every_dataset(bench, objectives, dataset: str, solver: str) -> None:
    objective = objectives[dataset]
    start = objective.evaluate_result(**objective.get_one_result())
    assert start["diverged"] == 0.0 and start["suboptimality"] > 0
    result = run_solver(bench, objective, solver, N_ITER)
    if result is None:  # only the sample-based reference on the population problem
        assert (solver, dataset) == ("sklearn-lbfgs", "gaussian")
        return
    metrics = objective.evaluate_result(**result)
    assert np.isfinite([metrics["value"], metrics["grad_norm_sq"]]).all()
    assert -1e-12 <= metrics["suboptimality"] < start["suboptimality"]
    assert metrics["grad_norm_sq"] < start["grad_norm_sq"]


@pytest.mark.parametrize(
    ("solver", "params", "named"),
    [
        ("GD", {"step_scale": -1.0}, "step_scale"),
        ("AGD", {"step_scale": 0.0}, "step_scale"),
        ("BN-GD", {"step_scale": float("nan")}, "step_scale"),
        ("GDNP", {"length_search": "golden"}, "length_search"),
        ("GDNP", {"n_bisection": -3}, "n_bisection"),
    ],
)
def test_bad_solver_parameters_are_named_before_any_iteration(bench, objectives, solver, params, named) -> None:
    with pytest.raises(ValueError, match=named):
        run_solver(bench, objectives["breast_cancer"], solver, N_ITER, **params)


def breast_cancer_problem() -> EmpiricalHalfspace:
    data = ds.load_breast_cancer()
    return EmpiricalHalfspace(ds.standardize(data.X)[0], data.y)


def test_wrappers_give_the_iterates_of_bnrates(bench, objectives) -> None:
    problem = breast_cancer_problem()
    batched = ex.Batched(problem, 1)
    d = problem.u.size
    w0 = random_starts(d, [0])
    step = 4 / np.linalg.eigvalsh(problem.S)[-1]  # 1 / zeta for the logistic loss
    zero = np.zeros((1, d))
    expected = {
        ("GD", ()): gd(batched, zero, N_ITER, step).wt[-1, 0],
        ("AGD", ()): agd(batched, zero, N_ITER, step).wt[-1, 0],
        ("BN-GD", ()): bngd(batched, w0, np.zeros(1), N_ITER, step, step).wt[-1, 0],
        ("GDNP", (("length_search", "bisection"),)): ex.gdnp_empirical(problem, w0, N_ITER, 30).wt[-1, 0],
        ("GDNP", (("length_search", "newton"),)): ex.gdnp_empirical(problem, w0, N_ITER, 30, length_search="newton").wt[
            -1, 0
        ],
    }
    for (name, params), wt in expected.items():
        result = run_solver(bench, objectives["breast_cancer"], name, N_ITER, **dict(params))
        np.testing.assert_allclose(result["wt"], wt, rtol=1e-13, atol=0, err_msg=f"{name} {params}")
    # a wrapper that ran one step fewer would be caught
    fewer = run_solver(bench, objectives["breast_cancer"], "GD", N_ITER - 1)
    assert not np.allclose(fewer["wt"], expected[("GD", ())], rtol=1e-6)


def test_gdnp_wrapper_on_the_population_problem(bench, objectives) -> None:
    params = DATASETS["gaussian"]
    base = halfspace_instances(params["d"], params["kappa"], params["separability"], [params["seed"]])
    problem = GaussianHalfspace(base.S, base.u, "logistic", 1025)
    w0 = random_starts(params["d"], [params["seed"]])
    w0 = -np.sign(np.sum(problem.u * w0, axis=-1))[:, None] * w0
    w0 = w0 / s_norm(w0, problem.S)[:, None]
    expected = gdnp(problem, w0, N_ITER, 30).wt[-1, 0]
    result = run_solver(bench, objectives["gaussian"], "GDNP", N_ITER, length_search="bisection")
    np.testing.assert_allclose(result["wt"], expected, rtol=1e-10)
    assert run_solver(bench, objectives["gaussian"], "GDNP", N_ITER, length_search="newton") is None


def test_sklearn_reference_reaches_the_books_optimum(bench, objectives) -> None:
    """scikit-learn's objective (no intercept, no penalty) is the benchmark's: it converges to the reference."""
    result = run_solver(bench, objectives["breast_cancer"], "sklearn-lbfgs", 200)
    reference = ex.reference_optimum(breast_cancer_problem())
    np.testing.assert_allclose(result["wt"], reference.wt, rtol=1e-5)


def benchopt_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cli = Path(sys.executable).with_name("benchopt")
    return subprocess.run(
        [str(cli), "run", str(BENCHMARK), "--no-plot", "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_reports_a_diverging_solver(tmp_path: Path) -> None:
    """benchopt's own CLI, offline in this environment: a diverging GD is in the table, marked, and announced."""
    out = tmp_path / "run.parquet"
    proc = benchopt_cli(
        "-d", "breast_cancer", "-s", "GD[step_scale=[1.0,1e8]]", "-n", "4", "--output", str(out), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "DIVERGED" in proc.stdout and "step_scale=100000000.0" in proc.stdout
    table = pd.read_parquet(out)
    by_solver = table.groupby("solver_name")["objective_diverged"].max()
    assert by_solver["GD[step_scale=100000000.0]"] == 1.0
    assert by_solver["GD[step_scale=1.0]"] == 0.0


def test_committed_table_has_every_solver_on_every_dataset() -> None:
    table = exc.benchopt_table()
    pairs = set(zip(table["dataset"], table["solver"], strict=True))
    for dataset in DATASETS:
        for solver in SOLVERS:
            if (solver, dataset) != ("sklearn-lbfgs", "gaussian"):
                assert (dataset, solver) in pairs, (dataset, solver)
    assert (table["objective_diverged"] == 0).all()


def test_benchopt_claim_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim passes on the committed table and fails when the table's final GDNP point is off by 1e-6."""
    assert exc.benchopt_gdnp_matches_book("quick", 0).observed <= exc.BENCHOPT_RTOL
    table = pd.read_parquet(exc.BENCHOPT_TABLE)
    tampered = table["solver_name"] == exc.BENCHOPT_GDNP
    table.loc[tampered, "objective_grad_norm_sq"] *= 1 + 1e-6
    path = tmp_path / "halfspace.parquet"
    table.to_parquet(path)
    monkeypatch.setattr(exc, "BENCHOPT_TABLE", path)
    monkeypatch.setattr(exc.benchopt_table, "__defaults__", (path,))
    assert exc.benchopt_gdnp_matches_book("quick", 0).observed > exc.BENCHOPT_RTOL


def test_missing_table_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make benchopt"):
        exc.benchopt_table(tmp_path / "none.parquet")


def test_benchopts_own_test_suite_passes_offline() -> None:
    """``benchopt test`` in this environment; its install tests are left out (they create conda environments)."""
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    cli = Path(sys.executable).with_name("benchopt")
    proc = subprocess.run(
        [str(cli), "test", str(BENCHMARK), "-q", "-k", "'not install'"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
