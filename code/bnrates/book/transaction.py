"""A build as a transaction: one build at a time, its outputs committed together or not at all.

A build works in one staging folder, ``_build/.stage``, and touches nothing else until the book
has rendered. It then *commits*: it writes a journal (``.stage/COMMIT``, written atomically)
naming each staged folder and the folder it replaces -- the results, the cache records, the HTML
-- and swaps them into place one by one, each with two renames. A build killed at any moment
leaves one of two states, and the next build repairs either (:func:`recover`):

* no journal: the commit had not started, the old outputs are all intact; the stage is removed;
* a journal: the commit had started, every staged folder is complete; the swaps are finished.

An interrupted swap leaves ``<final>.old`` beside (or instead of) ``<final>``; :func:`swap` is
idempotent, so finishing the journal puts every folder in its new state. A lock file
(``_build/.lock``, :mod:`filelock`) keeps two builds of the same book from interleaving: the
second waits for the first and says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from filelock import FileLock, Timeout

STAGE = ".stage"
JOURNAL = "COMMIT"
LOCK = ".lock"


@contextlib.contextmanager
def build_lock(build_dir: Path, log: Callable[[str], None], wait: float = -1) -> Iterator[None]:
    """Hold the book's build lock inside the block; wait ``wait`` seconds for it (-1: as long as it takes).

    Raises
    ------
    TimeoutError
        If another build still holds the lock after ``wait`` seconds.
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(build_dir / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"another build of this book is running (lock {build_dir / LOCK}): waiting for it to finish")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise TimeoutError(
                f"another build of this book still holds {build_dir / LOCK} after {wait:g} s; "
                "try again when it has finished"
            ) from None
    try:
        yield
    finally:
        lock.release()


def _old(final: Path) -> Path:
    return final.with_name(final.name + ".old")


def swap(new: Path, final: Path) -> None:
    """Put ``new`` in the place of ``final`` (two renames); finishing an interrupted swap is safe.

    The previous ``final`` is moved aside to ``<final>.old`` first and removed last, so at every
    moment one complete version exists under ``final`` or ``<final>.old``.
    """
    old = _old(final)
    if new.exists():
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        final.parent.mkdir(parents=True, exist_ok=True)
        new.rename(final)
    elif not final.exists() and old.exists():
        old.rename(final)  # nothing to put in: keep what was there
    shutil.rmtree(old, ignore_errors=True)


def commit(stage: Path, pairs: Sequence[tuple[Path, Path]]) -> None:
    """Swap every staged folder into its final place, journalled so a kill cannot split the set."""
    journal = stage / JOURNAL
    tmp = stage / f".{JOURNAL}.tmp"
    tmp.write_text(json.dumps([[str(new), str(final)] for new, final in pairs]))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(journal)
    finish(stage)


def finish(stage: Path) -> None:
    """Complete the journalled swaps of ``stage``, then remove it."""
    for new, final in json.loads((stage / JOURNAL).read_text()):
        swap(Path(new), Path(final))
    shutil.rmtree(stage, ignore_errors=True)


def recover(build_dir: Path, finals: Sequence[Path], log: Callable[[str], None]) -> None:
    """Repair what a killed build left: finish a started commit, else drop its stage.

    ``finals`` are the folders a commit may replace; a ``<final>.old`` left beside them is put
    back (no commit of it was started) or removed. Stages of the former naming
    (``.stage-<pid>``) are removed as well.
    """
    stage = build_dir / STAGE
    journal = stage / JOURNAL
    if journal.is_file():
        try:
            finish(stage)
            log("completed the commit of a build that was interrupted")
        except (OSError, ValueError):
            shutil.rmtree(stage, ignore_errors=True)
            log("dropped the half-committed stage of an interrupted build")
    elif stage.exists():
        shutil.rmtree(stage)
        log("removed the stage of an interrupted build (its outputs had not been committed)")
    for leftover in build_dir.glob(".stage-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for final in finals:
        old = _old(final)
        if old.exists():
            if final.exists():
                shutil.rmtree(old)
            else:
                old.rename(final)
