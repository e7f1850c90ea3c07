"""The sweep machinery on the acceleration sweep's quick grid: loky and Dask, kills and resumes, seeds, bad input.

Services are started here and stopped after: a ``dask scheduler`` with two ``dask worker``
processes on 127.0.0.1, and an in-process ``LocalCluster``.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnrates import sweeps
from bnrates.acceleration import SWEEP, optimal_length
from bnrates.claims.acceleration import TABLE
from bnrates.halfspace import halfspace_instances

VENV_BIN = Path(sys.executable).parent
N_QUICK = len(sweeps.tasks(SWEEP, sweeps.check_grid(SWEEP, "quick")))
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _stored(out: Path, grid: str = "quick") -> set[str]:
    return sweeps.finished(sweeps.store_dir(out, SWEEP, grid))


@pytest.fixture(scope="module")
def loky_run(tmp_path_factory) -> sweeps.SweepRun:
    """The quick grid through loky with two processes, uninterrupted: the reference table."""
    return sweeps.run_sweep(SWEEP, "quick", out=tmp_path_factory.mktemp("loky"), n_jobs=2)


@contextmanager
def _dask_services(folder: Path, scheduler: list[str], workers: list[str], connect):
    """``dask scheduler SCHEDULER`` and two ``dask worker WORKERS`` processes (each in its own process group).

    ``connect(timeout)`` returns a client of the scheduler or raises ``ConnectionError`` (tried for
    up to 60 s while the scheduler starts); yields the client and the processes, stops all after.
    """
    procs = [
        subprocess.Popen(
            [VENV_BIN / "dask", "scheduler", *scheduler, "--no-dashboard"],
            env=ENV,
            cwd=folder,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for k in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        VENV_BIN / "dask",
                        "worker",
                        *workers,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                        "--name",
                        f"w{k}",
                        "--local-directory",
                        str(folder / f"w{k}"),
                    ],
                    env=ENV,
                    cwd=folder,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        client = None
        deadline = time.monotonic() + 60
        while client is None:
            try:
                client = connect(2)
            except (ConnectionError, ValueError):  # ValueError: the scheduler file is not written yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client.wait_for_workers(2, timeout=60)
        yield client, procs
        client.close()
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, by address."""
    folder = tmp_path_factory.mktemp("dask")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with _dask_services(
        folder,
        ["--host", "127.0.0.1", "--port", str(port)],
        [address],
        lambda timeout: sweeps.connect(address, timeout=timeout),
    ) as (client, procs):
        yield address, client, procs


def test_quick_table_is_tidy(loky_run):
    table = loky_run.table
    assert len(table) == N_QUICK and loky_run.computed == N_QUICK
    assert loky_run.path is not None and loky_run.path.suffix == ".parquet"
    saved = sweeps.read_table(loky_run.path)
    pd.testing.assert_frame_equal(saved, table)
    for column in (
        *SWEEP.axis_names,
        "task_seed",
        *SWEEP.outcomes,
        "seconds",
        "env_numpy",
        "env_commit",
        "env_blas_threads",
    ):
        assert column in table.columns
    assert (table["blas_threads"] == 1).all()
    # tasks of one instance share its seed; different instances get different seeds
    per_instance = table.groupby(["d", "kappa", "separability", "loss", "seed"])["task_seed"].nunique()
    assert (per_instance == 1).all() and table["task_seed"].nunique() == len(per_instance)


def test_dask_cluster_gives_the_loky_table(loky_run, dask_cluster, tmp_path):
    _, client, _ = dask_cluster
    on_dask = sweeps.run_sweep(SWEEP, "quick", out=tmp_path, client=client)
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, on_dask.table), sweeps.comparable(SWEEP, loky_run.table))
    assert on_dask.table["worker"].nunique() == 2  # both workers did some of it


def test_cli_on_the_scheduler_gives_the_loky_table(loky_run, dask_cluster, tmp_path):
    address, _, _ = dask_cluster
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bnrates",
            "sweep",
            "acceleration",
            "--grid",
            "quick",
            "--scheduler",
            address,
            "--out",
            str(tmp_path),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    table = sweeps.read_table(sweeps.table_path(tmp_path, SWEEP, "quick"))
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, table), sweeps.comparable(SWEEP, loky_run.table))


