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
    The acceleration sweep (:mod:`bnrates.sweeps`) on a random sample of the full grid's tasks
    (:data:`SWEEP_SAMPLE`; quick: half as many from the quick grid): throughput with two loky workers against one
    (sequential, in this process), a two-worker Dask ``LocalCluster`` against two loky workers
    (both warm), the peak RSS of a worker process running tasks at ``d = 2000``, and the cost per
    iteration of each method at each ``d`` of the ``large`` grid (for its cost per task).

``--only S1`` (any list of section names) measures just those sections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import numpy as np
import yaml

from . import provenance
from .algorithms import gd_rayleigh
from .book import KERNEL_ENV, BookError, find_root, read_toc, results_root
from .claims.core import one_blas_thread
from .empirical import Batched, EmpiricalHalfspace, gdnp_empirical
from .gdnp import gd
from .halfspace import N_NODES, GaussianHalfspace, halfspace_instances, halfspace_smoothness
from .problems import ols_instances, random_starts, spectrum_bounds

Log = Callable[[str], object]

GB = 1e9
"""Bytes per GB (decimal), the unit of the memory target."""
SEED = 20190101
BOOK_FILES = ("_config.yml", "_toc.yml", "references.bib", "index.md")
TOUCHED_MODULE = "bnrates/mlp.py"
"""The module whose recorded hash P2 alters (as if one of its functions had been edited)."""
EXECUTED = re.compile(r"^\[\d+/\d+\] (\S+) +executed in", re.MULTILINE)

SIZES = {
    False: {"pairs": 2, "n": 100_000, "d": 100, "iters": 30, "reps": 5, "ols_d": 50, "ols_steps": 200,
            "ols_reps": 7, "quad_d": 50, "quad_reps": 50},
    True: {"pairs": 1, "n": 10_000, "d": 20, "iters": 3, "reps": 3, "ols_d": 10, "ols_steps": 50,
           "ols_reps": 3, "quad_d": 10, "quad_reps": 10},
}
"""Problem sizes and repetitions, full (``False``) and ``--quick`` (``True``)."""

SWEEP_SAMPLE = 24
"""Tasks of the full acceleration grid timed by S1 (drawn with :data:`SEED`)."""
PROBE_CAP = 30
"""Iterations per method in S1's cost probe (at ``kappa = 1e4`` no method stops earlier)."""

N_BISECTION = 30
"""Halvings per GDNP bisection, as in the experiments chapter (``t_s``)."""

SAMPLE_INTERVAL = 0.1
"""Seconds between two samples of the peak RSS of a build's processes."""


# ------------------------------------------------------------------------------------- helpers


def measurement(
    value: float, target: float | None, relation: str, unit: str, notes: str = "", **extra: object
) -> dict:
    """One measurement: ``value`` compared with ``target`` by ``relation`` (``<=``, ``>=`` or ``==``).

    ``met`` is the comparison's result; a measurement reported for reference only has ``target``
    and ``met`` ``None``. ``extra`` fields (raw timings, lists) are kept alongside.
    """
    if relation not in ("<=", ">=", "=="):
        raise ValueError(f"relation must be one of '<=', '>=', '=='; got {relation!r}")
    if target is None:
        met = None
    else:
        met = bool(value <= target if relation == "<=" else value >= target if relation == ">=" else value == target)
    return {"value": float(value), "target": None if target is None else float(target), "relation": relation,
            "unit": unit, "met": met, "notes": notes, **extra}


def _median_time(func: Callable[[], object], reps: int) -> tuple[float, list[float]]:
    """Median wall time of ``func()`` over ``reps`` calls, and every time."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def _env() -> dict[str, str]:
    """The environment of the build subprocesses: ours plus the kernel's (one BLAS thread)."""
    return {**os.environ, **KERNEL_ENV}


