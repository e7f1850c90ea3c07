"""Benchmarks: the rebuild and the numerical kernels, measured against their limits.

``python -m bnrates.bench [--quick] [--root PATH] [--out DIR]`` measures, prints a table and
writes ``<out>/<YYYY-MM-DD>.json`` (``<YYYY-MM-DD>-quick.json`` with ``--quick``, so a quick
run never replaces a full one) with the machine and the package versions. The default
``--out`` is ``data/benchmarks`` of the book.

The machines are shared and noisy, so every target that compares two things is a ratio
measured side by side in one run (alternated, median); absolute times are reported with the
number of CPUs. Nothing here fails when a target is missed: each measurement records its
value, target, unit, whether it was met and notes, and the numbers are judged by people.

Sections
--------
P1 rebuild
    Quick-profile build of every chapter by our pipeline (``python -m bnrates.book build
    --force``) against Jupyter Book's own execution (``execute_notebooks: force``) of the same
    chapters, alternated A B A B; median ratio. Without ``--quick`` also the full profile.
P2 incremental
    A rebuild with no change; then, after the recorded hash of one module (``mlp.py``) is
    altered in the executed notebooks' metadata (as if the file had been edited), the chapters
    re-executed against those whose recorded modules include it.
P3 iteration cost
    GDNP (:func:`~bnrates.empirical.gdnp_empirical`, certified Newton length search; the
    bisection of Algorithm 1 as written for comparison) against GD (:func:`~bnrates.gdnp.gd`) on
    an empirical halfspace problem (``n = 100 000``, ``d = 100``); the bytes of ``Z`` each
    iteration must read per second, against numpy's copy bandwidth on an array of the same size.
P4 batching
    :func:`~bnrates.algorithms.gd_rayleigh` on 64 OLS instances in one call against one.
P6 parallel
    A forced build of every chapter with ``--jobs 2`` against ``--jobs 1`` (full profile; quick
    with ``--quick``), wall time ratio; with the ideal ratio the chapters' own times allow (the
    longest chapter, or half of them all, plus the report and the render, over the serial time).
P5 quadrature
    Value and gradient of :class:`~bnrates.halfspace.GaussianHalfspace`: relative error against
    a rule with 16 times the nodes, and time per evaluation.
memory
    Peak resident memory of the build process, of each chapter's kernel, of Jupyter Book's
    build, and of this process (which runs P3 to P5).
S1 sweeps
    The acceleration sweep (:mod:`bnrates.sweeps`) on tasks of one cost (:data:`~.sweep_costs.UNIFORM`,
    fresh instances in every run): throughput with two loky workers against one and a two-worker
    Dask ``LocalCluster`` against two loky workers, every run timed the same way (right after a
    warm-up on its workers, in the mirrored order :data:`~.sweep_costs.RUNS`); the peak RSS of a
    worker process running tasks at ``d = 2000``; and the cost per iteration of each method at
    each ``d`` of the ``large`` grid, hence the grid's worst case in core-hours, the figure the
    README quotes.
S2 oracle floor
    Each method of the acceleration race (:func:`~bnrates.acceleration.race`) at the corner
    where decoupling pays off, ``d = 10, 100, 1000``: the time of a run over the floor of its
    oracle calls (:mod:`~bnrates.bench.oracles`: each quadrature as one bare trapezoid sum over
    the nodes its spread needs, one ``S @ v`` per gradient); target 3. The tuned race's grids
    raced in lockstep (:func:`~bnrates.tuning.tune`) likewise, over every step's calls.

``--only S1`` (any list of section names) measures just those sections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ..book import provenance
from ..book.toc import BookError, find_root
from ..claims.core import one_blas_thread
from .kernels import bench_batching, bench_iteration, bench_quadrature
from .measure import GB, Log, measurement
from .oracles import bench_oracles
from .rebuild import bench_parallel, bench_rebuild
from .sweep_costs import bench_sweeps

SECTIONS = {
    "P1": "rebuild: our pipeline vs Jupyter Book's own execution",
    "P2": "incremental rebuild",
    "P3": "iteration cost: GDNP vs GD on an empirical halfspace",
    "P4": "batching: 64 OLS instances vs 1",
    "P5": "quadrature of the Gaussian halfspace objective",
    "P6": "parallel chapters: --jobs 2 vs --jobs 1",
    "memory": "peak resident memory (RSS)",
    "S1": "sweeps: throughput, Dask overhead, memory per worker, cost per task",
    "S2": "oracle floor: each race method's time over the least its oracle calls cost",
}
STANDALONE = {"S1": bench_sweeps, "S2": bench_oracles}
"""The sections that need no copy of the book (``--only`` them to skip P1 to P6)."""


def run(root: Path, quick: bool, log: Log = print, only: Sequence[str] | None = None) -> dict:
    """Measure everything; return the sections' measurements (nothing is written).

    Parameters
    ----------
    root
        The book (the folder holding ``_toc.yml``); P1 and P2 work on a temporary copy of it.
    quick
        Small sizes, one A/B pair, no full-profile build (seconds instead of minutes).
    log
        Called with one line per finished step.
    only
        Measure only these sections (default: all of :data:`SECTIONS`).

    Returns
    -------
    dict
        ``date``, ``quick``, ``seconds`` and ``sections``: ``{section: {"title", "measurements":
        {name: {"value", "target", "relation", "unit", "met", "notes", ...}}}}``.
    """
    root = Path(root).resolve()
    wanted = list(SECTIONS) if only is None else list(only)
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown benchmark section {unknown[0]!r}; sections: {', '.join(SECTIONS)}")
    if not set(wanted) <= set(STANDALONE):
        return _run_book_sections(root, quick, log, wanted)
    start = time.perf_counter()
    measured = {key: STANDALONE[key](quick, log) for key in SECTIONS if key in wanted}
    return {
        "date": dt.date.today().isoformat(),
        "quick": quick,
        "seconds": round(time.perf_counter() - start, 1),
        "sections": {key: {"title": SECTIONS[key], "measurements": m} for key, m in measured.items()},
    }


def _run_book_sections(root: Path, quick: bool, log: Log, wanted: list[str]) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bnrates-bench-") as tmp:
        p1, p2, memory = bench_rebuild(root, Path(tmp), quick, log)
        p6 = bench_parallel(root, Path(tmp), quick, log)
    p3 = bench_iteration(quick, log)
    p4 = bench_batching(quick, log)
    p5 = bench_quadrature(quick, log)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / GB
    memory["bench_process_peak_rss"] = measurement(
        self_peak, 1.0, "<=", "GB", "ru_maxrss of this process, which ran P3 to P5 (the numerical kernels)"
    )
    memory["largest_child_peak_rss"] = measurement(
        children_peak,
        1.0,
        "<=",
        "GB",
        "ru_maxrss of RUSAGE_CHILDREN: the largest peak of any single process among the builds and their "
        "kernels (exact, not sampled)",
    )
    measured = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6, "memory": memory}
    measured.update({key: STANDALONE[key](quick, log) for key in STANDALONE if key in wanted})
    return {
        "date": dt.date.today().isoformat(),
        "quick": quick,
        "seconds": round(time.perf_counter() - start, 1),
        "sections": {
            key: {"title": SECTIONS[key], "measurements": measured[key]} for key in SECTIONS if key in measured
        },
    }


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.0f}"


def table(result: dict) -> str:
    """The measurements as a plain-text table, one row per measurement."""
    rows = [("section", "measurement", "value", "unit", "target", "met")]
    for key, section in result["sections"].items():
        for name, m in section["measurements"].items():
            target = "-" if m["target"] is None else f"{m['relation']} {_fmt(m['target'])}"
            met = "-" if m["met"] is None else "yes" if m["met"] else "NO"
            rows.append((key, name, _fmt(m["value"]), m["unit"], target, met))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 2 or i == 3 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def write(result: dict, folder: Path, suffix: str = "") -> Path:
    """Write ``result`` with the run's metadata (machine, packages) to ``folder/<date>[-quick][suffix].json``.

    Written atomically. A run of some sections only (``--only S1``) gets the suffix ``-S1``, so it
    never replaces a full run.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result['date']}{'-quick' if result['quick'] else ''}{suffix}.json"
    payload = {**provenance.run_metadata({"quick": result["quick"]}), **result}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(payload, indent=1) + "\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bnrates.bench [--quick] [--root PATH] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m bnrates.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one A/B pair, no full-profile build")
    parser.add_argument("--root", type=Path, default=None, help="book root (default: nearest folder with _toc.yml)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/data/benchmarks)")
    parser.add_argument("--only", nargs="+", metavar="SECTION", help=f"only these sections ({', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    try:
        root = find_root((args.root or Path.cwd()).resolve())
        out = args.out or root / "data" / "benchmarks"
        if out.exists() and not out.is_dir():
            raise BookError(f"--out {out} exists and is not a folder")
    except BookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with one_blas_thread():
        result = run(root, args.quick, log=lambda line: print(line, flush=True), only=args.only)
    path = write(result, out, suffix="" if args.only is None else "-" + "-".join(args.only))
    print(table(result))
    print(f"wrote {path}")
    return 0
