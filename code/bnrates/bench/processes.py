"""Running a command while sampling the peak memory (RSS) of it and every process it starts."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..book.execute import KERNEL_ENV

SAMPLE_INTERVAL = 0.1
"""Seconds between two samples of the peak RSS of a build's processes."""


def _env() -> dict[str, str]:
    """The environment of the build subprocesses: ours plus the kernel's (one BLAS thread)."""
    return {**os.environ, **KERNEL_ENV}


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
        fields = text[text.rindex(")") + 2 :].split()
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
        self.procs: dict[int, dict[str, Any]] = {}
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


def run_monitored(command: Sequence[str], cwd: Path | None = None) -> dict[str, Any]:
    """Run ``command``; return its output, wall time and the sampled peak RSS of it and its descendants.

    Returns
    -------
    dict
        ``returncode``, ``stdout``, ``stderr``, ``seconds``, ``process_peak_bytes`` (the command's
        own process) and ``kernels``: the peak bytes of each Jupyter kernel it started, in order
        of their start.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(command), cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    monitor = _Monitor(proc.pid)
    monitor.start()
    try:
        stdout, stderr = proc.communicate()
    finally:
        monitor.stop()
    seconds = time.perf_counter() - start
    kernels = sorted(
        (rec for pid, rec in monitor.procs.items() if "ipykernel" in str(rec["cmd"])), key=lambda rec: int(rec["start"])
    )
    own = monitor.procs.get(proc.pid, {"peak_kb": 0})
    return {
        "returncode": proc.returncode,
        "stdout": stdout,
        "stderr": stderr,
        "seconds": seconds,
        "process_peak_bytes": int(own["peak_kb"]) * 1024,
        "kernels": [int(rec["peak_kb"]) * 1024 for rec in kernels],
    }


def _check(run: dict[str, Any], what: str) -> None:
    if run["returncode"] != 0:
        raise RuntimeError(
            f"{what} failed (exit {run['returncode']}):\n{str(run['stdout'])[-4000:]}\n{str(run['stderr'])[-4000:]}"
        )