def copy_book(root: Path, target: Path) -> Path:
    """Copy the book's sources (configuration, chapters, CSS, package sources, sabotage record) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        shutil.copy2(root / name, target / name)
    shutil.copytree(root / "chapters", target / "chapters", ignore=shutil.ignore_patterns("*.ipynb"))
    shutil.copytree(root / "code" / "bnrates", target / "code" / "bnrates",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if (root / "code" / "constraints.txt").is_file():
        shutil.copy2(root / "code" / "constraints.txt", target / "code" / "constraints.txt")
    if (root / "_static").is_dir():
        shutil.copytree(root / "_static", target / "_static")
    if (root / "data" / "sabotage").is_dir():  # the report shows the recorded sabotage runs
        shutil.copytree(root / "data" / "sabotage", target / "data" / "sabotage")
    return target


# ---------------------------------------------------------------------- processes and their memory


def _proc_table() -> dict[int, tuple[int, int]]:
    """``{pid: (parent pid, start time in clock ticks)}`` of every process visible in ``/proc``."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[19]))
    return table


def _peak_rss_kb(pid: int) -> int | None:
    """``VmHWM`` (peak resident set size so far, kB) of a live process, or ``None``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class _Monitor(threading.Thread):
    """Samples the peak RSS (``VmHWM``) of a process and all its descendants until stopped.

    The peak of a process is its last sample before it exits: growth within the last
    :data:`SAMPLE_INTERVAL` of a process's life is missed.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.procs: dict[int, dict[str, object]] = {}
        self._halt = threading.Event()

    def sample(self) -> None:
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        todo = [self.pid]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            hwm = _peak_rss_kb(pid)
            if hwm is None:
                continue
            rec = self.procs.setdefault(pid, {"start": table.get(pid, (0, 0))[1], "cmd": "", "peak_kb": 0})
            try:  # read every time: a child sampled between fork and exec still shows its parent's command
                rec["cmd"] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                pass
            rec["peak_kb"] = max(int(rec["peak_kb"]), hwm)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(SAMPLE_INTERVAL)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run_monitored(command: Sequence[str], cwd: Path | None = None) -> dict[str, object]:
    """Run ``command``; return its output, wall time and the sampled peak RSS of it and its descendants.

    Returns
    -------
    dict
        ``returncode``, ``stdout``, ``stderr``, ``seconds``, ``process_peak_bytes`` (the command's
        own process) and ``kernels``: the peak bytes of each Jupyter kernel it started, in order
        of their start.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(list(command), cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    monitor = _Monitor(proc.pid)
    monitor.start()
    try:
        stdout, stderr = proc.communicate()
    finally:
        monitor.stop()
    seconds = time.perf_counter() - start
    kernels = sorted((rec for pid, rec in monitor.procs.items() if "ipykernel" in str(rec["cmd"])),
                     key=lambda rec: int(rec["start"]))
    own = monitor.procs.get(proc.pid, {"peak_kb": 0})
    return {"returncode": proc.returncode, "stdout": stdout, "stderr": stderr, "seconds": seconds,
            "process_peak_bytes": int(own["peak_kb"]) * 1024,
            "kernels": [int(rec["peak_kb"]) * 1024 for rec in kernels]}


def _check(run: dict[str, object], what: str) -> None:
    if run["returncode"] != 0:
        raise RuntimeError(f"{what} failed (exit {run['returncode']}):\n{str(run['stdout'])[-4000:]}\n"
                           f"{str(run['stderr'])[-4000:]}")


# ------------------------------------------------------------------------------------ P1 and P2


def ours_command(book: Path, profile: str, force: bool, jobs: int | None = None) -> list[str]:
    """Our pipeline: ``python -m bnrates.book build --root BOOK --profile PROFILE [--force] [--jobs N]``."""
    return [sys.executable, "-m", "bnrates.book", "build", "--root", str(book), "--profile", profile,
            *(["--force"] if force else []), *([] if jobs is None else ["--jobs", str(jobs)])]


PARAMETERS_CELL = re.compile(r"(```\{code-cell\}[^\n]*\n:tags: \[parameters\]\n)(.*?)(```)", re.DOTALL)


def stage_for_jupyter_book(root: Path, stage: Path, results: Path, profile: str) -> list[str]:
    """A copy of the book that Jupyter Book executes itself (``execute_notebooks: force``).

    Jupyter Book does not inject papermill parameters, so each chapter's ``parameters`` cell is
    rewritten in the copy to ``profile`` and an absolute ``results_dir``; execution errors fail
    the build (``nb_execution_raise_on_error``). The report chapter reads the pipeline's
    ``execution.json``, which is written there as a stub. An aggregate chapter that Sphinx would
    read before the chapters it summarises (``errata``) is not executed. Returns the executable
    chapters.
    """
    stage.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        shutil.copy2(root / name, stage / name)
    config = yaml.safe_load((stage / "_config.yml").read_text())
    # Sphinx reads (and Jupyter Book executes) the pages in alphabetical order: an aggregate chapter
    # that sorts before a chapter it summarises (errata < experiments) would find no saved claims,
    # so it is not executed there.
    chapters = [c for c in read_toc(root) if c.notebook]
    last_input = max(c.path.as_posix() for c in chapters if not c.aggregate)
    early = [c.path.as_posix() for c in chapters if c.aggregate and c.path.as_posix() < last_input]
    config["execute"] = {**config.get("execute", {}), "execute_notebooks": "force", "allow_errors": False,
                         "exclude_patterns": early}
    config.setdefault("sphinx", {}).setdefault("config", {}).update(nb_execution_raise_on_error=True,
                                                                    bnrates_executed=True)
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copytree(root / "code" / "bnrates", stage / "code" / "bnrates", ignore=shutil.ignore_patterns("__pycache__"))
    if (root / "data" / "sabotage").is_dir():  # the report shows the recorded sabotage runs
        shutil.copytree(root / "data" / "sabotage", stage / "data" / "sabotage")

    def set_parameters(match: re.Match[str]) -> str:
        body = re.sub(r"^profile = .*$", f"profile = {profile!r}", match.group(2), flags=re.MULTILINE)
        body = re.sub(r"^results_dir = .*$", f"results_dir = {str(results)!r}", body, flags=re.MULTILINE)
        return match.group(1) + body + match.group(3)

    notebooks = []
    for chapter in read_toc(root):
        text = (root / chapter.path).read_text()
        if chapter.notebook:
            text, count = PARAMETERS_CELL.subn(set_parameters, text)
            if count != 1:
                raise RuntimeError(f"{chapter.path}: expected one parameters cell, found {count}")
            notebooks.append(chapter.name)
        (stage / chapter.path).parent.mkdir(parents=True, exist_ok=True)
        (stage / chapter.path).write_text(text)
    results.mkdir(parents=True, exist_ok=True)
    stub = {"profile": profile, "chapters": {name: {"seconds": 0.0, "executed_in_this_build": True}
                                             for name in notebooks}}
    (results / "execution.json").write_text(json.dumps(stub, indent=1) + "\n")
    return notebooks


def jupyter_book_command(stage: Path, out: Path) -> list[str]:
    """Jupyter Book's own build (it executes the chapters) of ``stage`` into ``out``."""
    return [str(Path(sys.executable).with_name("jupyter-book")), "build", str(stage), "--path-output", str(out),
            "--quiet"]


