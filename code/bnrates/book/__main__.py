"""``python -m bnrates.book build|notebooks|results|audit``: see :mod:`bnrates.book.build`, :mod:`~bnrates.book.audit`.

Exit status 0 on success, 1 with ``error: ...`` on standard error otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence

from . import audit as sentence_audit
from . import build as pipeline
from . import cli, edition
from .execute import check_jobs
from .toc import BookError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bnrates.book", description=(pipeline.__doc__ or "").split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the chapters and render the book")
    cli.add_profile(b)
    b.add_argument(
        "--chapter",
        action="append",
        default=[],
        metavar="NAME",
        help="execute this chapter even if it is up to date (repeatable)",
    )
    b.add_argument("--force", action="store_true", help="execute every chapter, up to date or not")
    b.add_argument(
        "--no-solutions",
        dest="solutions",
        action="store_false",
        help="student edition without solutions, in _build/html-student",
    )
    b.add_argument("--pdf", action="store_true", help="also render the book as _build/pdf/book.pdf (needs LaTeX)")
    b.add_argument(
        "-p",
        nargs=3,
        action="append",
        default=[],
        metavar=("CHAPTER", "NAME", "VALUE"),
        help="override a chapter parameter (a Python literal or a string)",
    )
    b.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    b.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="chapters executed at the same time (default: the number of cores)",
    )
    cli.add_root(b)
    n = sub.add_parser(
        "notebooks", help=f"the student notebooks (no solutions, no outputs) as {pipeline.NOTEBOOKS_ZIP}"
    )
    cli.add_root(n)
    r = sub.add_parser("results", help="maintainers: rebuild the full profile and export it to data/results")
    cli.add_root(r)
    r.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    a = sub.add_parser("audit", help=f"check the sentence audit ({sentence_audit.AUDIT_DIR}/<page>.csv)")
    a.add_argument(
        "--update",
        action="store_true",
        help="first move rows to their sentences' lines, drop gone sentences, add new ones tagged ?",
    )
    a.add_argument("--page", action="append", default=[], metavar="NAME", help="only this page (repeatable)")
    cli.add_root(a)
    args = parser.parse_args(argv)

    def notebooks() -> str:
        return f"wrote the student notebooks: {pipeline.write_notebooks(cli.book_root(args))}"

    def results() -> str:
        root = cli.book_root(args)
        exported = pipeline.publish_results(root, args.timeout)
        return f"exported {', '.join(exported)} to {root / 'data' / 'results'}: review and commit them"

    def build() -> str:
        cli.profile(args.profile)
        if args.timeout < 1:
            raise BookError(f"--timeout must be a positive number of seconds, got {args.timeout}")
        root = cli.book_root(args)
        start = time.perf_counter()
        if args.pdf and shutil.which("latexmk") is None:
            raise BookError("--pdf needs LaTeX (latexmk not found): run `make pdf`, which installs it")
        check_jobs(args.jobs)
        index = pipeline.build(
            root, args.profile, args.chapter, args.p, args.timeout, args.force, args.solutions, args.pdf, jobs=args.jobs
        )
        return f"built the {args.profile} book in {time.perf_counter() - start:.1f} s: {index}"

    if args.command == "audit":
        return cli.run(lambda: sentence_audit.audit(cli.book_root(args), args.update, args.page))
    if args.command == "notebooks":
        return cli.run(notebooks, (BookError, edition.EditionError))
    return cli.run(results if args.command == "results" else build, (BookError, TimeoutError))


if __name__ == "__main__":
    sys.exit(main())
