"""Building the book: execute what is out of date, render with Jupyter Book, commit it all together.

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
   :func:`bnrates.book.pages.present` (one parameters cell, no ``glue`` bookkeeping).
3. The executed notebooks are rendered by Jupyter Book from a staging copy of the book, with
   execution off and warnings as errors.
4. Only then are the results (``_build/results/<profile>``), the cache records and the HTML
   committed, together (:mod:`bnrates.book.transaction`): a failed or killed build leaves all three
   as they were, and the next build repairs what a killed one left. One build at a time.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
import yaml

from ..claims.core import check_profile
from . import edition, provenance, transaction
from .cache import stale_reason, tree_digest
from .execute import Run, check_jobs, check_overrides, execute_runs, kernel_environment
from .pages import present
from .toc import BookError, Chapter, copy_book, read_toc

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
    """Copy the book (:func:`~bnrates.book.toc.copy_book`) with its plain pages into ``stage``.

    The staged ``_config.yml`` gets a sitemap and OpenGraph metadata when ``html.baseurl`` is set
    (:func:`site_config`).

    With ``solutions=False`` the staged ``_config.yml`` sets sphinx-exercise's
    ``hide_solutions``: a student edition with the exercises but without their solutions.
    """
    copy_book(root, stage, [c for c in chapters if not c.notebook])
    config = site_config(yaml.safe_load((stage / "_config.yml").read_text()))
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["bnrates_executed"] = True  # the pages are rendered from executed notebooks (bnrates.book.sphinxext)
    if not solutions:
        sphinx_config["hide_solutions"] = True
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def render(stage: Path, out: Path, builder: str = "html") -> Path:
    """Run Jupyter Book on ``stage`` with warnings as errors; return its output folder.

    ``builder`` is ``html`` (the folder of the site) or ``pdflatex`` (the folder holding the PDF).
    """
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(stage),
        "--builder",
        builder,
        "--path-output",
        str(out),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BookError(
            f"Jupyter Book ({builder}) failed to render the book:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        )
    return out / "_build" / ("html" if builder == "html" else "latex")


RENDER_STAMP = ".bnrates-render"
"""File in a rendered edition holding the digest of the staged sources it was rendered from."""


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
    (:mod:`bnrates.book.transaction`); what a killed build left is repaired first.
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
        raise BookError(
            f"--chapter: unknown chapter(s) {', '.join(sorted(unknown))}; "
            f"executable chapters: {', '.join(c.name for c in notebooks)}"
        )
    params = check_overrides(chapters, root, overrides)

    build_dir = root / "_build"
    edition_dir = build_dir / ("html" if solutions else "html-student")
    results = results_root(root, profile)
    executed = build_dir / "executed" / profile
    with transaction.build_lock(build_dir, log):
        transaction.recover(build_dir, [results, executed, edition_dir, build_dir / "pdf"], log)
        stage = build_dir / transaction.STAGE
        try:
            pairs = _build_in_stage(
                root, stage, chapters, notebooks, profile, only, params, timeout, force, solutions, pdf, log, jobs
            )
            transaction.commit(stage, pairs)
        finally:
            if not (stage / transaction.JOURNAL).exists():
                shutil.rmtree(stage, ignore_errors=True)
    return edition_dir / "index.html"


def _build_in_stage(
    root: Path,
    stage: Path,
    chapters: Sequence[Chapter],
    notebooks: Sequence[Chapter],
    profile: str,
    only: Sequence[str],
    params: dict[str, dict[str, object]],
    timeout: int,
    force: bool,
    solutions: bool,
    pdf: bool,
    log,
    jobs: int = 1,
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
            parameters = {
                "profile": profile,
                "results_dir": os.path.relpath(staged_results, root / "chapters"),
                **params.get(chapter.name, {}),
            }
            cached = executed / f"{chapter.name}.ipynb"
            reason = (
                "forced"
                if force or chapter.name in only
                else "another chapter ran"
                if chapter.aggregate and ran_any
                else stale_reason(root, chapter, parameters, cached, results)
            )
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
    executed (``force``); the volatile fields stay out (:func:`bnrates.book.provenance.export_results`).
    """
    state = provenance.commit(root)
    if state == "unknown" or state.endswith("+dirty"):
        raise BookError(
            f"make results refreshes the committed data/results, which must name a real commit, "
            f"but {root} is {'not a git work tree' if state == 'unknown' else 'modified (git status)'}: "
            "commit or stash your changes first"
        )
    build(root, "full", timeout=timeout, force=True, log=log)
    with transaction.build_lock(root / "_build", log):
        try:
            return provenance.export_results(results_root(root, "full"), root / "data" / "results")
        except ValueError as err:
            raise BookError(f"make results: {err}") from None


def student_edition(notebook: Path, cwd: Path, timeout: int) -> None:
    """Turn an executed chapter into its student version in place (see :mod:`bnrates.book.edition`).

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
