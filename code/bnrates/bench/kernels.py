"""P3 to P5: the numerical kernels (GDNP against GD on data, batching, the halfspace quadrature)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..algorithms import gd_rayleigh
from ..empirical import Batched, EmpiricalHalfspace, gdnp_empirical
from ..gdnp import gd
from ..halfspace import N_NODES, GaussianHalfspace, halfspace_instances, halfspace_smoothness
from ..problems import ols_instances, random_starts, spectrum_bounds
from .measure import GB, SEED, Log, _median_time, measurement

SIZES = {
    False: {
        "pairs": 2,
        "n": 100_000,
        "d": 100,
        "iters": 30,
        "reps": 5,
        "ols_d": 50,
        "ols_steps": 200,
        "ols_reps": 7,
        "quad_d": 50,
        "quad_reps": 50,
    },
    True: {
        "pairs": 1,
        "n": 10_000,
        "d": 20,
        "iters": 3,
        "reps": 3,
        "ols_d": 10,
        "ols_steps": 50,
        "ols_reps": 3,
        "quad_d": 10,
        "quad_reps": 10,
    },
}
"""Problem sizes and repetitions, full (``False``) and ``--quick`` (``True``)."""


N_BISECTION = 30
"""Halvings per GDNP bisection, as in the experiments chapter (``t_s``)."""


def copy_bandwidth(nbytes: int, reps: int) -> float:
    """numpy's copy bandwidth (bytes read plus written per second) on float64 arrays of ``nbytes``."""
    src = np.random.default_rng(0).standard_normal(nbytes // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    seconds, _ = _median_time(lambda: np.copyto(dst, src), max(reps, 5))
    return 2 * src.nbytes / seconds


def bench_iteration(quick: bool, log: Log) -> dict:
    """P3: time per iteration of GDNP and GD on an empirical halfspace problem, and its bandwidth.

    Three runs alternate: GD, GDNP with the certified Newton length search (the target) and
    GDNP with Algorithm 1's bisection as written (for comparison: ``T_s + 2`` evaluations of
    the length derivative per iteration).
    """
    size = SIZES[quick]
    n, d, iters, reps = size["n"], size["d"], size["iters"], size["reps"]
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n, d))
    y = np.where(X @ (rng.standard_normal(d) / np.sqrt(d)) + rng.standard_normal(n) > 0, 1.0, -1.0)
    problem = EmpiricalHalfspace(X, y)
    del X
    w0 = random_starts(d, [SEED])
    step = 1 / halfspace_smoothness(problem)
    runs: dict[str, Callable[[], Any]] = {
        "gd": lambda: gd(Batched(problem, 1), 0.1 * w0, iters, step),
        "gdnp": lambda: gdnp_empirical(problem, w0, iters, N_BISECTION, length_search="newton"),
        "gdnp_bisection": lambda: gdnp_empirical(problem, w0, iters, N_BISECTION),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    evaluations: dict[str, float] = {}
    for _ in range(reps):  # alternated, so all three see the same machine load
        for name, run in runs.items():
            start = time.perf_counter()
            history = run()
            times[name].append((time.perf_counter() - start) / (iters + 1))
            if name != "gd":
                evaluations[name] = float(np.mean(history.evaluations))
    ms = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    z_bytes = problem.Z.nbytes
    bandwidth = copy_bandwidth(z_bytes, reps)
    passes = 2  # both read Z twice: the margins, then the gradient (the value comes from the margins)
    log(
        f"P3: n={n} d={d}: GD {ms['gd']:.2f} ms/it, GDNP {ms['gdnp']:.2f} ms/it "
        f"({evaluations['gdnp']:.2f} length evaluations), with bisection {ms['gdnp_bisection']:.2f} ms/it, "
        f"copy {bandwidth / GB:.2f} GB/s"
    )
    ratio = ms["gdnp"] / ms["gd"]
    common = f"n = {n}, d = {d}, float64, one start; median of {reps} alternated runs of {iters} steps"
    p3 = {
        "time_per_iteration_gd": measurement(
            ms["gd"],
            None,
            "<=",
            "ms",
            f"{common}; gd() with value and gradient from one set of margins; the baseline of the ratios",
        ),
        "time_per_iteration_gdnp": measurement(
            ms["gdnp"],
            None,
            "<=",
            "ms",
            f"{common}; gdnp_empirical(length_search='newton'): lengths certified to 2^-{N_BISECTION}",
        ),
        "ratio_gdnp_to_gd": measurement(
            ratio,
            1.2,
            "<=",
            "ratio",
            f"{common}; GDNP reads Z twice per iteration like GD and adds "
            f"{evaluations['gdnp']:.2f} O(n) evaluations of the length derivative on average"
            + ("" if ratio <= 1.2 else "; TARGET MISSED"),
            gd_ms=[round(t * 1e3, 3) for t in times["gd"]],
            gdnp_ms=[round(t * 1e3, 3) for t in times["gdnp"]],
        ),
        "ratio_gdnp_bisection_to_gd": measurement(
            ms["gdnp_bisection"] / ms["gd"],
            None,
            "<=",
            "ratio",
            f"{common}; Algorithm 1's bisection as written, {evaluations['gdnp_bisection']:.2f} evaluations "
            f"per iteration ({N_BISECTION} halvings + the bracket); no target, the cost the Newton search removes",
            gdnp_bisection_ms=[round(t * 1e3, 3) for t in times["gdnp_bisection"]],
        ),
    }
    for name in ("gdnp", "gd"):
        fraction = passes * z_bytes / (ms[name] / 1e3) / bandwidth
        p3[f"bandwidth_fraction_{name}"] = measurement(
            fraction,
            0.5,
            ">=",
            "fraction",
            f"bytes of Z (n d 8 = {z_bytes} B) read per iteration ({passes} passes, a lower bound: the "
            "n-vectors and their temporaries are not counted) per second, over numpy's copy bandwidth "
            "(np.copyto on an array of the same size, bytes read + written per second)"
            + ("" if fraction >= 0.5 else "; TARGET MISSED"),
            bytes_per_iteration=passes * z_bytes,
            achieved_GBps=round(passes * z_bytes / (ms[name] / 1e3) / GB, 3),
            copy_GBps=round(bandwidth / GB, 3),
        )
    return p3


def bench_batching(quick: bool, log: Log) -> dict:
    """P4: :func:`gd_rayleigh` on 64 OLS instances in one batched call against one instance."""
    size = SIZES[quick]
    d, steps, reps = size["ols_d"], size["ols_steps"], size["ols_reps"]
    runs = {}
    for batch in (1, 64):
        P = ols_instances(d, 100.0, np.arange(batch) + SEED % 1000)
        w0 = random_starts(d, np.arange(batch))
        L = spectrum_bounds(P.S)[1]
        gd_rayleigh(P.S, P.u, w0, 1, L)
        runs[batch] = (P, w0, L)
    times: dict[int, list[float]] = {1: [], 64: []}
    for _ in range(reps):
        for batch, (P, w0, L) in runs.items():
            start = time.perf_counter()
            gd_rayleigh(P.S, P.u, w0, steps, L)
            times[batch].append(time.perf_counter() - start)
    ratio = statistics.median(times[64]) / statistics.median(times[1])
    log(f"P4: 64 instances / 1 instance = {ratio:.2f}")
    return {
        "ratio_64_to_1": measurement(
            ratio,
            4.0,
            "<=",
            "ratio",
            f"gd_rayleigh, d = {d}, kappa = 100, {steps} steps; median of {reps} alternated runs"
            + ("" if ratio <= 4 else "; TARGET MISSED"),
            seconds_1=[round(t, 5) for t in times[1]],
            seconds_64=[round(t, 5) for t in times[64]],
        )
    }


def bench_quadrature(quick: bool, log: Log) -> dict:
    """P5: value and gradient of the Gaussian halfspace objective: error against 16x nodes, and time."""
    size = SIZES[quick]
    d, reps = size["quad_d"], size["quad_reps"]
    problem = halfspace_instances(d, 100.0, 0.9, [SEED % 1000])
    fine = GaussianHalfspace(problem.S, problem.u, problem.loss, n_nodes=16 * (N_NODES - 1) + 1)
    direction = random_starts(d, [SEED])
    errors, lengths = [], (0.1, 1.0, 5.0, 20.0, 60.0)
    for g in lengths:  # ||w~||_S = g: s up to 60, the end of the trapezoid rule's range
        wt = g * direction / np.sqrt(np.einsum("bi,bij,bj->b", direction, problem.S, direction))[:, None]
        v, v_ref = problem.value(wt), fine.value(wt)
        gr, gr_ref = problem.grad(wt), fine.grad(wt)
        errors.append(
            max(
                float(np.max(np.abs(v - v_ref) / np.abs(v_ref))),
                float(np.max(np.linalg.norm(gr - gr_ref, axis=-1) / np.linalg.norm(gr_ref, axis=-1))),
            )
        )
    wt = direction / np.sqrt(np.einsum("bi,bij,bj->b", direction, problem.S, direction))[:, None]
    seconds, _ = _median_time(lambda: (problem.value(wt), problem.grad(wt)), reps)
    error = max(errors)
    log(f"P5: relative error {error:.2e}, {seconds * 1e3:.3f} ms per value+grad")
    return {
        "relative_error": measurement(
            error,
            1e-10,
            "<=",
            "relative",
            f"max over ||w~||_S in {list(lengths)} of the relative error of value and gradient (Euclidean norm) "
            f"with {N_NODES} nodes against {16 * (N_NODES - 1) + 1}; d = {d}, separability = 0.9"
            + ("" if error <= 1e-10 else "; TARGET MISSED"),
            errors=errors,
        ),
        "time_value_and_grad": measurement(
            seconds * 1e3,
            1.0,
            "<=",
            "ms",
            f"median of {reps} calls of value() and grad() for one instance, d = {d}, ||w~||_S = 1"
            + ("" if seconds <= 1e-3 else "; TARGET MISSED"),
        ),
    }
