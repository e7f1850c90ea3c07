"""``python -m bnrates verify [--profile quick|full] [--only PATTERN] [--json] [--seed N]``.

Runs the registered claims without building the book, prints one row per claim (or one JSON
object per line with ``--json``) and exits non-zero if any claim fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import claims


def _row(o: claims.Outcome) -> str:
    return (f"{o.claim.id:<56} {o.evidence.observed:>14.7g} {o.claim.relation:>2} "
            f"{o.evidence.theory:>11.4g} {o.status:<17} {o.seconds:>7.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnrates", description="Check the book's claims.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="run the registered claims and report pass/fail")
    v.add_argument("--profile", default="quick", help="quick or full (default: quick)")
    v.add_argument("--only", metavar="PATTERN", help="claim ids matching a glob or containing PATTERN")
    v.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    v.add_argument("--json", action="store_true", help="one JSON object per claim")
    args = parser.parse_args(argv)
    try:
        claims.check_profile(args.profile)
        if args.seed < 0:
            raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
        chosen = claims.select(claims.registry(args.only), args.only)
        if not chosen:
            raise ValueError(f"--only {args.only!r} matches no claim; known: "
                             + ", ".join(c.id for c in claims.registry()))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"{'claim':<56} {'observed':>14} {'':>2} {'theory':>11} {'status':<17} {'seconds':>7}")
    failed = 0
    for claim in chosen:
        outcome = claims.run_claim(claim, args.profile, args.seed)
        failed += not outcome.ok
        print(json.dumps(outcome.record()) if args.json else _row(outcome), flush=True)
    if not args.json:
        print(f"{len(chosen) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
