"""Do the claims hold for the seeds readers pick? ``python -m bnrates seeds`` (``make seeds``).

A killed run resumes: the table is saved after every seed and seeds already in it are skipped.
A run of some claims (``--only``) writes its own table, ``<profile>-<pattern>.csv``, and merges
its rows into it: rows of other claims already there stay.
The exercises invite readers to rerun a chapter with another seed, so every claim is run over
many base seeds (at least 20) in a profile, and the pass table -- one row per claim and seed,
plus a summary per claim with the spread of the observed value and its smallest distance to the
pass mark -- is written to ``data/seeds/<profile>.csv`` and ``data/seeds/<profile>-summary.csv``.
A claim that fails at some seed is listed on the terminal; its margin must then be justified by
the spread recorded here, or the failure stated. Not part of CI (minutes per seed in the full
profile); CI runs a few seeds besides the default (``code/tests/test_seeds.py``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from .. import claims, sweeps
from ..book.parameters import SEED_MAX
from .core import EX_USAGE, MAX_COUNT, Outcome, check_profile, run_safely

MIN_SEEDS = 20
COLUMNS = ("claim", "profile", "seed", "observed", "theory", "status", "error")


def run_seeds(
    chosen: Sequence[claims.Claim],
    profile: str,
    seeds: Sequence[int],
    run: Callable[[claims.Claim, str, int], tuple[Outcome, str | None]],
    log: Callable[[str], None] = print,
    done: pd.DataFrame | None = None,
    save: Callable[[pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """One row per claim and seed: ``claim, profile, seed, observed, theory, status, error``.

    Seeds whose every chosen claim is already in ``done`` (an earlier, interrupted run's table)
    are not run again; ``save`` receives the table after every seed, so a killed run resumes.
    """
    ids = {c.id for c in chosen}
    table = pd.DataFrame(columns=COLUMNS) if done is None else done[done["claim"].isin(ids)][list(COLUMNS)]
    for seed in seeds:
        if set(table.loc[table["seed"] == seed, "claim"]) >= ids:
            continue
        start = time.perf_counter()
        rows = []
        for claim in chosen:
            outcome, error = run(claim, profile, seed)
            rows.append(
                {
                    "claim": claim.id,
                    "profile": profile,
                    "seed": seed,
                    "observed": outcome.evidence.observed,
                    "theory": outcome.evidence.theory,
                    "status": outcome.status,
                    "error": error or "",
                }
            )
        table = pd.concat([table[table["seed"] != seed], pd.DataFrame(rows)], ignore_index=True)
        failed = sum(r["status"] == "fail" for r in rows)
        log(f"seed {seed:>4}: {len(chosen) - failed} of {len(chosen)} claims ok ({time.perf_counter() - start:.1f} s)")
        if save is not None:
            save(table)
    return table.sort_values(["seed"], kind="stable").reset_index(drop=True)


def summary(table: pd.DataFrame, registered: Sequence[claims.Claim]) -> pd.DataFrame:
    """Per claim: seeds run, seeds failed, observed min / median / max and the seed-to-seed spread.

    ``worst_margin`` is the smallest signed distance of an observed value to the pass mark,
    relative to ``|theory|`` (negative: the relation failed at some seed, for an ordinary claim).
    """
    by_id = {c.id: c for c in registered}
    rows = []
    for claim_id, group in table.groupby("claim", sort=False):
        claim = by_id[claim_id]
        obs, theory = group["observed"].astype(float), group["theory"].astype(float)
        slack = claim.tolerance * theory.abs()
        margin = {"<=": theory + slack - obs, ">=": obs - theory + slack, "≈": slack - (obs - theory).abs()}[
            claim.relation
        ] / theory.abs().where(theory != 0, 1.0)
        finite = obs[obs.map(math.isfinite)]
        rows.append(
            {
                "claim": claim_id,
                "negative_control": claim.negative_control,
                "seeds": len(group),
                "failed": int((group["status"] == "fail").sum()),
                "observed_min": finite.min() if len(finite) else math.nan,
                "observed_median": finite.median() if len(finite) else math.nan,
                "observed_max": finite.max() if len(finite) else math.nan,
                "observed_std": finite.std() if len(finite) > 1 else math.nan,
                "worst_margin": margin.min(),
            }
        )
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bnrates seeds [--profile quick|full] [--seeds N] [--only PATTERN] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m bnrates seeds", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="quick", help="quick or full (default: quick)")
    parser.add_argument("--seeds", type=int, default=MIN_SEEDS, help=f"base seeds 0 .. N-1 (default {MIN_SEEDS})")
    parser.add_argument("--only", metavar="PATTERN", help="claim ids matching a glob or containing PATTERN")
    parser.add_argument("--out", type=Path, default=Path("data") / "seeds", help="output folder (default data/seeds)")
    args = parser.parse_args(argv)
    try:
        check_profile(args.profile)
        if not 1 <= args.seeds <= SEED_MAX:
            raise ValueError(f"--seeds must be an integer in [1, {SEED_MAX}], got {args.seeds}")
        chosen = claims.select(claims.registry(args.only), args.only)
        if not chosen:
            raise ValueError(f"--only {args.only!r} matches no claim")
        if args.out.exists() and not args.out.is_dir():
            raise ValueError(f"--out {args.out} exists and is not a folder")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EX_USAGE
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.profile if args.only is None else f"{args.profile}-{args.only.strip('.*')}"
    path = args.out / f"{stem}.csv"
    done = pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.is_file() else None

    def save(table: pd.DataFrame) -> pd.DataFrame:  # a run of some claims keeps the rows of the others
        if args.only is None:
            sweeps.write_table(table, path)
            return table
        return sweeps.merge_table(table, path, ["claim", "seed"])

    table = save(run_seeds(chosen, args.profile, range(args.seeds), run_safely, done=done, save=save))
    registered = claims.registry()
    totals = summary(table[table["claim"].isin({c.id for c in registered})], registered)
    sweeps.write_table(totals, args.out / f"{stem}-summary.csv")
    bad = totals[totals["failed"] > 0]
    for row in bad.itertuples():
        print(f"{row.claim}: failed at {row.failed} of {row.seeds} seeds (worst margin {row.worst_margin:.3g})")
    print(
        f"{len(totals) - len(bad)} of {len(totals)} claims held at every one of {args.seeds} seeds; "
        f"wrote {args.out / (stem + '.csv')}"
    )
    return min(len(bad), MAX_COUNT)