def bench_rebuild(root: Path, work: Path, quick: bool, log: Log) -> tuple[dict, dict, dict]:
    """P1, P2 and the builds' memory, in a private copy of the book under ``work``.

    Returns
    -------
    p1, p2 : dict
        The sections' measurements.
    memory : dict
        Peak RSS of the build processes and of each chapter's kernel.
    """
    book = copy_book(root, work / "book")
    notebooks = [c.name for c in read_toc(book) if c.notebook]
    stage, jb_results = work / "jb-book", work / "jb-results"
    stage_for_jupyter_book(root, stage, jb_results, "quick")
    ours, theirs = [], []
    for pair in range(SIZES[quick]["pairs"]):
        a = run_monitored(ours_command(book, "quick", force=True))
        _check(a, "our quick build")
        executed = EXECUTED.findall(str(a["stdout"]))
        if sorted(executed) != sorted(notebooks):
            raise RuntimeError(f"our forced build executed {executed}, expected {notebooks}")
        ours.append(a)
        log(f"P1 pair {pair + 1}: ours (bnrates.book build --force) {a['seconds']:.1f} s")
        shutil.rmtree(work / "jb-out", ignore_errors=True)
        b = run_monitored(jupyter_book_command(stage, work / "jb-out"))
        _check(b, "Jupyter Book's own build")
        theirs.append(b)
        log(f"P1 pair {pair + 1}: Jupyter Book (execute_notebooks: force) {b['seconds']:.1f} s")
    ratios = [float(a["seconds"]) / float(b["seconds"]) for a, b in zip(ours, theirs, strict=True)]
    ours_s = [round(float(a["seconds"]), 2) for a in ours]
    theirs_s = [round(float(b["seconds"]), 2) for b in theirs]
    cpus = os.cpu_count()
    ratio = statistics.median(ratios)
    p1 = {
        "ratio_ours_to_jupyter_book": measurement(
            ratio, 1.1, "<=", "ratio",
            f"median over {len(ratios)} alternated pair(s) of the quick build of all {len(notebooks)} executable "
            "chapters, both including the HTML render; ours renders with -W --nitpick from a staged copy and "
            "hashes inputs" + ("" if ratio <= 1.1 else "; TARGET MISSED"),
            ratios=[round(r, 3) for r in ratios], ours_seconds=ours_s, jupyter_book_seconds=theirs_s),
        "quick_build_seconds": measurement(
            statistics.median(ours_s), 90.0, "<=", "s",
            f"median wall time of our forced quick build on this machine ({cpus} CPUs; the target is for two cores)"
            + ("" if statistics.median(ours_s) <= 90 else "; TARGET MISSED")),
    }
    if not quick:
        full = run_monitored(ours_command(book, "full", force=True))
        _check(full, "our full build")
        log(f"P1: full profile {full['seconds']:.1f} s")
        p1["full_build_seconds"] = measurement(
            float(full["seconds"]), 360.0, "<=", "s",
            f"one forced full-profile build of every chapter ({cpus} CPUs)"
            + ("" if float(full["seconds"]) <= 360 else "; TARGET MISSED"),
            kernel_peak_GB=dict(zip(notebooks, [round(k / GB, 3) for k in full["kernels"]], strict=False)))

    # the HTML on disk is now the full profile's: one quick build first, so that the timed
    # rebuild below really has nothing to do (no execution and no render)
    _check(run_monitored(ours_command(book, "quick", force=False)), "the quick build before P2")
    unchanged = run_monitored(ours_command(book, "quick", force=False))
    _check(unchanged, "the no-change rebuild")
    again = EXECUTED.findall(str(unchanged["stdout"]))
    render = re.search(r"rendered with Jupyter Book in ([\d.]+) s", str(unchanged["stdout"]))
    log(f"P2: no-change rebuild {unchanged['seconds']:.1f} s, executed {again or 'nothing'}")
    users = []
    for cached in sorted((book / "_build" / "executed" / "quick").glob("*.ipynb")):
        nb = nbformat.read(cached, as_version=4)
        modules = nb.metadata["bnrates"]["inputs"]["modules"]
        hit = [path for path in modules if path.replace(os.sep, "/").endswith(TOUCHED_MODULE)]
        for path in hit:
            modules[path] = "a different hash: as if a function in this module had been edited"
        if hit:
            users.append(cached.stem)
            nbformat.write(nb, cached)
    touched = run_monitored(ours_command(book, "quick", force=False))
    _check(touched, "the rebuild after touching a module")
    reexecuted = EXECUTED.findall(str(touched["stdout"]))
    log(f"P2: after touching {TOUCHED_MODULE}: {touched['seconds']:.1f} s, executed {reexecuted}")
    no_change = float(unchanged["seconds"])
    p2 = {
        "no_change_rebuild_seconds": measurement(
            no_change, 3.0, "<=", "s",
            "rebuild with nothing changed: no chapter executed" if not again else f"UNEXPECTEDLY executed {again}",
            render_seconds=float(render.group(1)) if render else None, executed=again)
        | ({"notes": "TARGET MISSED: the pipeline re-renders the whole book with Jupyter Book on every build"
                     + (f" ({render.group(1)} s of the total)" if render else "")
                     + ("" if not again else f"; UNEXPECTEDLY executed {again}")}
           if no_change > 3.0 else {}),
        "touched_module_rebuild_seconds": measurement(
            float(touched["seconds"]), None, "<=", "s",
            f"rebuild after {TOUCHED_MODULE} changed (its recorded hash altered in the executed notebooks); "
            "reported for reference (no target)", executed=reexecuted),
        "touched_module_chapters": measurement(
            len(reexecuted), len(users), "==", "chapters",
            "chapters re-executed must be exactly those whose recorded modules include "
            f"{TOUCHED_MODULE} (the report chapter is aggregate and also re-runs when any chapter did)"
            + ("" if sorted(reexecuted) == sorted(users) else "; TARGET MISSED: the sets differ"),
            executed=reexecuted, expected=users)
        | ({"met": sorted(reexecuted) == sorted(users)}),
    }
    kernels = ours[-1]["kernels"]
    memory = {
        "build_process_peak_rss": measurement(
            max(float(a["process_peak_bytes"]) for a in ours) / GB, 1.0, "<=", "GB",
            f"VmHWM of the `python -m bnrates.book build` process, sampled every {SAMPLE_INTERVAL} s"),
        "jupyter_book_process_peak_rss": measurement(
            max(float(b["process_peak_bytes"]) for b in theirs) / GB, 1.0, "<=", "GB",
            "VmHWM of the `jupyter-book build` process that executes and renders the chapters itself"),
    }
    sampled = f"sampled every {SAMPLE_INTERVAL} s: growth in the last interval before a kernel exits is missed"
    memory["kernel_peak_rss_max"] = measurement(
        max(max(a["kernels"]) for a in ours) / GB, 1.0, "<=", "GB",
        f"largest VmHWM of any chapter's kernel in our quick builds ({sampled})"
        + ("" if max(max(a["kernels"]) for a in ours) <= GB else "; TARGET MISSED"))
    memory["jupyter_book_kernel_peak_rss_max"] = measurement(
        max(max(b["kernels"]) for b in theirs) / GB, 1.0, "<=", "GB",
        f"largest VmHWM of any kernel started by Jupyter Book's own execution ({sampled})")
    if len(kernels) != len(notebooks):
        memory["kernel_peak_rss_max"]["notes"] += (f"; {len(kernels)} kernels seen for {len(notebooks)} chapters, "
                                                   "so they are not attributed to chapters")
    else:
        for name, peak in zip(notebooks, kernels, strict=True):
            memory[f"kernel_peak_rss_{name}"] = measurement(
                peak / GB, 1.0, "<=", "GB",
                f"VmHWM of the kernel executing {name} (quick profile, last build; {sampled})"
                + ("" if peak <= GB else "; TARGET MISSED"))
    return p1, p2, memory


