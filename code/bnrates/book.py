"""The book pipeline: execute every chapter with papermill, then render with Jupyter Book.

``python -m bnrates.book build [--profile quick|full] [--chapter NAME ...] [-p CHAPTER NAME VALUE ...]``

1. Every argument is checked against the table of contents and each chapter's ``parameters``
   cell before anything runs.
2. Each chapter (a MyST Markdown text notebook) is read with jupytext and executed by
   papermill with its parameters, a per-cell timeout, kernel ``python3`` and the inline
   figure backend. A failing cell stops the build with the chapter, the cell and the traceback.
   A chapter whose inputs (source, parameters, pinned packages, the ``bnrates`` files it
   imported) are unchanged since its last execution is not executed again. ``--jobs N``
   chapters run at the same time (default: the number of cores); the aggregate chapters (errata,
   report) after the others. Readers see each executed notebook through
   :func:`bnrates.pages.present` (one parameters cell, no ``glue`` bookkeeping).
3. The executed notebooks are rendered by Jupyter Book from a staging copy of the book, with
   execution off and warnings as errors.
4. Only then are the results (``_build/results/<profile>``), the cache records and the HTML
   committed, together (:mod:`bnrates.transaction`): a failed or killed build leaves all three
   as they were, and the next build repairs what a killed one left. One build at a time.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import copy
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import papermill
import yaml

from . import edition, provenance, transaction
from .claims.core import PROFILES, check_profile
from .pages import present
from .parameters import Declaration, ParameterError, declarations

BOOK_FILES = ("_config.yml", "_toc.yml", "references.bib")
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


class BookError(Exception):
    """A build problem with a message meant for the reader of the terminal."""


@dataclass(frozen=True)
class Chapter:
    """One page of the table of contents.

    Attributes
    ----------
    name
        File stem, used on the command line (``ols``).
    path
        Source file relative to the book root (``chapters/ols.md``).
    notebook
        Whether it is an executable text notebook (it has a kernelspec).
    aggregate
        It summarises the other chapters (front matter ``bnrates: {aggregate: true}``) and is
        re-executed whenever any other chapter is.
    reads
        Files or folders (relative to the book root) whose content the chapter reads (front
        matter ``bnrates: {reads: [data/benchmarks]}``): part of its inputs.
    """

    name: str
    path: Path
    notebook: bool
    aggregate: bool = False
    reads: tuple[str, ...] = ()


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds ``_toc.yml``."""
    for folder in (start, *start.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise BookError(f"no _toc.yml found in {start} or any parent: run from inside the book")


def _toc_files(node: object) -> Iterator[str]:
    """Every ``root``/``file`` entry of a ``_toc.yml`` tree, in reading order."""
    if isinstance(node, list):
        for item in node:
            yield from _toc_files(item)
    elif isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                yield str(node[key])
        for key in ("parts", "chapters", "sections"):
            yield from _toc_files(node.get(key, []))


def read_toc(root: Path) -> list[Chapter]:
    """Every page listed in ``_toc.yml``, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    chapters = []
    for entry in _toc_files(toc):
        path = Path(entry).with_suffix(".md")
        if not (root / path).is_file():
            raise BookError(f"_toc.yml lists {entry!r} but {path} does not exist")
        metadata = jupytext.read(root / path).metadata
        options = metadata.get("bnrates", {})
        chapters.append(Chapter(path.stem, path, "kernelspec" in metadata, bool(options.get("aggregate", False)),
                                tuple(options.get("reads", ()))))
    return chapters


def _parameters_source(nb: nbformat.NotebookNode) -> str:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise BookError(f"a chapter needs exactly one cell tagged 'parameters', found {len(cells)}")
    return cells[0].source


def parameter_declarations(chapter: Chapter, root: Path) -> dict[str, Declaration]:
    """The declared parameters of a chapter's cell tagged ``parameters`` (see :mod:`bnrates.parameters`)."""
    try:
        return declarations(_parameters_source(jupytext.read(root / chapter.path)))
    except (ParameterError, SyntaxError, ValueError) as err:
        raise BookError(f"chapter {chapter.name!r} ({chapter.path}): parameters cell: {err}") from None


def parameters_cell(nb: nbformat.NotebookNode) -> dict[str, object]:
    """The defaults in the cell tagged ``parameters``: ``{name: value}`` (literals only)."""
    defaults: dict[str, object] = {}
    for node in ast.parse(_parameters_source(nb)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            defaults[node.targets[0].id] = ast.literal_eval(node.value)
    return defaults


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
            raise BookError(f"-p: parameter {name!r} of chapter {chapter!r} must be {declaration.describe()} "
                            f"({declaration.note}), got {text!r}") from None
        if isinstance(declaration.default, float):
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
    tracker = executed.cells.pop()
    text = "".join(o.get("text", "") for o in tracker.get("outputs", []) if o.get("name") == "stdout")
    line = next(ln for ln in text.splitlines() if ln.startswith(MODULES_MARKER))
    return executed, json.loads(line[len(MODULES_MARKER):])


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _path_digest(path: Path) -> str | None:
    """Digest of a file or of a whole folder, ``None`` if it does not exist."""
    if path.is_dir():
        return tree_digest(path)
    return _digest(path.read_bytes()) if path.is_file() else None


def chapter_inputs(root: Path, chapter: Chapter, parameters: dict[str, object], modules: list[str]) -> dict:
    """What a chapter's executed notebook depends on, as content hashes.

    ``source`` (the chapter file), ``parameters`` (profile and overrides), ``environment`` (the
    pinned package set, which also fixes the datasets packages ship), ``data`` (the files the
    chapter declares it reads) and one hash per imported ``bnrates`` module file (``None`` if
    the file no longer exists).
    """
    constraints = root / "code" / "constraints.txt"
    return {
        "source": _digest((root / chapter.path).read_bytes()),
        "parameters": _digest(json.dumps(parameters, sort_keys=True, default=str).encode()),
        "environment": _digest(constraints.read_bytes()) if constraints.is_file() else None,
        "data": _digest(json.dumps({r: _path_digest(root / r) for r in chapter.reads}).encode()),
        "modules": {m: _digest(Path(m).read_bytes()) if Path(m).is_file() else None for m in sorted(modules)},
    }


def stale_reason(
    root: Path, chapter: Chapter, parameters: dict[str, object], cached: Path, results: Path | None = None
) -> str | None:
    """Why the cached notebook of ``chapter`` is out of date, or ``None`` if it is current.

    An unreadable or malformed cache record is out of date (never an error). With ``results``
    (the committed results root), the chapter's results folder must be the one its record names
    and match its manifest: a missing or damaged file makes the chapter stale.
    """
    if not cached.is_file():
        return "not executed before"
    try:
        record = nbformat.read(cached, as_version=4).metadata.get("bnrates", {})
        recorded = record.get("inputs")
        if not recorded:
            return "no record of its inputs"
        now = chapter_inputs(root, chapter, parameters, list(recorded["modules"]))
        float(record["seconds"])
    except Exception as err:  # a truncated notebook or a record of the wrong shape: execute it again
        return f"cache record unreadable ({type(err).__name__})"
    for key in ("source", "parameters", "environment", "data"):
        if now[key] != recorded.get(key):
            return f"{key} changed"
    changed = [Path(m).name for m, h in now["modules"].items() if h != recorded["modules"][m]]
    if changed:
        return f"code changed: {', '.join(changed)}"
    if results is not None and record.get("results") is not None:
        folder = results / chapter.name
        problems = provenance.manifest_problems(folder)
        if problems:
            return f"results damaged: {problems[0]}"
        if provenance.manifest_digest(folder) != record["results"]:
            return "results come from another build"
    return None


SITE_EXTENSIONS = ("sphinx_sitemap", "sphinxext.opengraph")
"""Sphinx extensions that only make sense for a book with a public address (``html.baseurl``)."""


def site_config(config: dict) -> dict:
    """The Jupyter Book configuration, with a sitemap and OpenGraph metadata if ``html.baseurl`` is set.

    Parameters
    ----------
    config : dict
        The parsed ``_config.yml`` (not changed).

    Returns
    -------
    dict
        A deep copy; when ``html.baseurl`` is set, with :data:`SITE_EXTENSIONS` added to
        ``sphinx.extra_extensions``, OpenGraph's ``ogp_site_url`` set to the base URL (and its site
        name to the book's title) and the
        sitemap's URL scheme ``{link}`` (the pages' paths carry no language or version).
    """
    config = copy.deepcopy(config)
    baseurl = (config.get("html") or {}).get("baseurl") or ""
    if baseurl:
        sphinx = config.setdefault("sphinx", {})
        extensions = sphinx.setdefault("extra_extensions", [])
        extensions += [e for e in SITE_EXTENSIONS if e not in extensions]
        options = sphinx.setdefault("config", {})
        options.setdefault("ogp_site_url", baseurl.rstrip("/") + "/")
        options.setdefault("ogp_site_name", config.get("title", ""))
        options.setdefault("sitemap_url_scheme", "{link}")
    return config


def stage_sources(root: Path, stage: Path, chapters: Sequence[Chapter], solutions: bool = True) -> None:
    """Copy the book's files, the plain pages, ``_static`` and the module sources into ``stage``.

    The staged ``_config.yml`` gets a sitemap and OpenGraph metadata when ``html.baseurl`` is set
    (:func:`site_config`).

    With ``solutions=False`` the staged ``_config.yml`` sets sphinx-exercise's
    ``hide_solutions``: a student edition with the exercises but without their solutions.
    """
    for name in BOOK_FILES:
        shutil.copy2(root / name, stage / name)
    config = site_config(yaml.safe_load((stage / "_config.yml").read_text()))
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["bnrates_executed"] = True  # the pages are rendered from executed notebooks (bnrates.sphinxext)
    if not solutions:
        sphinx_config["hide_solutions"] = True
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    for chapter in chapters:
        if not chapter.notebook:
            (stage / chapter.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / chapter.path, stage / chapter.path)
    shutil.copytree(root / "code" / "bnrates", stage / "code" / "bnrates",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if (root / "_static").is_dir():  # the book's own CSS
        shutil.copytree(root / "_static", stage / "_static")


def render(stage: Path, out: Path, builder: str = "html") -> Path:
    """Run Jupyter Book on ``stage`` with warnings as errors; return its output folder.

    ``builder`` is ``html`` (the folder of the site) or ``pdflatex`` (the folder holding the PDF).
    """
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(stage), "--builder", builder,
               "--path-output", str(out), "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BookError(f"Jupyter Book ({builder}) failed to render the book:\n"
                        f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return out / "_build" / ("html" if builder == "html" else "latex")


RENDER_STAMP = ".bnrates-render"
"""File in a rendered edition holding the digest of the staged sources it was rendered from."""


def tree_digest(folder: Path) -> str:
    """Content hash of every file below ``folder`` (names and bytes, in sorted order)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def results_root(root: Path, profile: str) -> Path:
    """Where a build's committed results are: ``_build/results/<profile>`` (``make results`` exports them)."""
    return root / "_build" / "results" / profile


def write_execution_log(path: Path, profile: str, timings: dict[str, dict[str, object]]) -> None:
    """Per-chapter execution times of the latest build, written atomically (temporary file, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"profile": profile, "chapters": timings}, indent=1) + "\n")
    tmp.replace(path)


def stage_results(committed: Path, staged: Path) -> None:
    """Start the build's results from the committed ones (chapters that do not run keep theirs)."""
    if committed.is_dir():
        shutil.copytree(committed, staged, ignore=shutil.ignore_patterns(".*"))
    else:
        staged.mkdir(parents=True)


def record_results(nb: nbformat.NotebookNode, folder: Path) -> None:
    """Tie an executed notebook to the results folder it wrote (the digest of its manifest)."""
    nb.metadata["bnrates"]["results"] = provenance.manifest_digest(folder)


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


def _execute_timed(chapter: Chapter, root: Path, parameters: dict[str, object],
                   timeout: int) -> tuple[str, list[str], float]:
    """:func:`execute_chapter` and its wall time; the notebook as JSON text (it crosses processes)."""
    start = time.perf_counter()
    nb, modules = execute_chapter(chapter, root, parameters, root / chapter.path.parent, timeout)
    return nbformat.writes(nb), modules, time.perf_counter() - start


def execute_runs(runs: Sequence[Run], root: Path, results: Path, jobs: int, timeout: int, total: int,
                 log) -> dict[str, float]:
    """Execute ``runs``, up to ``jobs`` at a time, and write each executed notebook to its target.

    Each executed notebook must pass its exercise checks (:func:`bnrates.edition.require_correct`)
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
        nb.metadata["bnrates"] = {"inputs": chapter_inputs(root, run.chapter, run.parameters, modules),
                                  "seconds": round(seconds, 2)}
        record_results(nb, results / run.chapter.name)
        nbformat.write(nb, run.target)
        done[run.chapter.name] = round(seconds, 2)
        log(f"[{run.index}/{total}] {run.chapter.name:<24} executed in {seconds:6.1f} s ({run.reason})")

    if jobs == 1 or len(runs) <= 1:
        for run in runs:
            finish(run, *_execute_timed(run.chapter, root, run.parameters, timeout))
        return done
    failures: dict[int, BookError] = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(runs)),
                                                mp_context=multiprocessing.get_context("spawn")) as pool:
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


def build(
    root: Path,
    profile: str,
    only: Sequence[str] = (),
    overrides: Sequence[Sequence[str]] = (),
    timeout: int = 600,
    force: bool = False,
    solutions: bool = True,
    pdf: bool = False,
    log=print,
    jobs: int = 1,
) -> Path:
    """Execute what is out of date, render the book, and return the path of the HTML title page.

    A chapter is re-executed when its source, its parameters, the pinned package set or any
    ``bnrates`` module it imported changed since its last execution in this profile (content
    hashes recorded in ``_build/executed/<profile>/<chapter>.ipynb``), when its results folder
    is missing, damaged or from another build, when it is named in ``only``, or with ``force``.
    Aggregate chapters re-run whenever another chapter did.

    One build at a time (a lock); everything is staged in ``_build/.stage`` and the results,
    cache records and HTML are committed together after a successful render
    (:mod:`bnrates.transaction`); what a killed build left is repaired first.
    ``solutions=False`` renders the student edition into ``_build/html-student`` instead;
    ``pdf=True`` also renders the whole book as ``_build/pdf/book.pdf`` (needs LaTeX).
    ``jobs`` chapters are executed at the same time (see :func:`execute_runs`).
    """
    check_profile(profile)
    check_jobs(jobs)
    chapters = read_toc(root)
    notebooks = [c for c in chapters if c.notebook]
    unknown = set(only) - {c.name for c in notebooks}
    if unknown:
        raise BookError(f"--chapter: unknown chapter(s) {', '.join(sorted(unknown))}; "
                        f"executable chapters: {', '.join(c.name for c in notebooks)}")
    params = check_overrides(chapters, root, overrides)

    build_dir = root / "_build"
    edition_dir = build_dir / ("html" if solutions else "html-student")
    results = results_root(root, profile)
    executed = build_dir / "executed" / profile
    with transaction.build_lock(build_dir, log):
        transaction.recover(build_dir, [results, executed, edition_dir, build_dir / "pdf"], log)
        stage = build_dir / transaction.STAGE
        try:
            pairs = _build_in_stage(root, stage, chapters, notebooks, profile, only, params, timeout, force,
                                    solutions, pdf, log, jobs)
            transaction.commit(stage, pairs)
        finally:
            if not (stage / transaction.JOURNAL).exists():
                shutil.rmtree(stage, ignore_errors=True)
    return edition_dir / "index.html"


def _build_in_stage(
    root: Path, stage: Path, chapters: Sequence[Chapter], notebooks: Sequence[Chapter], profile: str,
    only: Sequence[str], params: dict[str, dict[str, object]], timeout: int, force: bool, solutions: bool,
    pdf: bool, log, jobs: int = 1,
) -> list[tuple[Path, Path]]:
    """Execute and render into ``stage``; return the ``(staged, final)`` folders to commit."""
    build_dir = root / "_build"
    results = results_root(root, profile)
    executed = build_dir / "executed" / profile
    src = stage / "src"
    (src / "chapters").mkdir(parents=True)
    stage_sources(root, src, chapters, solutions)
    staged_results, staged_executed = stage / "results", stage / "executed"
    stage_results(results, staged_results)
    staged_executed.mkdir()
    log_file = staged_results / "execution.json"
    timings: dict[str, dict[str, object]] = {}
    ran_any = False
    queued: list[Run] = []

    def run_queued() -> None:
        for name, seconds in execute_runs(queued, root, staged_results, jobs, timeout, len(notebooks), log).items():
            timings[name] = {"seconds": seconds, "executed_in_this_build": True}
        queued.clear()

    with kernel_environment():
        for i, chapter in enumerate(notebooks, 1):
            target = src / chapter.path.with_suffix(".ipynb")
            target.parent.mkdir(parents=True, exist_ok=True)
            parameters = {"profile": profile, "results_dir": os.path.relpath(staged_results, root / "chapters"),
                          **params.get(chapter.name, {})}
            cached = executed / f"{chapter.name}.ipynb"
            reason = ("forced" if force or chapter.name in only
                      else "another chapter ran" if chapter.aggregate and ran_any
                      else stale_reason(root, chapter, parameters, cached, results))
            if chapter.aggregate:  # after every other chapter before it, and alone
                run_queued()
                write_execution_log(log_file, profile, timings)
            if reason is None:
                shutil.copy2(cached, target)
                seconds = nbformat.read(cached, as_version=4).metadata["bnrates"]["seconds"]
                timings[chapter.name] = {"seconds": seconds, "executed_in_this_build": False}
                log(f"[{i}/{len(notebooks)}] {chapter.name:<24} up to date")
                continue
            shutil.rmtree(staged_results / chapter.name, ignore_errors=True)
            timings[chapter.name] = {}  # its place in reading order, whichever chapter finishes first
            queued.append(Run(i, chapter, parameters, reason, target))
            ran_any = True
            if chapter.aggregate:
                run_queued()
        run_queued()
    write_execution_log(log_file, profile, timings)
    for chapter in notebooks:  # the cache keeps the teacher's notebooks, whatever the edition
        shutil.copy2(src / chapter.path.with_suffix(".ipynb"), staged_executed / f"{chapter.name}.ipynb")
    if not solutions:
        start = time.perf_counter()
        for chapter in notebooks:
            student_edition(src / chapter.path.with_suffix(".ipynb"), root / chapter.path.parent, timeout)
        log(f"student edition: solutions removed, exercise stubs run in {time.perf_counter() - start:.1f} s")
    for chapter in notebooks:  # what readers see: one parameters cell, no glue bookkeeping
        staged = src / chapter.path.with_suffix(".ipynb")
        nbformat.write(present(nbformat.read(staged, as_version=4)), staged)
    edition_dir = build_dir / ("html" if solutions else "html-student")
    digest = tree_digest(src)
    stamp = edition_dir / RENDER_STAMP
    pairs = [(staged_results, results), (staged_executed, executed)]
    if stamp.is_file() and stamp.read_text() == digest and not pdf:
        log(f"HTML up to date ({edition_dir.relative_to(root)} was rendered from identical sources)")
    else:
        start = time.perf_counter()
        html = render(src, stage / "out")
        (html / RENDER_STAMP).write_text(digest)
        pairs.append((html, edition_dir))
        log(f"rendered with Jupyter Book in {time.perf_counter() - start:.1f} s")
    if pdf:
        start = time.perf_counter()
        latex = render(src, stage / "pdf", builder="pdflatex")
        pdfs = sorted(latex.glob("*.pdf"))
        if len(pdfs) != 1:
            raise BookError(f"expected one PDF from LaTeX in {latex}, found {len(pdfs)}")
        (stage / "book-pdf").mkdir()
        shutil.copy2(pdfs[0], stage / "book-pdf" / "book.pdf")
        pairs.append((stage / "book-pdf", build_dir / "pdf"))
        log(f"rendered the PDF in {time.perf_counter() - start:.1f} s: {build_dir / 'pdf' / 'book.pdf'}")
    return pairs


def publish_results(root: Path, timeout: int = 600, log=print) -> list[str]:
    """``make results``: rebuild the full profile from a clean work tree and export it to ``data/results``.

    Refuses unless the book is a git work tree without changes to tracked files, so every
    committed claims file names the real commit it was computed from. Every chapter is
    executed (``force``); the volatile fields stay out (:func:`bnrates.provenance.export_results`).
    """
    state = provenance.commit(root)
    if state == "unknown" or state.endswith("+dirty"):
        raise BookError(f"make results refreshes the committed data/results, which must name a real commit, "
                        f"but {root} is {'not a git work tree' if state == 'unknown' else 'modified (git status)'}: "
                        "commit or stash your changes first")
    build(root, "full", timeout=timeout, force=True, log=log)
    with transaction.build_lock(root / "_build", log):
        try:
            return provenance.export_results(results_root(root, "full"), root / "data" / "results")
        except ValueError as err:
            raise BookError(f"make results: {err}") from None


def student_edition(notebook: Path, cwd: Path, timeout: int) -> None:
    """Turn an executed chapter into its student version in place (see :mod:`bnrates.edition`).

    Solutions are removed and the stubbed exercise cells are run again, so each check says
    "not done yet"; a stub cell that fails stops the build.
    """
    nb = nbformat.read(notebook, as_version=4)
    try:
        student = edition.run_exercise_cells(edition.student_notebook(nb), cwd, timeout)
    except edition.EditionError as err:
        raise BookError(f"{notebook.stem}: {err}") from None
    nbformat.write(student, notebook)


NOTEBOOKS_ZIP = "_build/notebooks/bnrates-student-notebooks.zip"
"""Where ``python -m bnrates.book notebooks`` (``make notebooks``) writes the student bundle."""


def write_notebooks(root: Path) -> Path:
    """Write every executable chapter's student notebook (no solutions, no outputs) into one zip."""
    target = root / NOTEBOOKS_ZIP
    edition.write_bundle(root, [c.path for c in read_toc(root) if c.notebook], target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnrates.book", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the chapters and render the book")
    b.add_argument("--profile", default="full", help=f"one of {', '.join(PROFILES)} (default: full)")
    b.add_argument("--chapter", action="append", default=[], metavar="NAME",
                   help="execute this chapter even if it is up to date (repeatable)")
    b.add_argument("--force", action="store_true", help="execute every chapter, up to date or not")
    b.add_argument("--no-solutions", dest="solutions", action="store_false",
                   help="student edition without solutions, in _build/html-student")
    b.add_argument("--pdf", action="store_true", help="also render the book as _build/pdf/book.pdf (needs LaTeX)")
    b.add_argument("-p", nargs=3, action="append", default=[], metavar=("CHAPTER", "NAME", "VALUE"),
                   help="override a chapter parameter (a Python literal or a string)")
    b.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    b.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="chapters executed at the same time (default: the number of cores)")
    b.add_argument("--root", type=Path, default=None, help="book root (default: nearest folder with _toc.yml)")
    n = sub.add_parser("notebooks", help=f"the student notebooks (no solutions, no outputs) as {NOTEBOOKS_ZIP}")
    n.add_argument("--root", type=Path, default=None, help="book root (default: nearest folder with _toc.yml)")
    r = sub.add_parser("results", help="maintainers: rebuild the full profile and export it to data/results")
    r.add_argument("--root", type=Path, default=None, help="book root (default: nearest folder with _toc.yml)")
    r.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    args = parser.parse_args(argv)
    if args.command == "notebooks":
        try:
            target = write_notebooks(find_root(args.root or Path.cwd()).resolve())
        except (BookError, edition.EditionError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"wrote the student notebooks: {target}")
        return 0
    if args.command == "results":
        try:
            root = find_root(args.root or Path.cwd()).resolve()
            exported = publish_results(root, args.timeout)
        except (BookError, TimeoutError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"exported {', '.join(exported)} to {root / 'data' / 'results'}: review and commit them")
        return 0
    try:
        if args.profile not in PROFILES:
            raise BookError(f"--profile must be one of {', '.join(PROFILES)}; got {args.profile!r}")
        if args.timeout < 1:
            raise BookError(f"--timeout must be a positive number of seconds, got {args.timeout}")
        root = find_root(args.root or Path.cwd()).resolve()
        start = time.perf_counter()
        if args.pdf and shutil.which("latexmk") is None:
            raise BookError("--pdf needs LaTeX (latexmk not found): run `make pdf`, which installs it")
        check_jobs(args.jobs)
        index = build(root, args.profile, args.chapter, args.p, args.timeout, args.force, args.solutions, args.pdf,
                      jobs=args.jobs)
    except (BookError, TimeoutError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"built the {args.profile} book in {time.perf_counter() - start:.1f} s: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
