"""``python -m bnrates verify ...`` and ``python -m bnrates bench ...``.

``verify [--profile quick|full] [--only PATTERN] [--json] [--seed N] [--against DIR]``;
``sabotage [--only PATTERN] [--out DIR]`` runs every claim under each of its sabotages (quick
profile) and writes ``DIR/sabotage.csv`` (default ``data/sabotage``), which the report shows.

Runs the registered claims without building the book, prints one row per claim (or one JSON
object per line with ``--json``) and exits non-zero if any claim fails. With ``--against DIR``
(saved results, e.g. ``data/results``) it also reports any drift of the new observed values
from the saved ones beyond each claim's tolerance, and exits non-zero on drift.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import claims, provenance


def _row(o: claims.Outcome) -> str:
    reference = "-" if o.reference is None else f"{o.reference:.4g}"
    return (f"{o.claim.id:<56} {o.evidence.observed:>14.7g} {o.claim.relation:>2} "
            f"{reference:>11} {o.status:<17} {o.seconds:>7.2f}")


def drift(outcome: claims.Outcome, saved: dict[str, object] | None) -> str | None:
    """Why ``outcome`` differs from its saved record, or ``None`` if it agrees.

    Observed values may move by the claim's tolerance (relative to ``|theory|``) or by 1e-9
    relative to the saved value, whichever is larger; a changed status is always drift.
    """
    if saved is None:
        return "no saved result"
    if saved["status"] != outcome.status:
        return f"status {saved['status']} -> {outcome.status}"
    old, new = float(saved["observed"]), outcome.evidence.observed
    allowed = max(outcome.claim.tolerance * abs(outcome.reference or 0.0), 1e-9 * abs(old), 1e-300)
    if not (math.isfinite(old) and math.isfinite(new)):
        return None if old == new or (math.isnan(old) and math.isnan(new)) else f"observed {old:.7g} -> {new:.7g}"
    return f"observed {old:.7g} -> {new:.7g} (allowed {allowed:.2g})" if abs(new - old) > allowed else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnrates", description="Check the book's claims.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="run the registered claims and report pass/fail")
    v.add_argument("--profile", default="quick", help="quick or full (default: quick)")
    v.add_argument("--only", metavar="PATTERN", help="claim ids matching a glob or containing PATTERN")
    v.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    v.add_argument("--json", action="store_true", help="one JSON object per claim")
    v.add_argument("--against", type=Path, metavar="DIR", help="compare with saved results (e.g. data/results)")
    sab = sub.add_parser("sabotage", help="run every claim under each of its sabotages (quick profile)")
    sab.add_argument("--only", metavar="PATTERN", help="claim ids matching a glob or containing PATTERN")
    sab.add_argument("--out", type=Path, default=Path("data/sabotage"), help="folder of sabotage.csv")
    sub.add_parser("bench", help="run the benchmarks (python -m bnrates.bench --help)", add_help=False)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from . import bench

        return bench.main(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "sabotage":
        return _sabotage(args.only, args.out)
    try:
        claims.check_profile(args.profile)
        if args.seed < 0:
            raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
        chosen = claims.select(claims.registry(args.only), args.only)
        if not chosen:
            raise ValueError(f"--only {args.only!r} matches no claim; known: "
                             + ", ".join(c.id for c in claims.registry()))
        saved = _load_saved(args.against, args.profile) if args.against else None
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"{'claim':<56} {'observed':>14} {'':>2} {'compared':>11} {'status':<17} {'seconds':>7}")
    failed = drifted = 0
    for claim in chosen:
        outcome = claims.run_claim(claim, args.profile, args.seed)
        failed += not outcome.ok
        moved = drift(outcome, saved.get(claim.id)) if saved is not None else None
        drifted += moved is not None
        if args.json:
            print(json.dumps({**outcome.record(), **({"drift": moved} if saved is not None else {})}), flush=True)
        else:
            print(_row(outcome) + (f"  DRIFT: {moved}" if moved else ""), flush=True)
    if not args.json:
        print(f"{len(chosen) - failed} passed, {failed} failed")
        if saved is not None:
            print(f"{drifted} of {len(chosen)} claims drifted from {args.against}")
    return 1 if failed or drifted else 0


def _sabotage(only: str | None, out: Path) -> int:
    """Run the sabotages, print one row per claim, write ``out/sabotage.csv``; exit 1 if one was not caught."""
    chosen = claims.select(claims.registry(only), only)
    if not chosen:
        print(f"error: --only {only!r} matches no claim", file=sys.stderr)
        return 2
    rows = []
    for claim in chosen:
        row = claims.sabotage_counts([claim]).iloc[0]
        rows.append(row)
        print(f"{claim.id:<56} caught {row['caught']}/{row['sabotages']}" + (f"  MISSED: {row['missed']}"
                                                                            if row["missed"] else ""), flush=True)
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".sabotage.csv.{os.getpid()}"
    table.to_csv(tmp, index=False)
    os.replace(tmp, out / "sabotage.csv")
    caught, total = int(table["caught"].sum()), int(table["sabotages"].sum())
    print(f"{caught} of {total} sabotages caught; wrote {out / 'sabotage.csv'}")
    return 0 if (table["caught"] == table["sabotages"]).all() else 1


def _load_saved(folder: Path, profile: str) -> dict[str, dict[str, object]]:
    """Saved claim records by id; a clear error if the folder is empty or of another profile."""
    table = provenance.load_claims(folder)
    if table.empty:
        raise ValueError(f"--against {folder}: no <chapter>/claims.json found there")
    profiles = set(table["profile"])
    if profiles != {profile}:
        raise ValueError(f"--against {folder}: results are of profile {', '.join(sorted(profiles))}, "
                         f"not {profile!r}; pass --profile accordingly")
    return {r["id"]: r for r in table.to_dict("records")}


if __name__ == "__main__":
    sys.exit(main())