def test_cli_through_a_scheduler_file_gives_the_loky_table(loky_run, tmp_path):
    """The SLURM hand-over: scheduler and workers find each other, and the driver them, through one file."""
    scheduler_file = tmp_path / "scheduler.json"
    with _dask_services(
        tmp_path,
        ["--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(scheduler_file)],
        ["--scheduler-file", str(scheduler_file)],
        lambda timeout: sweeps.connect_file(scheduler_file, timeout=timeout),
    ) as (client, _):
        address = client.scheduler.address
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bnrates",
                "sweep",
                "acceleration",
                "--grid",
                "quick",
                "--scheduler-file",
                str(scheduler_file),
                "--out",
                str(tmp_path / "out"),
            ],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    assert f"{N_QUICK} tasks on Dask scheduler {address}" in done.stderr
    table = sweeps.read_table(sweeps.table_path(tmp_path / "out", SWEEP, "quick"))
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, table), sweeps.comparable(SWEEP, loky_run.table))
    assert table["worker"].nunique() == 2


def test_bad_scheduler_files_are_rejected_quickly(tmp_path):
    not_json = tmp_path / "not-json"
    not_json.write_text("tcp://127.0.0.1:8786\n")
    no_address = tmp_path / "no-address.json"
    no_address.write_text('{"type": "Scheduler"}')
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"type": "Scheduler", "address": f"tcp://127.0.0.1:{free}"}))
    for path, message in (
        (tmp_path / "missing.json", r"missing.json does not exist: start `dask scheduler --scheduler-file"),
        (tmp_path, r"cannot be read \(\[Errno 21\] Is a directory"),
        (not_json, r"is not a Dask scheduler file \(not JSON"),
        (no_address, r"is not a Dask scheduler file \(no scheduler address in it\)"),
    ):
        with pytest.raises(ValueError, match=message):
            sweeps.connect_file(path)
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=rf"no Dask scheduler answers at tcp://127.0.0.1:{free} \(from"):
        sweeps.connect_file(stale, timeout=1)
    assert time.monotonic() - start < 15
    out = tmp_path / "out"
    argv = ["sweep", "acceleration", "--scheduler-file", str(tmp_path / "missing.json"), "--out", str(out)]
    cli = subprocess.run(
        [sys.executable, "-m", "bnrates", *argv],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 64 and "missing.json does not exist" in cli.stderr, cli.stderr
    assert not out.exists()


def test_local_cluster_gives_the_loky_table(loky_run, tmp_path):
    from distributed import Client

    with sweeps.local_cluster(2) as cluster, Client(cluster, set_as_default=False) as client:
        run = sweeps.run_sweep(SWEEP, "quick", out=tmp_path, client=client)
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, run.table), sweeps.comparable(SWEEP, loky_run.table))


def test_the_sweep_survives_a_dead_worker(loky_run, dask_cluster, tmp_path):
    _, client, procs = dask_cluster
    result: dict[str, object] = {}
    runner = threading.Thread(
        target=lambda: result.update(run=sweeps.run_sweep(SWEEP, "quick", out=tmp_path, client=client))
    )
    runner.start()
    _wait(lambda: len(_stored(tmp_path)) >= 2, 120, "two finished tasks")
    assert len(_stored(tmp_path)) < N_QUICK, "the sweep finished before the worker could be killed"
    os.killpg(procs[-1].pid, signal.SIGKILL)
    runner.join(timeout=300)
    assert not runner.is_alive()
    pd.testing.assert_frame_equal(
        sweeps.comparable(SWEEP, result["run"].table), sweeps.comparable(SWEEP, loky_run.table)
    )


