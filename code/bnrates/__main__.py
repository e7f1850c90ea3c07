"""``python -m bnrates verify ...``, ``python -m bnrates sweep ...`` and ``python -m bnrates bench ...``.

``verify [--profile quick|full] [--only PATTERN] [--json] [--seed N] [--against DIR]``;
``sabotage [--only PATTERN] [--out DIR]`` runs every claim under each of its sabotages (quick
profile) and writes ``DIR/sabotage.csv`` (default ``data/sabotage``), which the report shows;
with ``--only`` the chosen claims' rows are merged into the saved record, the others kept.

Runs the registered claims without building the book, prints one row per claim (or one JSON
object per line with ``--json``). A claim whose computation raises is reported as failed with
its error, and the other claims still run. With ``--against DIR`` (saved results, e.g.
``data/results``) it also reports any drift of the new observed values from the saved ones
(see :func:`drift`); the saved folder's manifests are checked first.

BLAS runs on one thread whatever the environment says (:func:`bnrates.claims.core.one_blas_thread`),
so the verdict does not depend on how the command is launched.

Exit status: 0 if every claim passed and none drifted; otherwise the number of claims that
failed or drifted (at most 63); 64 (``EX_USAGE``) for a bad argument.

``merge RUN RECORD --key COLUMN...`` merges the table of a partial run into a record: rows of
the record with the same key are replaced, the others kept (``make benchopt``).

``sweep NAME [--grid quick|full|large] [--jobs N] [--scheduler tcp://HOST:PORT | --scheduler-file PATH |
--local-cluster N] [--out DIR] [--resume] [--progress-every SECONDS]`` runs a parameter sweep (:mod:`bnrates.sweeps`)
and writes its table to ``DIR/NAME-GRID.parquet``; the grid and the scheduler are checked before
any task starts. Off a terminal it prints a progress line every ``SECONDS``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pandas as pd

from . import claims, sweeps
from .book import provenance
from .book.parameters import SEED_MAX
from .claims.core import EX_USAGE, MAX_COUNT, Record, run_safely

DRIFT_OF_MARGIN = 1e-3
"""A new observed value may move by this fraction of its distance to the claim's pass mark."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's usage errors, with this command's exit status
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def _row(o: claims.Outcome) -> str:
    reference = "-" if o.reference is None else f"{o.reference:.4g}"
    return (
        f"{o.claim.id:<56} {o.evidence.observed:>14.7g} {o.claim.relation:>2} "
        f"{reference:>11} {o.status:<17} {o.seconds:>7.2f}"
    )


def verdict_boundary(relation: str, reference: float, tolerance: float) -> float:
    """The value at which a claim's verdict flips: ``reference`` moved by its slack ``tolerance |reference|``."""
    slack = tolerance * abs(reference)
    return reference - slack if relation == ">=" else reference + slack


