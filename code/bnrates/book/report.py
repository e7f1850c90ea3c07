"""The reproducibility report: every claim of the book, how each chapter ran, and on what.

The report reads what the chapters saved (:mod:`bnrates.book.provenance`), so it shows the numbers
of the very run that built the book, and it fails if a claim is missing, unknown or failed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import claims
from ..plotting import ClaimTable, claim_cell


class ReportError(AssertionError):
    """The saved results do not cover the registry, or a claim failed."""


def check_complete(saved: pd.DataFrame) -> None:
    """Raise :class:`ReportError` unless every registered claim was saved once and none failed."""
    registered = [c.id for c in claims.registry()]
    ids = list(saved["id"]) if len(saved) else []
    missing = sorted(set(registered) - set(ids))
    unknown = sorted(set(ids) - set(registered))
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    failed = sorted(saved.loc[saved["status"] == "fail", "id"]) if len(saved) else []
    problems = [
        f"{label}: {', '.join(items)}"
        for label, items in (
            ("missing", missing),
            ("not in the registry", unknown),
            ("saved twice", duplicated),
            ("failed", failed),
        )
        if items
    ]
    if problems:
        raise ReportError("the saved results do not check out -- " + "; ".join(problems))


def claims_table(saved: pd.DataFrame, sabotage: pd.DataFrame | None = None) -> ClaimTable:
    """Every claim linked to the statement it checks, in registry order, coloured by status.

    With ``sabotage`` (:func:`load_sabotage`) a column ``can fail`` shows, per claim, how many of
    its sabotages it catches.
    """
    registry = {c.id: c for c in claims.registry()}
    order = {cid: k for k, cid in enumerate(registry)}
    table = saved.assign(order=saved["id"].map(order)).sort_values("order")
    table = table.assign(
        claim=[
            claim_cell(i, st, registry[i].label if i in registry else "", href=f"{ch}.html")
            for i, ch, st in zip(table["id"], table["chapter"], table["statement"], strict=True)
        ]
    )
    if sabotage is not None:
        counts = sabotage.set_index("id")
        table = table.assign(
            **{
                "can fail": [
                    f"{counts.at[i, 'caught']}/{counts.at[i, 'sabotages']}" if i in counts.index else "–"
                    for i in table["id"]
                ]
            }
        )
    return ClaimTable(table)


def load_sabotage(folder: str | Path) -> pd.DataFrame:
    """The recorded sabotage runs (``python -m bnrates sabotage``), checked against the registry.

    Raises :class:`ReportError` if the file is missing, if a registered claim is missing from it or
    its sabotages have changed since it was written (run ``make sabotage`` again), or if a sabotage
    was not caught.
    """
    path = Path(folder) / "sabotage.csv"
    if not path.is_file():
        raise ReportError(f"{path} is missing: run `make sabotage` (python -m bnrates sabotage)")
    table = pd.read_csv(path, keep_default_na=False)
    recorded = dict(zip(table["id"], table["names"], strict=True))
    stale = [c.id for c in claims.registry() if recorded.get(c.id) != " | ".join(c.sabotages)]
    missed = list(table.loc[table["caught"] != table["sabotages"], "id"])
    problems = [
        f"{label}: {', '.join(items)}"
        for label, items in (
            ("not recorded or changed since (run `make sabotage`)", stale),
            ("a sabotage survived", missed),
        )
        if items
    ]
    if problems:
        raise ReportError(f"{path} does not check out -- " + "; ".join(problems))
    return table


def status_counts(saved: pd.DataFrame) -> dict[str, int]:
    """How many claims passed, failed as expected (negative controls) and failed."""
    counts = saved["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in ("pass", "expected failure", "fail")}


def execution_table(results_dir: str | Path) -> pd.DataFrame:
    """Per-chapter execution time of the latest build, from the pipeline's ``execution.json``."""
    log = json.loads((Path(results_dir) / "execution.json").read_text())
    rows = [
        {
            "chapter": name,
            "seconds": entry["seconds"],
            "executed in this build": "yes" if entry["executed_in_this_build"] else "no (up to date)",
        }
        for name, entry in log["chapters"].items()
    ]
    return pd.DataFrame(rows)


def environment_table(metadata: dict[str, Any]) -> pd.DataFrame:
    """Packages, Python, machine and commit as a two-column table."""
    rows = [(f"package {k}", v) for k, v in metadata["packages"].items()]
    machine = metadata["machine"]
    rows += [
        ("Python", metadata["python"]),
        ("machine", f"{machine['system']} {machine['machine']}, {machine['cpus']} CPUs"),
        ("commit", metadata["commit"]),
    ]
    return pd.DataFrame(rows, columns=["what", "value"])


def latest_benchmark(folder: str | Path) -> tuple[str, pd.DataFrame] | None:
    """Each section's newest measurement in ``folder`` (not ``--quick``) as ``(run files, table)``, if any.

    A run of some sections only (``<date>-S1.json``, from ``--only``) replaces those sections of
    an older full run; the others keep theirs. The table has one row per measurement: section,
    measurement, value (four significant digits, as text), unit, target, met, and the run file.
    """
    runs = sorted(p for p in Path(folder).glob("*.json") if not p.stem.endswith("-quick"))
    newest: dict[str, tuple[str, dict]] = {}
    for path in runs:  # oldest first, so a newer run of a section replaces an older one
        for key, section in json.loads(path.read_text())["sections"].items():
            newest[key] = (path.name, section)
    if not newest:
        return None
    rows = [
        {
            "section": key,
            "measurement": name,
            "value": f"{m['value']:.4g}",
            "unit": m["unit"],
            "target": "-" if m["target"] is None else f"{m['relation']} {m['target']:g}",
            "met": "-" if m["met"] is None else "yes" if m["met"] else "no",
            "run": run,
        }
        for key, (run, section) in newest.items()
        for name, m in section["measurements"].items()
    ]
    return ", ".join(sorted({run for run, _ in newest.values()})), pd.DataFrame(rows)