def test_sigkill_of_the_driver_then_resume(loky_run, tmp_path):
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bnrates",
            "sweep",
            "acceleration",
            "--grid",
            "quick",
            "--jobs",
            "1",
            "--out",
            str(tmp_path),
        ],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(lambda: len(_stored(tmp_path)) >= 3, 120, "three finished tasks")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    folder = sweeps.store_dir(tmp_path, SWEEP, "quick")
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")}
    assert 3 <= len(before) < N_QUICK
    assert not sweeps.table_path(tmp_path, SWEEP, "quick").exists()
    for p in folder.glob("*.json"):
        json.loads(p.read_text())  # every stored task is complete
    resumed = sweeps.run_sweep(SWEEP, "quick", out=tmp_path, n_jobs=2, resume=True)
    assert resumed.computed == N_QUICK - len(before)
    assert {name: (folder / name).stat().st_mtime_ns for name in before} == before  # none rewritten
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, resumed.table), sweeps.comparable(SWEEP, loky_run.table))
    again = sweeps.run_sweep(SWEEP, "quick", out=tmp_path, resume=True)
    assert again.computed == 0


def test_collect_and_resume_from_a_table_without_the_store(loky_run, tmp_path):
    partial = sweeps.collect(SWEEP, "quick", loky_run.path.parent)
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, partial), sweeps.comparable(SWEEP, loky_run.table))
    table = sweeps.table_path(tmp_path, SWEEP, "quick")
    sweeps.write_table(loky_run.table.iloc[::2], table)  # a partial table, no task store
    resumed = sweeps.run_sweep(
        SWEEP,
        "quick",
        out=tmp_path,
        n_jobs=1,
        resume=True,
        only=[sweeps.row_params(SWEEP, r) for r in loky_run.table.iloc[:4].to_dict("records")],
    )
    assert resumed.computed == 2  # rows 0 and 2 came from the table, 1 and 3 were computed
    pd.testing.assert_frame_equal(
        sweeps.comparable(SWEEP, resumed.table), sweeps.comparable(SWEEP, loky_run.table.iloc[:4])
    )


def test_a_task_gives_the_same_row_alone_in_another_order(loky_run):
    table = sweeps.comparable(SWEEP, loky_run.table)
    params = [sweeps.row_params(SWEEP, r) for r in loky_run.table.to_dict("records")]
    alone = sweeps.run_task("acceleration", params[7])
    row = pd.DataFrame([alone]).reindex(columns=[c for c in table.columns if not c.startswith("env_")])
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, row), table.iloc[[7]][row.columns].reset_index(drop=True))
    subset = [params[i] for i in (13, 2, 7)]
    reordered = sweeps.run_sweep(SWEEP, "quick", only=subset, n_jobs=1).table
    expected = table.iloc[[13, 2, 7]].reset_index(drop=True)
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, reordered), expected)


def test_each_row_records_its_workers_versions_and_a_mixed_cluster_is_reported(loky_run, tmp_path, capsys):
    from importlib.metadata import version

    row = sweeps.run_task("acceleration", sweeps.row_params(SWEEP, loky_run.table.iloc[0].to_dict()))
    assert row["env_numpy"] == np.__version__ and row["env_distributed"] == version("distributed")
    assert sweeps.mixed_environment(loky_run.table) == {}
    # a worker with another numpy: its stored rows keep their version, and the run says so
    grid = sweeps.run_sweep(SWEEP, "quick", out=tmp_path, n_jobs=1, only=[sweeps.row_params(SWEEP, row)])
    assert grid.computed == 1
    folder = sweeps.store_dir(tmp_path, SWEEP, "quick")
    (stored,) = folder.glob("*.json")
    record = json.loads(stored.read_text())
    assert record["env_numpy"] == np.__version__  # the store holds the worker's versions
    stored.write_text(json.dumps({**record, "env_numpy": "1.0.0"}))
    capsys.readouterr()
    two = [sweeps.row_params(SWEEP, r) for r in loky_run.table.iloc[:2].to_dict("records")]
    mixed = sweeps.run_sweep(SWEEP, "quick", out=tmp_path, n_jobs=1, resume=True, only=two).table
    assert sorted(mixed["env_numpy"]) == sorted(["1.0.0", np.__version__])
    assert sweeps.mixed_environment(mixed) == {"env_numpy": sorted(["1.0.0", np.__version__])}
    err = capsys.readouterr().err
    assert "mixes package versions" in err and f"numpy 1.0.0, {np.__version__}" in err