def drift(outcome: claims.Outcome, saved: Record | None) -> str | None:
    """Why ``outcome`` differs from its saved record, or ``None`` if it agrees.

    A changed status is always drift. Otherwise the observed value may move by the largest of:
    the claim's tolerance (relative to ``|theory|``), 1e-9 relative to the saved value, and
    :data:`DRIFT_OF_MARGIN` of the saved value's distance to the pass mark. The last one puts a
    round-off-sized value (``4e-16`` against a pass mark ``1e-12``) on the scale of its
    threshold, not its own: rounding that cannot come near the verdict is not drift.
    """
    if saved is None:
        return "no saved result"
    if saved["status"] != outcome.status:
        return f"status {saved['status']} -> {outcome.status}"
    old, new = float(saved["observed"]), outcome.evidence.observed
    if not (math.isfinite(old) and math.isfinite(new)):
        return None if old == new or (math.isnan(old) and math.isnan(new)) else f"observed {old:.7g} -> {new:.7g}"
    reference, tolerance = outcome.reference, outcome.claim.tolerance
    if reference is None:
        margin = 0.0
    elif outcome.claim.relation == "≈":
        margin = abs(abs(old - reference) - tolerance * abs(reference))
    else:
        margin = abs(verdict_boundary(outcome.claim.relation, reference, tolerance) - old)
    allowed = max(tolerance * abs(reference or 0.0), 1e-9 * abs(old), DRIFT_OF_MARGIN * margin, 1e-300)
    return f"observed {old:.7g} -> {new:.7g} (allowed {allowed:.2g})" if abs(new - old) > allowed else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="python -m bnrates", description="Check the book's claims.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="run the registered claims and report pass/fail")
    v.add_argument("--profile", default="quick", help="quick or full (default: quick)")
    v.add_argument("--only", metavar="PATTERN", help="claim ids matching a glob or containing PATTERN")
    v.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    v.add_argument("--json", action="store_true", help="one JSON object per claim")
    v.add_argument("--against", type=Path, metavar="DIR", help="compare with saved results (e.g. data/results)")
    sub.add_parser("seeds", help="every claim over many seeds (python -m bnrates seeds --help)", add_help=False)
    s = sub.add_parser("sweep", help="run a parameter sweep (locally through loky, or on a Dask cluster)")
    s.add_argument("name", help="the sweep, e.g. acceleration")
    s.add_argument("--grid", default="quick", help="quick, full or large (default: quick)")
    s.add_argument("--jobs", type=int, metavar="N", help="local worker processes (default: one per core)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster")
    where.add_argument(
        "--scheduler-file", type=Path, metavar="PATH", help="run on the Dask cluster of this scheduler file (SLURM)"
    )
    where.add_argument("--local-cluster", type=int, metavar="N", help="run on a local Dask cluster of N workers")
    s.add_argument("--out", type=Path, default=Path("data/sweeps"), help="folder of the table and the task store")
    s.add_argument("--resume", action="store_true", help="keep finished tasks of an earlier run, compute the rest")
    s.add_argument(
        "--progress-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="off a terminal, a progress line (done/total, rate, ETA) this often (default: 60)",
    )
    sab = sub.add_parser("sabotage", help="run every claim under each of its sabotages (quick profile)")
    sab.add_argument("--only", metavar="PATTERN", help="claim ids matching a glob or containing PATTERN")
    sab.add_argument("--out", type=Path, default=Path("data/sabotage"), help="folder of sabotage.csv")
    m = sub.add_parser("merge", help="merge a partial run's table into a record (make benchopt)")
    m.add_argument("run", type=Path, help="the partial run's table (.parquet or .csv)")
    m.add_argument("record", type=Path, help="the record it updates, e.g. data/benchopt/halfspace.parquet")
    m.add_argument("--key", nargs="+", required=True, help="columns naming a row: the run's rows replace the same keys")
    sub.add_parser("bench", help="run the benchmarks (python -m bnrates.bench --help)", add_help=False)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["seeds"]:
        from .claims import seeds

        return seeds.main(argv[1:])
    if argv[:1] == ["bench"]:
        from . import bench

        return bench.main(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "sweep":
        return sweep_main(args)
    if args.command == "sabotage":
        return _sabotage(args.only, args.out)
    if args.command == "merge":
        merged = sweeps.merge_table(sweeps.read_table(args.run), args.record, args.key)
        print(f"merged {args.run} into {args.record} ({len(merged)} rows)")
        return 0
    try:
        claims.check_profile(args.profile)
        if not 0 <= args.seed <= SEED_MAX:
            raise ValueError(f"--seed must be a non-negative integer in [0, {SEED_MAX}], got {args.seed}")
        chosen = claims.select(claims.registry(args.only), args.only)
        if not chosen:
            raise ValueError(
                f"--only {args.only!r} matches no claim; known: " + ", ".join(c.id for c in claims.registry())
            )
        saved = _load_saved(args.against, args.profile) if args.against else None
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EX_USAGE
    if not args.json:
        print(f"{'claim':<56} {'observed':>14} {'':>2} {'compared':>11} {'status':<17} {'seconds':>7}")
    failed = drifted = bad = 0
    for claim in chosen:
        outcome, error = run_safely(claim, args.profile, args.seed)
        failed += not outcome.ok
        moved = drift(outcome, saved.get(claim.id)) if saved is not None else None
        drifted += moved is not None
        bad += not outcome.ok or moved is not None
        if args.json:
            print(
                json.dumps(
                    {
                        **outcome.record(),
                        **({"error": error} if error else {}),
                        **({"drift": moved} if saved is not None else {}),
                    }
                ),
                flush=True,
            )
        else:
            print(
                _row(outcome) + (f"  ERROR: {error}" if error else "") + (f"  DRIFT: {moved}" if moved else ""),
                flush=True,
            )
    if not args.json:
        print(f"{len(chosen) - failed} passed, {failed} failed")
        if saved is not None:
            print(f"{drifted} of {len(chosen)} claims drifted from {args.against}")
    return min(bad, MAX_COUNT)


def sweep_main(args: argparse.Namespace) -> int:
    """``python -m bnrates sweep``: check everything, connect, run, report where the table is."""
    client = cluster = None
    try:
        sweep = sweeps.get_sweep(args.name)
        grid = sweeps.check_grid(sweep, args.grid)
        if args.jobs is not None:
            sweeps.check_workers("--jobs", args.jobs)
        sweeps.check_interval("--progress-every", args.progress_every)
        if args.out.exists() and not args.out.is_dir():
            raise ValueError(f"--out must be a folder (the table and the task store go there), got the file {args.out}")
        if args.scheduler is not None:
            client = sweeps.connect(args.scheduler)
        elif args.scheduler_file is not None:
            client = sweeps.connect_file(args.scheduler_file)
        elif args.local_cluster is not None:
            from distributed import Client

            cluster = sweeps.local_cluster(args.local_cluster)
            client = Client(cluster, set_as_default=False)
    except (ValueError, ConnectionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EX_USAGE
    n = len(sweeps.tasks(sweep, grid))
    where = (
        f"Dask scheduler {args.scheduler or client.scheduler.address}"
        if client is not None and cluster is None
        else f"a local Dask cluster of {args.local_cluster} workers"
        if cluster
        else f"{args.jobs or 'one per core'} local processes (loky)"
    )
    print(f"sweep {sweep.name}/{args.grid}: {n} tasks on {where}", file=sys.stderr, flush=True)
    if cluster is not None and cluster.dashboard_link:  # "" without bokeh (the dask extra)
        print(f"Dask dashboard: {cluster.dashboard_link}", file=sys.stderr, flush=True)
    try:
        run = sweeps.run_sweep(
            sweep,
            args.grid,
            out=args.out,
            n_jobs=args.jobs,
            client=client,
            resume=args.resume,
            progress_every=args.progress_every,
        )
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    print(f"{run.computed} tasks computed, {n - run.computed} reused; table: {run.path}", flush=True)
    return 0


def _sabotage(only: str | None, out: Path) -> int:
    """Run the sabotages, print one row per claim, write ``out/sabotage.csv``; exit 1 if one was not caught.

    A run of some claims (``--only``) merges their rows into the saved record, in the registry's
    order, and leaves every other claim's row as it was; a run of every claim writes the record anew.
    """
    chosen = claims.select(claims.registry(only), only)
    if not chosen:
        print(f"error: --only {only!r} matches no claim", file=sys.stderr)
        return EX_USAGE
    rows = []
    for claim in chosen:
        row = claims.sabotage_counts([claim]).iloc[0]
        rows.append(row)
        print(
            f"{claim.id:<56} caught {row['caught']}/{row['sabotages']}"
            + (f"  MISSED: {row['missed']}" if row["missed"] else ""),
            flush=True,
        )
    table = pd.DataFrame(rows)
    path = out / "sabotage.csv"
    if only is None:
        sweeps.write_table(table, path)
    else:  # a partial run updates its claims' rows; the other claims' records stay
        sweeps.merge_table(table, path, ["id"], order=[c.id for c in claims.registry()])
    caught, total = int(table["caught"].sum()), int(table["sabotages"].sum())
    print(f"{caught} of {total} sabotages caught; {'wrote' if only is None else 'merged into'} {path}")
    return 0 if (table["caught"] == table["sabotages"]).all() else 1


def _load_saved(folder: Path, profile: str) -> dict[str, dict[str, object]]:
    """Saved claim records by id; a clear error if the folder is empty, damaged or of another profile."""
    folders = sorted(p.parent for p in Path(folder).glob("*/claims.json"))
    problems = [p for sub in folders for p in provenance.manifest_problems(sub)]
    if problems:
        raise ValueError(f"--against {folder}: {'; '.join(problems)}")
    table = provenance.load_claims(folder)
    if table.empty:
        raise ValueError(f"--against {folder}: no <chapter>/claims.json found there")
    profiles = set(table["profile"])
    if profiles != {profile}:
        raise ValueError(
            f"--against {folder}: results are of profile {', '.join(sorted(profiles))}, "
            f"not {profile!r}; pass --profile accordingly"
        )
    return {r["id"]: r for r in table.to_dict("records")}


if __name__ == "__main__":
    sys.exit(main())
