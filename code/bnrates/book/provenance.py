"""Results with provenance: what each chapter computed, written so it can be trusted and replotted.

Each chapter saves, under ``<results_dir>/<chapter>/``:

* ``claims.json`` -- every claim's record (observed, theory, relation, tolerance, status) and
  the run's metadata: parameters, seed, profile, package versions, Python, machine, commit;
* one CSV per table behind a figure or a claim;
* ``manifest.json`` -- every other file of the folder with its SHA-256, so a missing or damaged
  file is noticed (:func:`manifest_problems`) by the build and by ``verify --against``.

A chapter's folder is written as a whole into a temporary sibling and then renamed into place,
so an interrupted build never leaves a half-written result. A build writes its results under
``_build/results/<profile>``; ``python -m bnrates.book results`` (``make results``) exports the
full profile's to ``data/results`` (:func:`export_results`), without the volatile fields, from a
clean work tree only, so the committed results name a real commit.
``python -m bnrates verify --against data/results`` compares a new run with them.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from pathlib import Path

import pandas as pd

from ..claims.core import Outcome

PACKAGES = ("bnrates", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "scikit-learn", "jupyter-book", "papermill")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages the results depend on (``"missing"`` if absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def commit(where: Path | None = None) -> str:
    """The git commit of the work tree at ``where`` (default: this package's), ``+dirty`` if it has
    changes to tracked files, or ``"unknown"`` outside a git work tree."""
    here = Path(__file__).resolve().parent if where is None else Path(where)
    try:
        head = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
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


MANIFEST = "manifest.json"
VOLATILE = ("machine",)
"""Fields of ``claims.json`` that describe the run, not the result: kept out of ``data/results``."""
VOLATILE_CLAIM = ("seconds",)
"""Fields of each claim record that describe the run (timings): kept out of ``data/results``."""
VOLATILE_FILES = ("execution.json",)
"""Files beside the chapter folders that describe the run (timings): kept out of ``data/results``."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: Mapping[str, str]) -> str:
    """The manifest of a folder holding ``files`` (name -> text): ``{"files": {name: sha256}}``."""
    return (
        json.dumps({"files": {name: _sha256(text.encode()) for name, text in sorted(files.items())}}, indent=1) + "\n"
    )


def manifest_problems(folder: Path) -> list[str]:
    """What is wrong with a results folder against its manifest (empty if nothing).

    Each problem is one short phrase naming the file: ``ols/ols.rate.csv missing``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder.name}/ missing"]
    try:
        listed = json.loads((folder / MANIFEST).read_text())["files"]
        if not isinstance(listed, dict):
            raise TypeError(listed)
    except FileNotFoundError:
        return [f"{folder.name}/{MANIFEST} missing"]
    except (ValueError, KeyError, TypeError):
        return [f"{folder.name}/{MANIFEST} unreadable"]
    problems = []
    for name, digest in listed.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{folder.name}/{name} missing")
        elif _sha256(path.read_bytes()) != digest:
            problems.append(f"{folder.name}/{name} damaged (its content does not match the manifest)")
    extra = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST and p.name not in listed)
    problems += [f"{folder.name}/{name} not in the manifest" for name in extra]
    return problems


def manifest_digest(folder: Path) -> str | None:
    """SHA-256 of a results folder's manifest (which hashes every file), ``None`` without one."""
    path = Path(folder) / MANIFEST
    return _sha256(path.read_bytes()) if path.is_file() else None


def write_atomically(folder: Path, files: Mapping[str, str]) -> None:
    """Replace ``folder`` by a folder holding exactly ``files`` (name -> text) and their manifest.

    The files are written into a temporary sibling, which is then renamed into place; the old
    folder is removed only after the new one is complete. On any error the old folder is left
    as it was and the temporary one is removed.
    """
    files = {**files, MANIFEST: manifest_text(files)}
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
        "claims.json": json.dumps(
            {**run_metadata(parameters), "chapter": chapter, "claims": [o.record() for o in outcomes.values()]},
            indent=1,
        )
        + "\n",
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
        rows += [
            {**record, "commit": saved["commit"], "profile": saved["parameters"].get("profile")}
            for record in saved["claims"]
        ]
    return pd.DataFrame(rows)


def export_results(source: Path, target: Path) -> list[str]:
    """Copy the chapters' results from ``source`` to ``target`` without the volatile fields.

    Every chapter folder of ``source`` must match its manifest; ``claims.json`` loses
    :data:`VOLATILE` and each claim's :data:`VOLATILE_CLAIM`, CSV tables are copied as they are,
    a new manifest is written, and each folder replaces its old copy atomically. The book-wide
    tables beside the folders (``errata.csv``) are copied too, except :data:`VOLATILE_FILES`.
    Folders and files of ``target`` that ``source`` does not have are removed. Returns the
    chapters exported.

    Raises
    ------
    ValueError
        If a source folder is damaged or its results come from a modified work tree.
    """
    chapters = sorted(p for p in Path(source).iterdir() if p.is_dir() and not p.name.startswith("."))
    if not chapters:
        raise ValueError(f"no results in {source}")
    for folder in chapters:
        problems = manifest_problems(folder)
        if problems:
            raise ValueError(f"{source}: {'; '.join(problems)}")
        saved = json.loads((folder / "claims.json").read_text())
        if saved.get("commit", "unknown").endswith("+dirty") or saved.get("commit") == "unknown":
            raise ValueError(f"{folder.name}: results computed from commit {saved.get('commit')!r}, not a clean commit")
    for folder in chapters:
        files = {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.name != MANIFEST}
        saved = json.loads(files["claims.json"])
        for key in VOLATILE:
            saved.pop(key, None)
        for record in saved["claims"]:
            for key in VOLATILE_CLAIM:
                record.pop(key, None)
        files["claims.json"] = json.dumps(saved, indent=1) + "\n"
        write_atomically(Path(target) / folder.name, files)
    tables = sorted(
        p for p in Path(source).iterdir() if p.is_file() and not p.name.startswith(".") and p.name not in VOLATILE_FILES
    )
    for table in tables:  # the book-wide tables beside the chapter folders (errata.csv)
        tmp = Path(target) / f".{table.name}.tmp-{os.getpid()}"
        shutil.copyfile(table, tmp)
        tmp.replace(Path(target) / table.name)
    names = {f.name for f in chapters} | {t.name for t in tables}
    for stale in Path(target).iterdir():
        if stale.name not in names:
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
    return sorted(f.name for f in chapters)
