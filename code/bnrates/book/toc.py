"""The book's table of contents and files: where the book is, its pages, what a copy of it holds.

:data:`BOOK_FILES` and :data:`BOOK_FOLDERS` are the one list of what, besides its pages, makes the
book: :func:`copy_book` copies them wherever a book is copied or staged (the build's staging
folder, the benchmarks' private copies, the tests' copies).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jupytext
import yaml

BOOK_FILES = ("_config.yml", "_toc.yml", "references.bib", "code/constraints.txt")
"""The book's configuration, bibliography and pinned package set (relative to the book root)."""
BOOK_FOLDERS = ("_static", "code/bnrates", "data/sabotage")
"""The book's CSS, the package sources and the sabotage record the report shows (where they exist)."""


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
        chapters.append(
            Chapter(
                path.stem,
                path,
                "kernelspec" in metadata,
                bool(options.get("aggregate", False)),
                tuple(options.get("reads", ())),
            )
        )
    return chapters


def copy_book(root: Path, target: Path, pages: Iterable[Chapter] | None = None) -> Path:
    """Copy the book into ``target``: :data:`BOOK_FILES`, :data:`BOOK_FOLDERS` and the sources of ``pages``.

    ``pages`` defaults to every page of the table of contents. A file or folder the book does
    not have is skipped; package caches (``__pycache__``) are left out. Returns ``target``.
    """
    target.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        if (root / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target / name)
    for name in BOOK_FOLDERS:
        if (root / name).is_dir():
            shutil.copytree(
                root / name, target / name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
            )
    for page in read_toc(root) if pages is None else pages:
        (target / page.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / page.path, target / page.path)
    return target
