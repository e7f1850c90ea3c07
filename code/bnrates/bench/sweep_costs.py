"""S1: the sweeps' throughput, Dask overhead, memory per worker and cost per task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from .measure import GB, Log, measurement
from .processes import _env

UNIFORM = {"d": 100, "kappa": 1e4, "separability": 0.9, "loss": "logistic", "method": "GD", "cap": 20000}
"""The throughput sample's task: GD at ``kappa = 1e4`` never reaches the tolerance within ``cap``, so every
task runs exactly ``cap`` iterations (about 0.3 s on a free core) and the tasks differ only in the seed,
hence the instance. With tasks of one cost, the order in which workers take them cannot change the wall
time (as one d = 1000 task left for last does in a sample of the full grid)."""
UNIFORM_QUICK = {**UNIFORM, "d": 10, "cap": 500}
UNIFORM_TASKS = 32
"""Tasks per timed run (``UNIFORM_TASKS // 4`` with ``--quick``); even, so two workers end together."""
RUNS = ("loky 1", "loky 2", "dask 2", "dask 2", "loky 2", "loky 1")
"""Order of S1's timed runs: mirrored, so a drift of the machine's load during S1 falls equally on each."""
WARM = 4
"""Tasks (``cap = 1``) run on the same workers right before each timed run: processes started, imports done."""


PROBE_CAP = 30
"""Iterations per method in S1's cost probe (at ``kappa = 1e4`` no method stops earlier)."""


def _uniform_runs(quick: bool) -> tuple[dict, list[list[dict]], list[list[dict]]]:
    """The grid of S1's timed runs, and per run its warm-up tasks and its timed tasks.

    Every run gets seeds of its own, so no worker meets an instance it has built before (the
    instance cache of :func:`~bnrates.acceleration.instance` would otherwise skip its build).
    """
    base = UNIFORM_QUICK if quick else UNIFORM
    n = UNIFORM_TASKS // 4 if quick else UNIFORM_TASKS
    per_run = n + WARM
    grid = {**{k: (v,) for k, v in base.items()}, "cap": (base["cap"], 1), "seed": tuple(range(per_run * len(RUNS)))}
    warm, timed = [], []
    for r in range(len(RUNS)):
        seeds = range(r * per_run, (r + 1) * per_run)
        warm.append([{**base, "cap": 1, "seed": s} for s in seeds[:WARM]])
        timed.append([{**base, "seed": s} for s in seeds[WARM:]])
    return grid, warm, timed


def _describe(grid: dict) -> str:
    """The uniform task in words: ``GD, d = 100, kappa = 1e4, cap 20000``."""
    return f"{grid['method'][0]}, d = {grid['d'][0]}, kappa = {grid['kappa'][0]:g}, cap {grid['cap'][0]}"


def _worker_peak_rss(params: list[dict]) -> float:
    """Peak RSS (GB) of a fresh Python process that runs ``params`` as sweep tasks one after the other."""
    code = (
        "import json, resource, sys\nfrom bnrates import sweeps\n"
        "for p in json.loads(sys.argv[1]):\n    sweeps.run_task('acceleration', p)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(params)], capture_output=True, text=True, env=_env(), check=True
    )
    return int(done.stdout.split()[-1]) * 1024 / GB


def bench_sweeps(quick: bool, log: Log) -> dict:
    """S1: sweep throughput (2 vs 1 worker), Dask overhead against loky, worker memory, cost per iteration."""
    from distributed import Client

    from .. import sweeps
    from ..acceleration import METHODS, SWEEP, instance

    grid, warm, timed = _uniform_runs(quick)
    n = len(timed[0])
    wall: dict[str, list[float]] = {run: [] for run in RUNS}
    task_s: dict[str, list[float]] = {run: [] for run in RUNS}
    with sweeps.local_cluster(2) as cluster, Client(cluster, set_as_default=False) as client:
        for k, run in enumerate(RUNS):
            on = client if run.startswith("dask") else None
            jobs = None if on is not None else int(run[-1])
            sweeps.run_sweep(SWEEP, grid, only=warm[k], progress=False, n_jobs=jobs, client=on)
            start = time.perf_counter()
            table = sweeps.run_sweep(SWEEP, grid, only=timed[k], progress=False, n_jobs=jobs, client=on).table
            wall[run].append(time.perf_counter() - start)
            task_s[run] += table["seconds"].tolist()
            if not table["censored"].all():
                raise RuntimeError(f"S1: a task of the uniform sample ({_describe(grid)}) stopped before its cap")
            log(f"S1 {run} worker(s), {n} tasks: {wall[run][-1]:.2f} s")
    one, two, on_dask = (sum(wall[run]) for run in ("loky 1", "loky 2", "dask 2"))
    mean_task = {run: float(np.mean(task_s[run])) for run in RUNS}
    spread = float(np.std(task_s["loky 1"]) / mean_task["loky 1"])
    d_max = 100 if quick else 2000
    big = [
        {"d": d_max, "kappa": 100.0, "separability": 0.9, "loss": "logistic", "seed": 0, "cap": PROBE_CAP, "method": m}
        for m in METHODS
    ]
    peak = _worker_peak_rss(big)
    log(f"S1 worker peak RSS at d = {d_max}: {peak:.2f} GB")
    large = SWEEP.grids["large"]
    costs: dict[str, dict[str, float]] = {}
    for d in (10, 100) if quick else large["d"]:
        row = {}
        for m in METHODS:
            p = {
                "d": d,
                "kappa": 1e4,
                "separability": 0.9,
                "loss": "logistic",
                "seed": 0,
                "cap": PROBE_CAP,
                "method": m,
            }
            sweeps.run_task(SWEEP.name, p)  # the instance is built (and cached) here
            short = float(sweeps.run_task(SWEEP.name, p)["seconds"])  # type: ignore[arg-type]
            long = float(sweeps.run_task(SWEEP.name, {**p, "cap": 2 * PROBE_CAP})["seconds"])  # type: ignore[arg-type]
            row[m] = max(long - short, 0.0) / PROBE_CAP  # per iteration, without the task's fixed costs
            row[f"{m}_fixed"] = max(short - PROBE_CAP * row[m], 0.0)
        start = time.perf_counter()
        instance.cache_clear()
        instance(d, 1e4, 0.9, "logistic", 1)
        row["build"] = time.perf_counter() - start
        costs[str(d)] = row
        log(
            f"S1 d = {d}: seconds per iteration "
            + ", ".join(f"{m} {row[m]:.2g}" for m in METHODS)
            + f"; instance {row['build']:.2g} s"
        )
    cap = large["cap"][0]
    worst = {
        d: row["build"] / len(METHODS) + float(np.mean([cap * row[m] + row[f"{m}_fixed"] for m in METHODS]))
        for d, row in costs.items()
    }
    n_large = len(sweeps.tasks(SWEEP, sweeps.check_grid(SWEEP, "large")))
    per_d = n_large / len(costs)
    shared = f"measured on a shared {os.cpu_count()}-CPU machine (other jobs running): compare with care"
    return {
        "throughput_2_vs_1_worker": measurement(
            one / two,
            1.7,
            ">=",
            "ratio",
            f"wall time of 1 loky worker over 2 (at most 2 on two free cores), each timed the same way: two runs of "
            f"{n} tasks of one cost ({_describe(grid)}; task times vary by {spread:.0%}) on fresh instances, each "
            f"right after a warm-up on the same workers, in the order {', '.join(RUNS)}; {n / one * 2:.3g} tasks/s "
            f"on 1 worker, {n / two * 2:.3g} on 2; mean task {mean_task['loky 1']:.3f} s alone, "
            f"{mean_task['loky 2']:.3f} s two at a time; {shared}",
            one_s=one,
            two_s=two,
            mean_task_s=mean_task,
        ),
        "dask_overhead_vs_loky": measurement(
            on_dask / two - 1,
            0.15,
            "<=",
            "fraction",
            f"2-worker LocalCluster {on_dask:.2f} s against 2 loky workers {two:.2f} s on the same kind of tasks of "
            f"one cost (so their order cannot change it), timed the same way (two runs of {n} tasks each); {shared}",
            dask_s=on_dask,
        ),
        "worker_peak_rss_at_max_d": measurement(
            peak,
            2.0,
            "<=",
            "GB",
            f"a fresh process running the five methods at d = {d_max} (cap {PROBE_CAP}): S, its inverse and the "
            "covariance are d x d (3 x 32 MB at d = 2000), the quadrature works in 8 MB blocks, the histories "
            "hold cap x d floats; the rest is the interpreter with numpy, scipy and pandas",
            d=d_max,
        ),
        "large_grid_worst_case_per_task": measurement(
            float(np.mean(list(worst.values()))),
            None,
            "<=",
            "s",
            f"mean over d and methods of instance build / 5 + the task's fixed cost + cap ({cap}) x seconds per "
            f"iteration (every run hitting the cap); {n_large} tasks ({per_d:.0f} per d) -> at most "
            f"{n_large * np.mean(list(worst.values())) / 3600:.0f} core-hours; {shared}",
            per_d={d: round(v, 3) for d, v in worst.items()},
            seconds_per_iteration=costs,
        ),
    }
