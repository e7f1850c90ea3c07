"""Executing chapters: their parameters (checked before anything runs), the kernel's environment, papermill.

Each chapter (a MyST Markdown text notebook) is read with jupytext and executed by papermill
with its parameters, a per-cell timeout, kernel ``python3`` and the inline figure backend. A
failing cell raises :class:`~bnrates.book.toc.BookError` with the chapter, the cell and the
traceback. :func:`execute_runs` executes several chapters at once, each in its own kernel.
"""

from __future__ import annotations

import ast
import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import papermill

from . import edition
from .cache import chapter_inputs, record_results
from .parameters import Declaration, ParameterError, declarations
from .toc import BookError, Chapter

KERNEL_ENV = {
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
    # The chapters run many small linear-algebra calls: extra BLAS threads only contend (5x
    # slower on two busy cores, measured), and one thread makes results bit-reproducible.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


ANSI = re.compile(r"\x1b\[[0-9;]*m")


PIPELINE_PARAMETERS = ("profile", "results_dir")
"""Chapter parameters the pipeline sets itself: ``-p`` may not override them."""


MODULES_MARKER = "BNRATES-MODULES "


TRACKER_SOURCE = (
    "import json as _json, sys as _sys\n"
    f"print({MODULES_MARKER!r} + _json.dumps(sorted("
    "{m.__file__ for n, m in list(_sys.modules.items()) "
    "if n.split('.')[0] == 'bnrates' and getattr(m, '__file__', None)})))"
)
"""A last cell appended before execution: it prints the ``bnrates`` files the kernel imported."""


def _parameters_source(nb: nbformat.NotebookNode) -> str:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise BookError(f"a chapter needs exactly one cell tagged 'parameters', found {len(cells)}")
    return cells[0].source


def parameter_declarations(chapter: Chapter, root: Path) -> dict[str, Declaration]:
    """The declared parameters of a chapter's cell tagged ``parameters`` (see :mod:`bnrates.book.parameters`)."""
    try:
        return declarations(_parameters_source(jupytext.read(root / chapter.path)))
    except (ParameterError, SyntaxError, ValueError) as err:
        raise BookError(f"chapter {chapter.name!r} ({chapter.path}): parameters cell: {err}") from None


def parse_value(text: str) -> object:
    """A command-line value: a Python literal (``3``, ``0.5``, ``[1, 2]``) or else a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def check_overrides(
    chapters: Sequence[Chapter], root: Path, items: Sequence[Sequence[str]]
) -> dict[str, dict[str, object]]:
    """Validate ``-p CHAPTER NAME VALUE`` triples against the chapters' declared parameters.

    Every executable chapter's parameters must be declared; each value must lie in its
    declared range. Nothing is executed before all of this holds.
    """
    declared = {c.name: parameter_declarations(c, root) for c in chapters if c.notebook}
    overrides: dict[str, dict[str, object]] = {}
    for chapter, name, text in items:
        if chapter not in declared:
            raise BookError(f"-p: unknown chapter {chapter!r}; executable chapters: {', '.join(declared)}")
        if name not in declared[chapter]:
            raise BookError(
                f"-p: chapter {chapter!r} has no parameter {name!r}; its parameters: {', '.join(declared[chapter])}"
            )
        if name in PIPELINE_PARAMETERS:
            raise BookError(f"-p: {name!r} is set by the pipeline (the profile with --profile)")
        declaration = declared[chapter][name]
        try:
            value = declaration.check(parse_value(text))
        except ParameterError:
            raise BookError(
                f"-p: parameter {name!r} of chapter {chapter!r} must be {declaration.describe()} "
                f"({declaration.note}), got {text!r}"
            ) from None
        if isinstance(declaration.default, float) and isinstance(value, int | float):
            value = float(value)
        overrides.setdefault(chapter, {})[name] = value
    return overrides


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Set the kernel's environment (inline figures, fixed hash seed) and restore it after."""
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_chapter(
    chapter: Chapter, root: Path, parameters: dict[str, object], cwd: Path, timeout: int
) -> tuple[nbformat.NotebookNode, list[str]]:
    """Execute one chapter with papermill; a failing cell raises :class:`BookError` naming it.

    Returns
    -------
    notebook
        The executed notebook (without the module-tracking cell).
    modules
        Files of every ``bnrates`` module the kernel imported.
    """
    nb = jupytext.read(root / chapter.path)
    nb.cells.append(nbformat.v4.new_code_cell(TRACKER_SOURCE, metadata={"tags": ["remove-cell"]}))
    try:
        executed = papermill.execute_notebook(
            nb,
            None,
            parameters=parameters,
            kernel_name="python3",
            execution_timeout=timeout,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except papermill.PapermillExecutionError as err:
        trace = ANSI.sub("", "\n".join(err.traceback))
        raise BookError(
            f"chapter {chapter.name!r} ({chapter.path}) failed in cell {err.cell_index} "
            f"(execution count {err.exec_count}):\n{err.source}\n\n{trace}"
        ) from None
    except Exception as err:  # a timeout or a dead kernel: name the chapter all the same
        raise BookError(f"chapter {chapter.name!r} ({chapter.path}) failed: {type(err).__name__}: {err}") from None
    # papermill records the notebook object it was given as its "input path": the whole chapter,
    # solutions included, a second time in every executed notebook and in each page's download
    executed.metadata.papermill["input_path"] = chapter.path.as_posix()
    tracker = executed.cells.pop()
    text = "".join(o.get("text", "") for o in tracker.get("outputs", []) if o.get("name") == "stdout")
    line = next(ln for ln in text.splitlines() if ln.startswith(MODULES_MARKER))
    return executed, json.loads(line[len(MODULES_MARKER) :])


@dataclass(frozen=True)
class Run:
    """A chapter to execute in this build: its place in the table of contents, parameters, why, where to."""

    index: int
    chapter: Chapter
    parameters: dict[str, object]
    reason: str
    target: Path


def check_jobs(jobs: int) -> None:
    """Raise :class:`BookError` unless ``jobs`` is a whole number of at least 1."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise BookError(f"--jobs must be a whole number of chapters run at once, at least 1; got {jobs!r}")


def _execute_timed(
    chapter: Chapter, root: Path, parameters: dict[str, object], timeout: int
) -> tuple[str, list[str], float]:
    """:func:`execute_chapter` and its wall time; the notebook as JSON text (it crosses processes)."""
    start = time.perf_counter()
    nb, modules = execute_chapter(chapter, root, parameters, root / chapter.path.parent, timeout)
    return nbformat.writes(nb), modules, time.perf_counter() - start


def execute_runs(
    runs: Sequence[Run], root: Path, results: Path, jobs: int, timeout: int, total: int, log
) -> dict[str, float]:
    """Execute ``runs``, up to ``jobs`` at a time, and write each executed notebook to its target.

    Each executed notebook must pass its exercise checks (:func:`bnrates.book.edition.require_correct`)
    and is tied to the results folder it wrote under ``results`` (:func:`record_results`).

    Each chapter runs in its own kernel either way; with ``jobs > 1`` each is driven from a
    worker process (started fresh, with the kernel environment of this one). A progress line is
    logged as each chapter finishes. The notebook written is the same whatever ``jobs`` is: every
    chapter's seed comes from its parameters, and its record of inputs from its own kernel.

    Returns
    -------
    dict
        Execution seconds (rounded to 0.01) of every chapter, in the order of ``runs``.

    Raises
    ------
    BookError
        If a chapter failed, naming it (and every other chapter that failed). Chapters already
        running are finished first; those not yet started are not started. (The build then
        commits nothing: :func:`build`.)
    """
    done: dict[str, float] = {}

    def finish(run: Run, text: str, modules: list[str], seconds: float) -> None:
        nb = nbformat.reads(text, as_version=4)
        try:
            edition.require_correct(nb, run.chapter.name)
        except edition.EditionError as err:
            raise BookError(str(err)) from None
        nb.metadata["bnrates"] = {
            "inputs": chapter_inputs(root, run.chapter, run.parameters, modules),
            "seconds": round(seconds, 2),
        }
        record_results(nb, results / run.chapter.name)
        nbformat.write(nb, run.target)
        done[run.chapter.name] = round(seconds, 2)
        log(f"[{run.index}/{total}] {run.chapter.name:<24} executed in {seconds:6.1f} s ({run.reason})")

    if jobs == 1 or len(runs) <= 1:
        for run in runs:
            finish(run, *_execute_timed(run.chapter, root, run.parameters, timeout))
        return done
    failures: dict[int, BookError] = {}
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=min(jobs, len(runs)), mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        futures = {pool.submit(_execute_timed, run.chapter, root, run.parameters, timeout): run for run in runs}
        for future in concurrent.futures.as_completed(futures):
            run = futures[future]
            if future.cancelled():
                continue
            try:
                finish(run, *future.result())
            except BookError as err:
                failures[run.index] = err
                for pending in futures:
                    pending.cancel()  # only those not yet started
    if failures:
        first, *also = (failures[k] for k in sorted(failures))
        raise BookError(str(first) + "".join(f"\n\nalso failed: {err}" for err in also)) from None
    return {run.chapter.name: done[run.chapter.name] for run in runs}
