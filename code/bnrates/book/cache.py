"""The build cache: what an executed chapter depends on, as content hashes, and why a cached one is stale.

A chapter whose inputs (source, parameters, pinned packages, declared data, the ``bnrates``
files it imported) are unchanged since its last execution, and whose results folder is the one
it wrote, is not executed again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat

from . import provenance
from .toc import Chapter


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(folder: Path) -> str:
    """Content hash of every file below ``folder`` (names and bytes, in sorted order)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _path_digest(path: Path) -> str | None:
    """Digest of a file or of a whole folder, ``None`` if it does not exist."""
    if path.is_dir():
        return tree_digest(path)
    return _digest(path.read_bytes()) if path.is_file() else None


def chapter_inputs(root: Path, chapter: Chapter, parameters: dict[str, object], modules: list[str]) -> dict:
    """What a chapter's executed notebook depends on, as content hashes.

    ``source`` (the chapter file), ``parameters`` (profile and overrides), ``environment`` (the
    pinned package set, which also fixes the datasets packages ship), ``data`` (the files the
    chapter declares it reads) and one hash per imported ``bnrates`` module file (``None`` if
    the file no longer exists).
    """
    constraints = root / "code" / "constraints.txt"
    return {
        "source": _digest((root / chapter.path).read_bytes()),
        "parameters": _digest(json.dumps(parameters, sort_keys=True, default=str).encode()),
        "environment": _digest(constraints.read_bytes()) if constraints.is_file() else None,
        "data": _digest(json.dumps({r: _path_digest(root / r) for r in chapter.reads}).encode()),
        "modules": {m: _digest(Path(m).read_bytes()) if Path(m).is_file() else None for m in sorted(modules)},
    }


def stale_reason(
    root: Path, chapter: Chapter, parameters: dict[str, object], cached: Path, results: Path | None = None
) -> str | None:
    """Why the cached notebook of ``chapter`` is out of date, or ``None`` if it is current.

    An unreadable or malformed cache record is out of date (never an error). With ``results``
    (the committed results root), the chapter's results folder must be the one its record names
    and match its manifest: a missing or damaged file makes the chapter stale.
    """
    if not cached.is_file():
        return "not executed before"
    try:
        record = nbformat.read(cached, as_version=4).metadata.get("bnrates", {})
        recorded = record.get("inputs")
        if not recorded:
            return "no record of its inputs"
        now = chapter_inputs(root, chapter, parameters, list(recorded["modules"]))
        float(record["seconds"])
    except Exception as err:  # a truncated notebook or a record of the wrong shape: execute it again
        return f"cache record unreadable ({type(err).__name__})"
    for key in ("source", "parameters", "environment", "data"):
        if now[key] != recorded.get(key):
            return f"{key} changed"
    changed = [Path(m).name for m, h in now["modules"].items() if h != recorded["modules"][m]]
    if changed:
        return f"code changed: {', '.join(changed)}"
    if results is not None and record.get("results") is not None:
        folder = results / chapter.name
        problems = provenance.manifest_problems(folder)
        if problems:
            return f"results damaged: {problems[0]}"
        if provenance.manifest_digest(folder) != record["results"]:
            return "results come from another build"
    return None


def record_results(nb: nbformat.NotebookNode, folder: Path) -> None:
    """Tie an executed notebook to the results folder it wrote (the digest of its manifest)."""
    nb.metadata["bnrates"]["results"] = provenance.manifest_digest(folder)
