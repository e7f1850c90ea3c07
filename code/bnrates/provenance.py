"""Results with provenance: what each chapter computed, written so it can be trusted and replotted.

Each chapter saves, under ``<results_dir>/<chapter>/``:

* ``claims.json`` -- every claim's record (observed, theory, relation, tolerance, status) and
  the run's metadata: parameters, seed, profile, package versions, Python, machine, commit;
* one CSV per table behind a figure or a claim.

A chapter's folder is written as a whole into a temporary sibling and then renamed into place,
so an interrupted build never leaves a half-written result. The full profile's results are
committed in ``data/results``; ``python -m bnrates verify --against data/results`` compares a
new run with them.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from pathlib import Path

import pandas as pd

from .claims.core import Outcome

PACKAGES = ("bnrates", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "scikit-learn", "jupyter-book",
            "papermill")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages the results depend on (``"missing"`` if absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def commit() -> str:
    """The git commit of the code that ran (``+dirty`` if the work tree differs), or ``"unknown"``."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def run_metadata(parameters: Mapping[str, object]) -> dict[str, object]:
    """Parameters plus the environment: versions, Python, machine and commit."""
    return {
        "parameters": dict(parameters),
        "packages": package_versions(),
        "python": platform.python_version(),
        "machine": {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "commit": commit(),
    }


def write_atomically(folder: Path, files: Mapping[str, str]) -> None:
    """Replace ``folder`` by a folder holding exactly ``files`` (name -> text), all or nothing.

    The files are written into a temporary sibling, which is then renamed into place; the old
    folder is removed only after the new one is complete. On any error the old folder is left
    as it was and the temporary one is removed.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        for name, text in files.items():
            (tmp / name).write_text(text)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
    except BaseException:
        if old.exists() and not folder.exists():
            old.rename(folder)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def save_chapter(
    results_dir: str | Path,
    chapter: str,
    outcomes: Mapping[str, Outcome],
    parameters: Mapping[str, object],
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write a chapter's claims, the tables behind its figures and the run's metadata.

    Parameters
    ----------
    results_dir
        Root of the results (``data/results`` for the published, full-profile book).
    chapter
        Chapter name; the folder is ``results_dir / chapter``.
    outcomes
        The chapter's claim outcomes; each claim's own table (``evidence.data``) is saved as
        ``<claim id>.csv``.
    parameters
        The chapter's parameters (profile, seed, ...).
    tables
        Further named tables, typically those behind figures that are not a claim's data.

    Returns
    -------
    Path
        The chapter's results folder.
    """
    files = {
        "claims.json": json.dumps({**run_metadata(parameters), "chapter": chapter,
                                   "claims": [o.record() for o in outcomes.values()]}, indent=1) + "\n",
    }
    for claim_id, outcome in outcomes.items():
        if outcome.evidence.data is not None:
            files[f"{claim_id}.csv"] = outcome.evidence.data.to_csv(index=False)
    for name, table in (tables or {}).items():
        files[f"{name}.csv"] = table.to_csv(index=False)
    folder = Path(results_dir) / chapter
    write_atomically(folder, files)
    return folder


def load_claims(results_dir: str | Path) -> pd.DataFrame:
    """Every saved claim record under ``results_dir``, one row per claim, with its chapter's commit."""
    rows = []
    for path in sorted(Path(results_dir).glob("*/claims.json")):
        saved = json.loads(path.read_text())
        rows += [{**record, "commit": saved["commit"], "profile": saved["parameters"].get("profile")}
                 for record in saved["claims"]]
    return pd.DataFrame(rows)