def test_seed_depends_on_the_seed_axes_only():
    p = {"d": 10, "kappa": 10.0, "separability": 0.3, "loss": "logistic", "seed": 0, "cap": 5, "method": "GD"}
    s = sweeps.task_seed(SWEEP, p)
    assert s == sweeps.task_seed(SWEEP, {**p, "method": "GDNP", "cap": 9})
    assert s == sweeps.task_seed(SWEEP, {**p, "d": np.int64(10), "kappa": np.float64(10.0)})
    others = {
        sweeps.task_seed(SWEEP, {**p, k: v})
        for k, v in (("d", 11), ("kappa", 11.0), ("separability", 0.31), ("loss", "smoothed_hinge"), ("seed", 1))
    }
    assert s not in others and len(others) == 5
    assert 0 <= s < 2**63
    # an independent derivation: SHA-256 of the same JSON, then SeedSequence; the separability axis
    # enters the key under its spelling when the seeds were fixed (acceleration.SEED_NAMES)
    import hashlib

    key = json.dumps(
        {"sweep": "acceleration", "d": 10, "kappa": 10.0, "snr": 0.3, "loss": "logistic", "seed": 0}, sort_keys=True
    ).encode()
    entropy = int.from_bytes(hashlib.sha256(key).digest(), "big")
    assert s == int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0]) // 2


