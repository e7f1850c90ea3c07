"""What the pipeline's command lines share: the ``--root`` and ``--profile`` options and their errors.

Every command (``python -m bnrates.book ...``, ``python -m bnrates.book.publish``) prints one line
on success and exits 0, or prints ``error: ...`` on standard error and exits 1 (:func:`run`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ..claims.core import PROFILES
from .toc import BookError, find_root


def add_root(parser: argparse.ArgumentParser) -> None:
    """The ``--root PATH`` option: the book root, by default the nearest folder with ``_toc.yml``."""
    parser.add_argument("--root", type=Path, default=None, help="book root (default: nearest folder with _toc.yml)")


def add_profile(parser: argparse.ArgumentParser) -> None:
    """The ``--profile NAME`` option (default ``full``), checked by :func:`book_root`'s callers with :func:`profile`."""
    parser.add_argument("--profile", default="full", help=f"one of {', '.join(PROFILES)} (default: full)")


def profile(name: str) -> str:
    """``name`` if it is a profile, else :class:`~bnrates.book.toc.BookError` naming the allowed ones."""
    if name not in PROFILES:
        raise BookError(f"--profile must be one of {', '.join(PROFILES)}; got {name!r}")
    return name


def book_root(args: argparse.Namespace) -> Path:
    """The book root of ``--root`` (or of the working folder), resolved."""
    return find_root(args.root or Path.cwd()).resolve()


def run(action: Callable[[], str], errors: tuple[type[Exception], ...] = (BookError,)) -> int:
    """Run ``action``; print the line it returns and return 0, or print ``error: ...`` and return 1.

    Only the exceptions in ``errors`` (problems meant for the reader of the terminal) are caught.
    """
    try:
        message = action()
    except errors as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(message)
    return 0
