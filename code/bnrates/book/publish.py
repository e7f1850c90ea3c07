"""Publish the built book: push ``_build/html`` to a ``gh-pages`` branch with ghp-import.

``python -m bnrates.book.publish [--profile full] [--remote origin] [--branch gh-pages]``
(``make publish`` builds the book first, then runs this).

Nothing is pushed unless the book is worth publishing:

* the git work tree is clean (no modified, staged or untracked files), so the pages are those
  of a commit someone can check out;
* ``_build/html`` exists and every executable chapter's executed notebook is current for that
  profile (its recorded inputs match the sources now: the HTML is the book of this commit);
* every registered claim was saved in the profile's results and none failed
  (:func:`bnrates.book.report.check_complete`).

The branch gets the HTML and a ``.nojekyll`` file (GitHub Pages would otherwise hide
``_static`` and ``_images``), in one commit whose message names the source commit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from . import cli
from .build import results_root
from .cache import stale_reason
from .provenance import load_claims
from .report import ReportError, check_complete
from .toc import BookError, read_toc


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BookError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result.stdout


def publishable(root: Path, profile: str) -> Path:
    """Check that the built book may be published; return its HTML folder.

    Raises
    ------
    BookError
        Naming what is wrong: a dirty tree, no HTML, a chapter out of date, a claim missing
        or failed.
    """
    dirty = _git(root, "status", "--porcelain", "--untracked-files=normal").strip()
    if dirty:
        raise BookError(
            "the work tree is not clean: commit or remove these first, so that the published "
            f"book is the book of a commit:\n{dirty}"
        )
    html = root / "_build" / "html"
    if not (html / "index.html").is_file():
        raise BookError(f"no built book in {html}: run `make book` first")
    executed = root / "_build" / "executed" / profile
    for chapter in (c for c in read_toc(root) if c.notebook):
        cached = executed / f"{chapter.name}.ipynb"
        parameters = (
            nbformat.read(cached, as_version=4).metadata.get("papermill", {}).get("parameters", {})
            if cached.is_file()
            else {}
        )
        reason = stale_reason(root, chapter, parameters, cached)
        if reason is not None or parameters.get("profile") != profile:
            raise BookError(
                f"chapter {chapter.name!r} of the {profile} profile is not the one built from this "
                f"commit ({reason or 'built in another profile'}): run `make book` first"
            )
    try:
        check_complete(load_claims(results_root(root, profile)))
    except ReportError as err:
        raise BookError(f"the book's claims do not check out, not publishing: {err}") from None
    return html


def publish(root: Path, profile: str = "full", remote: str = "origin", branch: str = "gh-pages") -> str:
    """Push the checked HTML to ``branch`` of ``remote`` (with ``.nojekyll``); return the source commit."""
    html = publishable(root, profile)
    source = _git(root, "rev-parse", "HEAD").strip()
    command = [
        str(Path(sys.executable).with_name("ghp-import")),
        "--no-jekyll",
        "--push",
        "--force",
        "--remote",
        remote,
        "--branch",
        branch,
        "--message",
        f"Book built from {source} ({profile} profile)",
        str(html),
    ]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BookError(f"ghp-import could not publish to {remote} {branch}:\n{result.stdout}{result.stderr}")
    return source


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnrates.book.publish", description=__doc__.split("\n\n")[0])
    cli.add_profile(parser)
    parser.add_argument("--remote", default="origin", help="git remote to push to (default: origin)")
    parser.add_argument("--branch", default="gh-pages", help="branch that holds the pages (default: gh-pages)")
    cli.add_root(parser)
    args = parser.parse_args(argv)

    def push() -> str:
        root = cli.book_root(args)
        source = publish(root, cli.profile(args.profile), args.remote, args.branch)
        return f"published {root / '_build' / 'html'} (commit {source[:12]}) to {args.remote} {args.branch}"

    return cli.run(push)


if __name__ == "__main__":
    sys.exit(main())