def test_committed_table_keeps_its_seeds():
    """Every row of the committed full table carries the seed its parameters derive (so it can be re-run)."""
    table = sweeps.read_table(TABLE)
    assert len(table) == len(sweeps.tasks(SWEEP, sweeps.check_grid(SWEEP, "full")))
    derived = [sweeps.task_seed(SWEEP, sweeps.row_params(SWEEP, row)) for row in table.to_dict("records")]
    assert derived == table["task_seed"].tolist()
    assert sweeps.task_seed(SWEEP, {**sweeps.row_params(SWEEP, table.iloc[0].to_dict()), "seed": 1}) not in derived


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("huge", r"unknown grid 'huge'.*quick, full, large"),
        ({"d": (10,)}, r"no values for axis 'kappa'"),
        ({**SWEEP.grids["quick"], "depth": (3,)}, r"unknown axis 'depth'"),
        ({**SWEEP.grids["quick"], "method": ("GD", "Adam")}, r"axis 'method': unknown value 'Adam'.*'GD', 'AGD'"),
        ({**SWEEP.grids["quick"], "separability": (0.5, 1.0)}, r"axis 'separability': value 1.0 .*\(0, 1\)"),
        ({**SWEEP.grids["quick"], "d": (10, 10)}, r"axis 'd' repeats a value"),
        ({**SWEEP.grids["quick"], "kappa": ()}, r"axis 'kappa' has no values"),
    ],
)
def test_bad_grids_are_rejected_before_any_task(grid, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        sweeps.run_sweep(SWEEP, grid, out=tmp_path)
    assert not any(tmp_path.iterdir())


def test_bad_scheduler_and_jobs_are_rejected_quickly(tmp_path):
    with pytest.raises(ValueError, match=r"tcp://HOST:PORT"):
        sweeps.connect("127.0.0.1:8786")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=rf"no Dask scheduler answers at tcp://127.0.0.1:{free} within 1 s"):
        sweeps.connect(f"tcp://127.0.0.1:{free}", timeout=1)
    assert time.monotonic() - start < 15
    for bad in (0, -1, sweeps.MAX_LOCAL_WORKERS + 1, 2.0, True):
        with pytest.raises(ValueError, match=r"--jobs must be a number of worker processes in \[1, 64\]"):
            sweeps.run_sweep(SWEEP, "quick", out=tmp_path, n_jobs=bad)
    with pytest.raises(ValueError, match=r"--local-cluster must be a number of worker processes in \[1, 64\]"):
        sweeps.local_cluster(0)
    with pytest.raises(ValueError, match=r"unknown sweep 'nope'"):
        sweeps.get_sweep("nope")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "bnrates",
            "sweep",
            "acceleration",
            "--grid",
            "quick",
            "--scheduler",
            "tcp://127.0.0.1:notaport",
            "--out",
            str(tmp_path),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 64 and "--scheduler must be tcp://HOST:PORT" in cli.stderr
    assert not any(tmp_path.iterdir())
    a_file = tmp_path.parent / f"{tmp_path.name}-a-file"
    a_file.write_text("")
    for argv, message in (
        (["--jobs", "65"], "--jobs must be a number of worker processes in [1, 64], got 65"),
        (["--local-cluster", "0"], "--local-cluster must be a number of worker processes in [1, 64]"),
        (["--out", str(a_file)], "--out must be a folder"),
    ):
        out = [] if "--out" in argv else ["--out", str(tmp_path)]
        cli = subprocess.run(
            [sys.executable, "-m", "bnrates", "sweep", "acceleration", "--grid", "quick", *argv, *out],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 64 and message in cli.stderr, cli.stderr
    assert not any(tmp_path.iterdir())


def test_progress_log_writes_done_rate_and_eta_every_interval():
    now = [100.0]
    out = io.StringIO()
    log = sweeps.ProgressLog("acceleration/full", 10, 2, 5.0, stream=out, clock=lambda: now[0])
    log.update()  # no time has passed: no line
    now[0] = 105.0
    log.update()  # 2 tasks computed in 5 s, 6 left
    now[0] = 107.0
    log.update()  # only 2 s since the last line
    assert out.getvalue().splitlines() == ["acceleration/full: 4/10 tasks (40%), 0.4 tasks/s, elapsed 0:05, ETA 0:15"]
    now[0] = 3700.0
    log.update()
    log.update(2)  # at once: a line only if 5 s have passed since the last one
    log.close()  # the final line, always
    assert out.getvalue().splitlines()[1:] == [
        "acceleration/full: 6/10 tasks (60%), 0.00111 tasks/s, elapsed 1:00:00, ETA 1:00:00",
        "acceleration/full: 8/10 tasks (80%), 0.00167 tasks/s, elapsed 1:00:00, ETA 20:00",
    ]
    with pytest.raises(ValueError, match=r"--progress-every must be a positive number of seconds, got 0"):
        sweeps.run_sweep(SWEEP, "quick", progress_every=0)


def test_off_a_terminal_the_cli_prints_progress_and_the_dashboard(loky_run, tmp_path):
    """stderr to a file, as in a batch job: periodic progress lines, and the local cluster's dashboard."""
    log = tmp_path / "sweep.log"
    with log.open("w") as stderr:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bnrates",
                "sweep",
                "acceleration",
                "--grid",
                "quick",
                "--local-cluster",
                "2",
                "--progress-every",
                "0.2",
                "--out",
                str(tmp_path),
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=300,
        )
    lines = log.read_text().splitlines()
    assert done.returncode == 0, lines
    assert any(line.startswith("Dask dashboard: http://") and line.endswith("/status") for line in lines), lines
    progress = [line for line in lines if line.startswith("acceleration/quick: ")]
    assert len(progress) >= 2, lines  # at least one periodic line before the final one
    assert progress[-1].startswith(f"acceleration/quick: {N_QUICK}/{N_QUICK} tasks (100%), ")
    assert all(" tasks/s, elapsed " in line and ", ETA " in line for line in progress)
    table = sweeps.read_table(sweeps.table_path(tmp_path, SWEEP, "quick"))
    pd.testing.assert_frame_equal(sweeps.comparable(SWEEP, table), sweeps.comparable(SWEEP, loky_run.table))


def test_optimal_length_matches_the_logistic_closed_form():
    problem = halfspace_instances(6, 10.0, 0.7, [3])
    assert abs(optimal_length(problem)[0] - 2 * np.sqrt(0.7) / 0.3) < 1e-9
