"""Parameter sweeps: a grid of axes and a task function, run through joblib, stored task by task.

A :class:`Sweep` is declared once, in an importable module: its axes (each with the rule its
values must follow), named grids (``quick``, ``full``, ``large``: a tuple of values per axis),
the axes that key the random seed, and a task function ``task(params, seed) -> outcomes``.
:func:`run_sweep` checks the grid, runs the missing tasks through :class:`joblib.Parallel`
(``loky``, one process per core, by default; a Dask cluster under
``joblib.parallel_config(backend="dask")`` when a :class:`distributed.Client` is given) and
returns one tidy table, benchopt's convention: one row per task with every parameter, the seed
(``task_seed``),
the outcome columns and the environment (package versions, BLAS threads, commit).

Seeds
    :func:`task_seed` hashes the values of the seed axes into a :class:`numpy.random.SeedSequence`:
    a task's seed depends on what it is, never on its position in the grid or on the worker.
Resume
    Each finished task is written at once to ``<out>/<name>-<grid>/tasks/<key>.json`` (a temporary
    file, then :func:`os.replace`), where ``<key>`` hashes the task's parameters; a resumed sweep
    computes only the tasks without a file. The table is assembled from those files in grid
    order, so a run interrupted and resumed gives the same table as one that was not (up to the
    columns of :attr:`Sweep.volatile`: wall times and the worker's name).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import itertools
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

Params = dict[str, object]
Task = Callable[[Params, int], Mapping[str, object]]

GRIDS = ("quick", "full", "large")
"""Grid names every sweep offers, smallest first."""

SWEEP_MODULES = {"acceleration": "bnrates.acceleration", "tuning": "bnrates.tuning"}
"""Sweep name -> the module whose ``SWEEP`` declares it (imported on use)."""

ENV_PACKAGES = ("bnrates", "numpy", "scipy", "joblib", "dask", "distributed")
"""Packages whose versions go into every row (``env_<name>`` columns)."""

VOLATILE = ("seconds", "worker")
"""Columns that differ from run to run of the same task; compare tables without them."""

PROGRESS_EVERY = 60.0
"""Seconds between two progress lines when stderr is not a terminal (a log file, a batch job)."""

SCHEDULER_TIMEOUT = 5.0
# The most local worker processes ``--jobs`` / ``--local-cluster`` may start: each holds up to
# about 0.5 GB at d = 2000 (benchmark S1), so 64 is already more memory than a workstation has;
# more workers belong on a Dask cluster (``--scheduler``).
MAX_LOCAL_WORKERS = 64
"""Seconds to wait for a Dask scheduler before reporting it unreachable."""


@dataclass(frozen=True)
class Axis:
    """One axis of a sweep: its name, what its values must be, and a check that says so.

    Attributes
    ----------
    name : str
    rule : str
        The allowed values in words, for error messages (``"integer in [2, 5000]"``).
    check : callable
        ``value -> bool``.
    """

    name: str
    rule: str
    check: Callable[[object], bool]


def choice(name: str, allowed: Sequence[object]) -> Axis:
    """An axis whose values come from a fixed list."""
    allowed = tuple(allowed)
    return Axis(name, "one of " + ", ".join(map(repr, allowed)), lambda v: v in allowed)


def real_in(name: str, low: float, high: float, *, open_interval: bool = False) -> Axis:
    """An axis of real numbers in ``[low, high]`` (``(low, high)`` with ``open_interval``)."""

    def check(v: object) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            return False
        return bool(low < v < high) if open_interval else bool(low <= v <= high)

    rule = f"real number in ({low:g}, {high:g})" if open_interval else f"real number in [{low:g}, {high:g}]"
    return Axis(name, rule, check)


def integer_in(name: str, low: int, high: int) -> Axis:
    """An axis of integers in ``[low, high]``."""

    def check(v: object) -> bool:
        return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and bool(low <= v <= high)

    return Axis(name, f"integer in [{low}, {high}]", check)


@dataclass(frozen=True)
class Sweep:
    """A sweep declared once: axes, grids, seed axes and the task.

    Attributes
    ----------
    name : str
    axes : tuple of Axis
        In the order of the table's columns and of the grid's enumeration (last axis fastest).
    grids : mapping
        Grid name (:data:`GRIDS`) -> ``{axis name: tuple of values}``.
    seed_axes : tuple of str
        Axes whose values key the seed (:func:`task_seed`); tasks that differ only in the other
        axes (e.g. the method) share their seed, hence their random instance.
    seed_names : mapping
        Seed axis -> the name under which its value enters the seed key, for an axis renamed
        after its seeds were fixed: the seeds, hence the committed tables' rows, stay what they
        were. Axes not listed enter under their own name.
    task : callable
        ``task(params, seed) -> {outcome: value}`` of a module-level function (picklable by
        reference, so a worker imports it instead of receiving its code).
    outcomes : tuple of str
        The outcome columns the task returns.
    volatile : tuple of str
        Columns that change between runs of the same task (:data:`VOLATILE`).
    """

    name: str
    axes: tuple[Axis, ...]
    grids: Mapping[str, Mapping[str, tuple]]
    seed_axes: tuple[str, ...]
    task: Task
    outcomes: tuple[str, ...]
    volatile: tuple[str, ...] = field(default=VOLATILE)
    seed_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)


def get_sweep(name: str) -> Sweep:
    """The sweep called ``name`` (a ``ValueError`` listing the known sweeps otherwise)."""
    if name not in SWEEP_MODULES:
        raise ValueError(f"unknown sweep {name!r}; known sweeps: {', '.join(SWEEP_MODULES)}")
    return importlib.import_module(SWEEP_MODULES[name]).SWEEP


def check_grid(sweep: Sweep, grid: str | Mapping[str, Sequence[object]]) -> dict[str, tuple]:
    """The grid as ``{axis: values}`` after checking every axis and value against the sweep.

    ``grid`` is a grid name of the sweep or an explicit mapping. Raises ``ValueError`` naming the
    grid, axis or value at fault: unknown grid name, unknown or missing axis, an empty or
    repeated value list, a value outside its axis's rule.
    """
    if isinstance(grid, str):
        if grid not in sweep.grids:
            raise ValueError(f"unknown grid {grid!r} for sweep {sweep.name!r}; grids: {', '.join(sweep.grids)}")
        grid = sweep.grids[grid]
    if not isinstance(grid, Mapping):
        raise ValueError(f"a grid must be a grid name or a mapping axis -> values, got {type(grid).__name__}")
    unknown = sorted(set(grid) - set(sweep.axis_names))
    if unknown:
        raise ValueError(
            f"unknown axis {unknown[0]!r} in the grid of sweep {sweep.name!r}; axes: {', '.join(sweep.axis_names)}"
        )
    checked = {}
    for axis in sweep.axes:
        if axis.name not in grid:
            raise ValueError(f"the grid of sweep {sweep.name!r} gives no values for axis {axis.name!r}")
        values = grid[axis.name]
        values = tuple(values) if isinstance(values, (list, tuple, np.ndarray)) else (values,)
        if not values:
            raise ValueError(f"axis {axis.name!r} has no values")
        for v in values:
            if not axis.check(v):
                raise ValueError(
                    f"axis {axis.name!r}: value {v!r} is not allowed; it must be a {axis.rule}"
                    if not axis.rule.startswith("one of")
                    else f"axis {axis.name!r}: unknown value {v!r}; it must be {axis.rule}"
                )
        if len(set(values)) != len(values):
            raise ValueError(f"axis {axis.name!r} repeats a value: {values!r}")
        checked[axis.name] = tuple(_plain(v) for v in values)
    return checked


def _plain(value: object) -> object:
    """numpy scalars as Python scalars (so keys and JSON do not depend on the scalar type)."""
    return value.item() if isinstance(value, np.generic) else value


def tasks(sweep: Sweep, grid: Mapping[str, tuple]) -> list[Params]:
    """Every task of a checked grid, in grid order (the last axis varies fastest)."""
    names = sweep.axis_names
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[n] for n in names))]


def _digest(payload: object) -> bytes:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).digest()


def task_key(params: Mapping[str, object]) -> str:
    """A stable file name for a task: 20 hex digits of the SHA-256 of its parameters (as JSON)."""
    return _digest({k: _plain(v) for k, v in params.items()}).hex()[:20]


def task_seed(sweep: Sweep, params: Mapping[str, object]) -> int:
    """The task's seed: a :class:`~numpy.random.SeedSequence` keyed on its seed axes.

    The entropy is the SHA-256 of the sweep's name and the values of :attr:`Sweep.seed_axes`
    (as JSON, each under its name in :attr:`Sweep.seed_names`, by default its own), so the seed is
    the same in every process, order and worker. Returns a non-negative integer below ``2**63``.
    """
    key = {"sweep": sweep.name, **{sweep.seed_names.get(a, a): _plain(params[a]) for a in sweep.seed_axes}}
    entropy = int.from_bytes(_digest(key), "big")
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@functools.cache
def package_versions() -> dict[str, str]:
    """``env_<package>`` versions of :data:`ENV_PACKAGES` in this process (``"missing"`` if absent).

    Read once per process (the versions a process imported cannot change while it runs): every
    task row carries those of the worker that computed it, so a table computed on a cluster whose
    workers run different versions shows it (:func:`mixed_environment`).
    """
    versions: dict[str, str] = {}
    for name in ENV_PACKAGES:
        try:
            versions[f"env_{name}"] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[f"env_{name}"] = "missing"
    return versions


def environment() -> dict[str, object]:
    """The driver's environment columns: :func:`package_versions`, ``env_blas_threads``, ``env_commit``.

    The package versions here only fill rows stored without their worker's (by an older version
    of this module); a row's own ``env_<package>`` values take precedence.
    """
    from threadpoolctl import threadpool_info

    from .book.provenance import commit

    env: dict[str, object] = dict(package_versions())
    blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    env["env_blas_threads"] = int(max(blas)) if blas else 0
    env["env_commit"] = commit()
    return env


def _with_environment(row: Mapping[str, object], env: Mapping[str, object]) -> dict[str, object]:
    """``row`` followed by the columns of ``env`` it lacks (its own worker's versions stay)."""
    return {**row, **{k: v for k, v in env.items() if k not in row}}


def mixed_environment(table: pd.DataFrame) -> dict[str, list[str]]:
    """The package columns of ``table`` whose rows disagree: ``{"env_numpy": ["2.4.5", "2.4.6"]}``.

    Empty when every row was computed with the same versions of :data:`ENV_PACKAGES`.
    """
    columns = [c for c in package_versions() if c in table.columns]
    return {c: sorted(map(str, table[c].unique())) for c in columns if table[c].nunique() > 1}


def run_task(sweep_name: str, params: Params) -> dict[str, object]:
    """Run one task in a worker, with BLAS pinned to one thread; the row without the environment.

    The row holds the parameters, ``task_seed`` (:func:`task_seed`), the outcomes, ``seconds`` (wall time of the task),
    ``worker`` (host and process), ``blas_threads`` (what BLAS used inside the task) and the worker's
    package versions (:func:`package_versions`).
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    sweep = get_sweep(sweep_name)
    seed = task_seed(sweep, params)
    with threadpool_limits(limits=1, user_api="blas"):
        blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        start = time.perf_counter()
        outcomes = dict(sweep.task(dict(params), seed))
        seconds = time.perf_counter() - start
    missing = [c for c in sweep.outcomes if c not in outcomes]
    if missing:
        raise RuntimeError(f"task of sweep {sweep_name!r} returned no {', '.join(missing)}")
    return {
        **params,
        "task_seed": seed,
        **{c: _plain(outcomes[c]) for c in sweep.outcomes},
        "seconds": seconds,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "blas_threads": int(max(blas, default=0)),
        **package_versions(),
    }


def write_json_atomically(path: Path, record: Mapping[str, object]) -> None:
    """Write ``record`` as JSON to ``path`` through a temporary file and :func:`os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_dir(out: str | Path, sweep: Sweep, grid_name: str) -> Path:
    """Folder of a sweep's finished tasks: ``<out>/<name>-<grid>/tasks``."""
    return Path(out) / f"{sweep.name}-{grid_name}" / "tasks"


def table_path(out: str | Path, sweep: Sweep, grid_name: str) -> Path:
    """The assembled table: ``<out>/<name>-<grid>.parquet``."""
    return Path(out) / f"{sweep.name}-{grid_name}.parquet"


def finished(folder: Path) -> set[str]:
    """Keys of the tasks stored in ``folder`` (complete files only: temporaries start with a dot)."""
    return {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()


@dataclass(frozen=True)
class SweepRun:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    table : DataFrame
        One row per task of the grid, in grid order.
    path : Path or None
        Where the table was written.
    computed : int
        Tasks computed by this call (the others were read from the store).
    """

    table: pd.DataFrame
    path: Path | None
    computed: int


def connect(scheduler: str, timeout: float = SCHEDULER_TIMEOUT):
    """A :class:`distributed.Client` of the scheduler at ``tcp://HOST:PORT``, or a clear error.

    Raises ``ValueError`` for a malformed address and ``ConnectionError`` if no scheduler
    answers within ``timeout`` seconds.
    """
    from distributed import Client

    host, sep, port = scheduler.removeprefix("tcp://").rpartition(":")
    if not scheduler.startswith("tcp://") or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--scheduler must be tcp://HOST:PORT with a port in 1..65535, got {scheduler!r}")
    try:
        return Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConnectionError(f"no Dask scheduler answers at {scheduler} within {timeout:g} s ({err})") from err


def connect_file(path: str | Path, timeout: float = SCHEDULER_TIMEOUT):
    """A :class:`distributed.Client` of the scheduler named in a scheduler file, or a clear error.

    The file is what ``dask scheduler --scheduler-file PATH`` writes (JSON with the scheduler's
    ``address``), the usual hand-over under SLURM, where the scheduler's host is known only once
    its job runs. Raises ``ValueError`` if the file is missing, unreadable or not a scheduler file
    (``distributed`` itself would wait for a missing file forever) and ``ConnectionError`` if the
    scheduler it names does not answer within ``timeout`` seconds (a stale file of a finished job).
    """
    from distributed import Client

    path = Path(path)
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"--scheduler-file {path} does not exist: start `dask scheduler --scheduler-file {path}` first, "
            "on a file system this machine sees"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"--scheduler-file {path} cannot be read ({err})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"--scheduler-file {path} is not a Dask scheduler file (not JSON: {err})") from None
    address = info.get("address") if isinstance(info, dict) else None
    if not isinstance(address, str) or "://" not in address:
        raise ValueError(f"--scheduler-file {path} is not a Dask scheduler file (no scheduler address in it)")
    try:
        return Client(scheduler_file=str(path), timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConnectionError(
            f"no Dask scheduler answers at {address} (from --scheduler-file {path}) within {timeout:g} s ({err})"
        ) from err


def check_workers(option: str, n: object) -> int:
    """``n`` as a number of local worker processes in ``[1, MAX_LOCAL_WORKERS]``, or a ``ValueError``.

    ``option`` names the command-line option in the message (``--jobs``, ``--local-cluster``).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_LOCAL_WORKERS:
        raise ValueError(f"{option} must be a number of worker processes in [1, {MAX_LOCAL_WORKERS}], got {n!r}")
    return int(n)


def local_cluster(n_workers: int):
    """An in-process :class:`distributed.LocalCluster`: ``n_workers`` processes of one thread each."""
    from distributed import LocalCluster

    check_workers("--local-cluster", n_workers)
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def check_interval(option: str, seconds: object) -> float:
    """``seconds`` as a positive, finite number of seconds, or a ``ValueError`` naming ``option``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.integer, np.floating)):
        raise ValueError(f"{option} must be a positive number of seconds, got {seconds!r}")
    if not (np.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{option} must be a positive number of seconds, got {seconds!r}")
    return float(seconds)


class ProgressLog:
    """Progress as plain lines, for output that is not a terminal: done/total, rate, ETA.

    A line is written when :meth:`update` is called at least ``every`` seconds after the
    previous line (or the start), and once more by :meth:`close`. The rate counts only the tasks
    computed since the start (not those read from the store), so the ETA of a resumed run is
    that of the tasks left.

    Parameters
    ----------
    label : str
        Starts every line (``acceleration/full``).
    total, initial : int
        Tasks in all, and those already done at the start.
    every : float
        Seconds between two lines.
    stream : file, optional
        Where the lines go (default: ``sys.stderr`` at the time of each line).
    clock : callable
        Seconds, monotonic (for tests).
    """

    def __init__(
        self,
        label: str,
        total: int,
        initial: int,
        every: float,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.initial, self.done = label, total, initial, initial
        self.every = check_interval("every", every)
        self.stream, self.clock = stream, clock
        self.start = self.last = clock()

    def line(self) -> str:
        """The current state: ``label: done/total tasks (pct%), rate tasks/s, ETA h:mm:ss``."""
        elapsed = self.clock() - self.start
        computed = self.done - self.initial
        rate = computed / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = "0:00" if left == 0 else _interval(left / rate) if rate > 0 else "unknown"
        percent = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"{self.label}: {self.done}/{self.total} tasks ({percent:.0f}%), {rate:.3g} tasks/s, "
            f"elapsed {_interval(elapsed)}, ETA {eta}"
        )

    def _write(self) -> None:
        print(self.line(), file=self.stream or sys.stderr, flush=True)
        self.last = self.clock()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more finished tasks; write a line if ``every`` seconds have passed."""
        self.done += n
        if self.clock() - self.last >= self.every:
            self._write()

    def close(self) -> None:
        """Write the final line."""
        self._write()

    def __enter__(self) -> ProgressLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _interval(seconds: float) -> str:
    """``h:mm:ss`` (``m:ss`` under an hour) of a number of seconds."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@contextmanager
def _backend(client, n_jobs: int) -> Iterator[None]:
    from joblib import parallel_config

    if client is None:
        with parallel_config(backend="loky", n_jobs=n_jobs, inner_max_num_threads=1):
            yield
    else:
        import joblib._dask  # noqa: F401  (registers the "dask" backend)

        with parallel_config(backend="dask", client=client):
            yield


def run_sweep(
    sweep: Sweep | str,
    grid: str | Mapping[str, Sequence[object]] = "quick",
    *,
    out: str | Path | None = None,
    n_jobs: int | None = None,
    client=None,
    resume: bool = False,
    progress: bool | None = None,
    progress_every: float = PROGRESS_EVERY,
    only: Sequence[Params] | None = None,
) -> SweepRun:
    """Run a sweep's grid and return (and, with ``out``, write) its table.

    Parameters
    ----------
    sweep : Sweep or str
    grid : str or mapping
        A grid name of the sweep, or ``{axis: values}`` (:func:`check_grid`; stored as grid ``custom``).
    out : path, optional
        Store finished tasks under :func:`store_dir` and the table at :func:`table_path`. Without
        it the tasks are kept in a temporary folder that is removed afterwards.
    n_jobs : int, optional
        Worker processes for ``loky`` (default: one per core). Ignored with ``client``.
    client : distributed.Client, optional
        Run on this Dask cluster instead.
    resume : bool
        Keep the tasks already stored under ``out`` and compute only the others; without it a
        previous store of the same grid is discarded first.
    progress : bool, optional
        ``True``: a tqdm progress bar on stderr; ``False``: nothing; default: the bar when stderr
        is a terminal, otherwise a :class:`ProgressLog` line every ``progress_every`` seconds.
    progress_every : float
        Seconds between two progress lines off a terminal (:data:`PROGRESS_EVERY`).
    only : list of dict, optional
        Run just these tasks of the grid (each must be one of them), e.g. a random subset to
        check against a saved table.

    Returns
    -------
    SweepRun
    """
    from joblib import Parallel, delayed
    from tqdm import tqdm

    sweep = get_sweep(sweep) if isinstance(sweep, str) else sweep
    checked = check_grid(sweep, grid)
    todo = tasks(sweep, checked)
    if only is not None:
        keys = {task_key(p) for p in todo}
        chosen = [{k: _plain(v) for k, v in p.items()} for p in only]
        stray = [p for p in chosen if task_key(p) not in keys]
        if stray:
            raise ValueError(f"task {stray[0]!r} is not in grid {grid!r} of sweep {sweep.name!r}")
        todo = chosen
    if n_jobs is not None:
        check_workers("--jobs", n_jobs)
    check_interval("--progress-every", progress_every)
    with tempfile.TemporaryDirectory(prefix=f"sweep-{sweep.name}-") as scratch:
        grid_name = grid if isinstance(grid, str) else "custom"
        folder = store_dir(out if out is not None else scratch, sweep, grid_name)
        if not resume and folder.is_dir():
            for stale in folder.glob("*.json"):
                stale.unlink()
        if resume and out is not None:
            seed_store(folder, sweep, table_path(out, sweep, grid_name), todo)
        done = finished(folder)
        missing = [p for p in todo if task_key(p) not in done]
        with _backend(client, n_jobs or os.cpu_count() or 1):
            results = Parallel(return_as="generator_unordered")(delayed(run_task)(sweep.name, p) for p in missing)
            label = f"{sweep.name}/{grid_name}"
            initial = len(todo) - len(missing)
            bar: tqdm | ProgressLog
            if progress is None and not sys.stderr.isatty():
                bar = ProgressLog(label, len(todo), initial, progress_every)
            else:
                bar = tqdm(
                    total=len(todo), initial=initial, desc=label, unit="task", disable=progress is False, smoothing=0.05
                )
            with bar:
                for row in results:
                    write_json_atomically(folder / f"{task_key(row_params(sweep, row))}.json", row)
                    bar.update()
        rows = [json.loads((folder / f"{task_key(p)}.json").read_text()) for p in todo]
    env = environment()
    table = pd.DataFrame([_with_environment(row, env) for row in rows])
    mixed = mixed_environment(table)
    if mixed:
        versions = "; ".join(f"{c[4:]} {', '.join(v)}" for c, v in mixed.items())
        print(
            f"warning: {sweep.name}/{grid_name} mixes package versions across its workers ({versions}): "
            "see each row's env_* columns",
            file=sys.stderr,
            flush=True,
        )
    path = None
    if out is not None and only is None:
        path = table_path(out, sweep, grid_name)
        write_table(table, path)
    return SweepRun(table, path, len(missing))


def seed_store(folder: Path, sweep: Sweep, table: Path, todo: Sequence[Params]) -> int:
    """Store the rows of an earlier table (complete or partial) that the store lacks; how many.

    So ``--resume`` also continues from a committed table (e.g. one written by :func:`collect`)
    after the task store was lost: only tasks in neither are computed.
    """
    if not table.is_file():
        return 0
    wanted = {task_key(p) for p in todo}
    have = finished(folder)
    added = 0
    for row in read_table(table).to_dict("records"):
        key = task_key(row_params(sweep, row))
        if key in wanted and key not in have:
            kept = {k: _plain(v) for k, v in row.items() if not k.startswith("env_") or k in package_versions()}
            write_json_atomically(folder / f"{key}.json", kept)
            added += 1
    return added


def collect(sweep: Sweep | str, grid: str, out: str | Path) -> pd.DataFrame:
    """The table of the tasks of ``grid`` stored so far under ``out`` (in grid order; may be partial).

    For a look at a running sweep, or to save what a run that cannot finish has computed: a
    later ``run_sweep(..., resume=True)`` picks up from the table written from it.
    """
    sweep = get_sweep(sweep) if isinstance(sweep, str) else sweep
    folder = store_dir(out, sweep, grid)
    done = finished(folder)
    rows = [
        json.loads((folder / f"{task_key(p)}.json").read_text())
        for p in tasks(sweep, check_grid(sweep, grid))
        if task_key(p) in done
    ]
    env = environment()
    return pd.DataFrame([_with_environment(row, env) for row in rows])


def row_params(sweep: Sweep, row: Mapping[str, object]) -> Params:
    """The parameters of a row (its axis columns)."""
    return {a: row[a] for a in sweep.axis_names}


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` as Parquet (``.parquet``) or CSV, through a temporary file and :func:`os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if path.suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_table(path: str | Path) -> pd.DataFrame:
    """A table written by :func:`write_table`."""
    path = Path(path)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def merge_table(
    new: pd.DataFrame, path: Path, key: Sequence[str], order: Sequence[object] | None = None
) -> pd.DataFrame:
    """Merge the rows of a partial run into the table at ``path``, written by :func:`write_table`.

    A row of the saved table whose ``key`` columns equal those of a row of ``new`` is replaced;
    every other saved row stays as it was, and the rows of ``new`` follow them. Without a saved
    table, ``new`` is written. With ``order`` (values of the first key column), the rows are
    sorted into that order, values not in it last. Returns the merged table.
    """
    merged = new
    if path.is_file():
        old = (
            pd.read_parquet(path)
            if path.suffix == ".parquet"
            else pd.read_csv(path, keep_default_na=False, na_values=[""])
        )
        replaced = pd.MultiIndex.from_frame(old[list(key)]).isin(pd.MultiIndex.from_frame(new[list(key)]))
        merged = pd.concat([old[~replaced], new], ignore_index=True)
    if order is not None:
        rank = {value: i for i, value in enumerate(order)}
        merged = merged.sort_values(
            key[0], key=lambda column: column.map(lambda v: rank.get(v, len(rank))), kind="stable"
        )
    write_table(merged, path)
    return merged


def comparable(sweep: Sweep, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without the volatile columns and the commit, for comparing two runs."""
    drop = [c for c in (*sweep.volatile, "env_commit") if c in table.columns]
    return table.drop(columns=drop).reset_index(drop=True)