def bench_parallel(root: Path, work: Path, quick: bool, log: Log) -> dict:
    """P6: a forced build with ``--jobs 2`` against ``--jobs 1``, in a private copy of the book under ``work``."""
    book = copy_book(root, work / "parallel-book")
    profile = "quick" if quick else "full"
    aggregate = {c.name for c in read_toc(book) if c.notebook and c.aggregate}
    seconds, chapters = {}, {}
    for jobs in (1, 2):
        run = run_monitored(ours_command(book, profile, force=True, jobs=jobs))
        _check(run, f"the forced {profile} build with --jobs {jobs}")
        seconds[jobs] = float(run["seconds"])
        log_file = results_root(book, profile) / "execution.json"
        chapters[jobs] = {k: float(v["seconds"]) for k, v in json.loads(log_file.read_text())["chapters"].items()}
        log(f"P6: {profile} build with --jobs {jobs}: {seconds[jobs]:.1f} s")
    serial = chapters[1]
    independent = {k: v for k, v in serial.items() if k not in aggregate}
    longest = max(independent, key=independent.get)
    rest = seconds[1] - sum(serial.values())  # start-up, staging, render
    ideal = (max(independent[longest], sum(independent.values()) / 2)
             + sum(serial[k] for k in aggregate) + rest) / seconds[1]
    ratio = seconds[2] / seconds[1]
    slowdown = statistics.median(chapters[2][k] / serial[k] for k in independent)
    return {
        "jobs2_to_jobs1_ratio": measurement(
            ratio, 0.65, "<=", "ratio",
            f"forced {profile} build of every chapter, --jobs 2 over --jobs 1 ({os.cpu_count()} CPUs, shared: "
            f"other work on the machine slows the parallel run most); the chapters' serial times allow at best "
            f"{ideal:.2f} ({longest} alone is {independent[longest] / seconds[1]:.0%} of the serial time)"
            + ("" if ratio <= 0.65 else "; TARGET MISSED"),
            jobs1_seconds=round(seconds[1], 1), jobs2_seconds=round(seconds[2], 1), ideal_ratio=round(ideal, 3),
            longest_chapter=longest, longest_share=round(independent[longest] / seconds[1], 3),
            chapter_seconds_jobs1=serial, chapter_seconds_jobs2=chapters[2]),
        "ideal_ratio": measurement(
            ideal, None, "<=", "ratio",
            "the best --jobs 2 ratio the chapters' serial times allow: (max(longest chapter, half of all "
            "independent chapters) + report + start-up and render) / serial wall time"),
        "parallel_chapter_slowdown": measurement(
            slowdown, None, "<=", "ratio",
            "median over the independent chapters of their execution time with --jobs 2 over --jobs 1: "
            "how much two kernels at once slow each other (shared cores, memory bandwidth)"),
    }


