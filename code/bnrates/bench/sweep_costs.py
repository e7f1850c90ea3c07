"""S1: the sweeps' throughput, Dask overhead, memory per worker and cost per task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from .measure import GB, SEED, Log, measurement
from .processes import _env

SWEEP_SAMPLE = 24
"""Tasks of the full acceleration grid timed by S1 (drawn with :data:`SEED`)."""


PROBE_CAP = 30
"""Iterations per method in S1's cost probe (at ``kappa = 1e4`` no method stops earlier)."""


def _sweep_sample(quick: bool) -> list[dict]:
    from .. import sweeps
    from ..acceleration import SWEEP

    todo = sweeps.tasks(SWEEP, sweeps.check_grid(SWEEP, "quick" if quick else "full"))
    size = min(len(todo), SWEEP_SAMPLE // 2 if quick else SWEEP_SAMPLE)
    pick = np.random.default_rng(SEED).choice(len(todo), size=size, replace=False)
    return [todo[i] for i in sorted(pick)]


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

    sample = _sweep_sample(quick)
    grid = "quick" if quick else "full"

    def timed(**kw) -> float:
        start = time.perf_counter()
        sweeps.run_sweep(SWEEP, grid, only=sample, progress=False, **kw)
        return time.perf_counter() - start

    one = timed(n_jobs=1)
    timed(n_jobs=2)  # start loky's (reused) workers
    two = timed(n_jobs=2)
    log(f"S1 {len(sample)} tasks: 1 worker {one:.1f} s, 2 loky workers {two:.1f} s")
    with sweeps.local_cluster(2) as cluster, Client(cluster, set_as_default=False) as client:
        timed(client=client)  # warm the workers (imports, the instance cache)
        on_dask = timed(client=client)
    log(f"S1 Dask LocalCluster(2): {on_dask:.1f} s")
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
            f"{len(sample)} tasks of the {grid} grid: {len(sample) / one:.3g} tasks/s on 1 worker (sequential, this "
            f"process), {len(sample) / two:.3g} on 2 warm loky workers; {shared}",
            one_s=one,
            two_s=two,
        ),
        "dask_overhead_vs_loky": measurement(
            on_dask / two - 1,
            0.15,
            "<=",
            "fraction",
            f"2-worker LocalCluster {on_dask:.2f} s against 2 loky workers {two:.2f} s, both warm; {shared}",
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