# ------------------------------------------------------------------------------------ P3 to P5


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
    runs: dict[str, Callable[[], object]] = {
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
    log(f"P3: n={n} d={d}: GD {ms['gd']:.2f} ms/it, GDNP {ms['gdnp']:.2f} ms/it "
        f"({evaluations['gdnp']:.2f} length evaluations), with bisection {ms['gdnp_bisection']:.2f} ms/it, "
        f"copy {bandwidth / GB:.2f} GB/s")
    ratio = ms["gdnp"] / ms["gd"]
    common = f"n = {n}, d = {d}, float64, one start; median of {reps} alternated runs of {iters} steps"
    p3 = {
        "time_per_iteration_gd": measurement(
            ms["gd"], None, "<=", "ms",
            f"{common}; gd() with value and gradient from one set of margins; the baseline of the ratios"),
        "time_per_iteration_gdnp": measurement(
            ms["gdnp"], None, "<=", "ms",
            f"{common}; gdnp_empirical(length_search='newton'): lengths certified to 2^-{N_BISECTION}"),
        "ratio_gdnp_to_gd": measurement(
            ratio, 1.2, "<=", "ratio",
            f"{common}; GDNP reads Z twice per iteration like GD and adds "
            f"{evaluations['gdnp']:.2f} O(n) evaluations of the length derivative on average"
            + ("" if ratio <= 1.2 else "; TARGET MISSED"),
            gd_ms=[round(t * 1e3, 3) for t in times["gd"]], gdnp_ms=[round(t * 1e3, 3) for t in times["gdnp"]]),
        "ratio_gdnp_bisection_to_gd": measurement(
            ms["gdnp_bisection"] / ms["gd"], None, "<=", "ratio",
            f"{common}; Algorithm 1's bisection as written, {evaluations['gdnp_bisection']:.2f} evaluations "
            f"per iteration ({N_BISECTION} halvings + the bracket); no target, the cost the Newton search removes",
            gdnp_bisection_ms=[round(t * 1e3, 3) for t in times["gdnp_bisection"]]),
    }
    for name in ("gdnp", "gd"):
        fraction = passes * z_bytes / (ms[name] / 1e3) / bandwidth
        p3[f"bandwidth_fraction_{name}"] = measurement(
            fraction, 0.5, ">=", "fraction",
            f"bytes of Z (n d 8 = {z_bytes} B) read per iteration ({passes} passes, a lower bound: the "
            "n-vectors and their temporaries are not counted) per second, over numpy's copy bandwidth "
            "(np.copyto on an array of the same size, bytes read + written per second)"
            + ("" if fraction >= 0.5 else "; TARGET MISSED"),
            bytes_per_iteration=passes * z_bytes, achieved_GBps=round(passes * z_bytes / (ms[name] / 1e3) / GB, 3),
            copy_GBps=round(bandwidth / GB, 3))
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
    return {"ratio_64_to_1": measurement(
        ratio, 4.0, "<=", "ratio",
        f"gd_rayleigh, d = {d}, kappa = 100, {steps} steps; median of {reps} alternated runs"
        + ("" if ratio <= 4 else "; TARGET MISSED"),
        seconds_1=[round(t, 5) for t in times[1]], seconds_64=[round(t, 5) for t in times[64]])}


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
        errors.append(max(float(np.max(np.abs(v - v_ref) / np.abs(v_ref))),
                          float(np.max(np.linalg.norm(gr - gr_ref, axis=-1) / np.linalg.norm(gr_ref, axis=-1)))))
    wt = direction / np.sqrt(np.einsum("bi,bij,bj->b", direction, problem.S, direction))[:, None]
    seconds, _ = _median_time(lambda: (problem.value(wt), problem.grad(wt)), reps)
    error = max(errors)
    log(f"P5: relative error {error:.2e}, {seconds * 1e3:.3f} ms per value+grad")
    return {
        "relative_error": measurement(
            error, 1e-10, "<=", "relative",
            f"max over ||w~||_S in {list(lengths)} of the relative error of value and gradient (Euclidean norm) "
            f"with {N_NODES} nodes against {16 * (N_NODES - 1) + 1}; d = {d}, snr = 0.9"
            + ("" if error <= 1e-10 else "; TARGET MISSED"),
            errors=errors),
        "time_value_and_grad": measurement(
            seconds * 1e3, 1.0, "<=", "ms",
            f"median of {reps} calls of value() and grad() for one instance, d = {d}, ||w~||_S = 1"
            + ("" if seconds <= 1e-3 else "; TARGET MISSED")),
    }


# ------------------------------------------------------------------------------------ S1 sweeps


def _sweep_sample(quick: bool) -> list[dict]:
    from . import sweeps
    from .acceleration import SWEEP

    todo = sweeps.tasks(SWEEP, sweeps.check_grid(SWEEP, "quick" if quick else "full"))
    size = min(len(todo), SWEEP_SAMPLE // 2 if quick else SWEEP_SAMPLE)
    pick = np.random.default_rng(SEED).choice(len(todo), size=size, replace=False)
    return [todo[i] for i in sorted(pick)]


def _worker_peak_rss(params: list[dict]) -> float:
    """Peak RSS (GB) of a fresh Python process that runs ``params`` as sweep tasks one after the other."""
    code = ("import json, resource, sys\nfrom bnrates import sweeps\n"
            "for p in json.loads(sys.argv[1]):\n    sweeps.run_task('acceleration', p)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(params)], capture_output=True, text=True,
                          env=_env(), check=True)
    return int(done.stdout.split()[-1]) * 1024 / GB


def bench_sweeps(quick: bool, log: Log) -> dict:
    """S1: sweep throughput (2 vs 1 worker), Dask overhead against loky, worker memory, cost per iteration."""
    from distributed import Client

    from . import sweeps
    from .acceleration import METHODS, SWEEP, instance

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
    big = [{"d": d_max, "kappa": 100.0, "snr": 0.9, "loss": "logistic", "seed": 0, "cap": PROBE_CAP, "method": m}
           for m in METHODS]
    peak = _worker_peak_rss(big)
    log(f"S1 worker peak RSS at d = {d_max}: {peak:.2f} GB")
    large = SWEEP.grids["large"]
    costs: dict[str, dict[str, float]] = {}
    for d in ((10, 100) if quick else large["d"]):
        row = {}
        for m in METHODS:
            p = {"d": d, "kappa": 1e4, "snr": 0.9, "loss": "logistic", "seed": 0, "cap": PROBE_CAP, "method": m}
            sweeps.run_task(SWEEP.name, p)  # the instance is built (and cached) here
            short = sweeps.run_task(SWEEP.name, p)["seconds"]
            long = sweeps.run_task(SWEEP.name, {**p, "cap": 2 * PROBE_CAP})["seconds"]
            row[m] = max(long - short, 0.0) / PROBE_CAP  # per iteration, without the task's fixed costs
            row[f"{m}_fixed"] = max(short - PROBE_CAP * row[m], 0.0)
        start = time.perf_counter()
        instance.cache_clear()
        instance(d, 1e4, 0.9, "logistic", 1)
        row["build"] = time.perf_counter() - start
        costs[str(d)] = row
        log(f"S1 d = {d}: seconds per iteration " + ", ".join(f"{m} {row[m]:.2g}" for m in METHODS)
            + f"; instance {row['build']:.2g} s")
    cap = large["cap"][0]
    worst = {d: row["build"] / len(METHODS) + float(np.mean([cap * row[m] + row[f"{m}_fixed"] for m in METHODS]))
             for d, row in costs.items()}
    n_large = len(sweeps.tasks(SWEEP, sweeps.check_grid(SWEEP, "large")))
    per_d = n_large / len(costs)
    shared = f"measured on a shared {os.cpu_count()}-CPU machine (other jobs running): compare with care"
    return {
        "throughput_2_vs_1_worker": measurement(
            one / two, 1.7, ">=", "ratio",
            f"{len(sample)} tasks of the {grid} grid: {len(sample) / one:.3g} tasks/s on 1 worker (sequential, this "
            f"process), {len(sample) / two:.3g} on 2 warm loky workers; {shared}", one_s=one, two_s=two),
        "dask_overhead_vs_loky": measurement(
            on_dask / two - 1, 0.15, "<=", "fraction",
            f"2-worker LocalCluster {on_dask:.2f} s against 2 loky workers {two:.2f} s, both warm; {shared}",
            dask_s=on_dask),
        "worker_peak_rss_at_max_d": measurement(
            peak, 2.0, "<=", "GB",
            f"a fresh process running the five methods at d = {d_max} (cap {PROBE_CAP}): S, its inverse and the "
            "covariance are d x d (3 x 32 MB at d = 2000), the quadrature works in 8 MB blocks, the histories "
            "hold cap x d floats; the rest is the interpreter with numpy, scipy and pandas", d=d_max),
        "large_grid_worst_case_per_task": measurement(
            float(np.mean(list(worst.values()))), None, "<=", "s",
            f"mean over d and methods of instance build / 5 + the task's fixed cost + cap ({cap}) x seconds per "
            f"iteration (every run hitting the cap); {n_large} tasks ({per_d:.0f} per d) -> at most "
            f"{n_large * np.mean(list(worst.values())) / 3600:.0f} core-hours; {shared}",
            per_d={d: round(v, 3) for d, v in worst.items()}, seconds_per_iteration=costs),
    }


# ------------------------------------------------------------------------------------ the report


SECTIONS = {
    "P1": "rebuild: our pipeline vs Jupyter Book's own execution",
    "P2": "incremental rebuild",
    "P3": "iteration cost: GDNP vs GD on an empirical halfspace",
    "P4": "batching: 64 OLS instances vs 1",
    "P5": "quadrature of the Gaussian halfspace objective",
    "P6": "parallel chapters: --jobs 2 vs --jobs 1",
    "memory": "peak resident memory (RSS)",
    "S1": "sweeps: throughput, Dask overhead, memory per worker, cost per task",
}


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
    if not set(wanted) <= {"S1"}:
        return _run_book_sections(root, quick, log, wanted)
    start = time.perf_counter()
    return {"date": dt.date.today().isoformat(), "quick": quick, "seconds": round(time.perf_counter() - start, 1),
            "sections": {"S1": {"title": SECTIONS["S1"], "measurements": bench_sweeps(quick, log)}}}


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
        self_peak, 1.0, "<=", "GB", "ru_maxrss of this process, which ran P3 to P5 (the numerical kernels)")
    memory["largest_child_peak_rss"] = measurement(
        children_peak, 1.0, "<=", "GB",
        "ru_maxrss of RUSAGE_CHILDREN: the largest peak of any single process among the builds and their "
        "kernels (exact, not sampled)")
    measured = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6, "memory": memory}
    if "S1" in wanted:
        measured["S1"] = bench_sweeps(quick, log)
    return {
        "date": dt.date.today().isoformat(),
        "quick": quick,
        "seconds": round(time.perf_counter() - start, 1),
        "sections": {key: {"title": SECTIONS[key], "measurements": measured[key]} for key in SECTIONS
                     if key in measured},
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
    lines = ["  ".join(cell.ljust(w) if i < 2 or i == 3 else cell.rjust(w) for i, (cell, w) in
                       enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]
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


if __name__ == "__main__":
    sys.exit(main())
