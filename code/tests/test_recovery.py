"""Kill anywhere, recover next time: a tiny book with fast chapters, killed with SIGKILL at several points.

After every kill (or failure, or damage) the next plain build must succeed without ``--force``,
leave no staging or half-swapped folders, and its HTML, results and cache records must come
from one build: the seed glued into the page is the seed in the results.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from conftest import CHAPTER_HEADER, ROOT, build

from bnrates.book import provenance
from bnrates.book.cache import stale_reason
from bnrates.book.toc import copy_book, read_toc

PARAMETERS = """```{code-cell} ipython3
:tags: [parameters]

profile = "full"  # one of quick, full: set by the pipeline
seed = 0  # in [0, 4294967295]: base seed
results_dir = "../_build/results/interactive"  # a folder: set by the pipeline
"""
"""The parameters cell both tiny chapters open with (each adds its own parameter and closes it)."""

TINY = (
    CHAPTER_HEADER
    + "\n# Tiny\n\n"
    + PARAMETERS
    + """\
pause = 0.0  # in [0, 60]: seconds to wait (a test kills the build meanwhile)
```

```{code-cell} ipython3
import time

import pandas as pd
from myst_nb import glue

from bnrates.book import provenance
from bnrates.book.cache import stale_reason
from bnrates.book.toc import read_toc
from bnrates.claims.core import Claim, Evidence, run_claim

time.sleep(pause)
claim = Claim("tiny.x", "tiny", "a tiny claim", "<=", 0.0, lambda p, s: Evidence(float(s), 1e10))
provenance.save_chapter(results_dir, "tiny", {claim.id: run_claim(claim, profile, seed)},
                        {"profile": profile, "seed": seed}, tables={"t": pd.DataFrame({"seed": [seed]})})
glue("seed", seed, display=False)
```

Seed **{glue:text}`seed`**.
"""
)

LATER = (
    CHAPTER_HEADER
    + "\n# Later\n\n"
    + PARAMETERS
    + """\
fail = 0  # in [0, 1]: 1 makes this chapter raise
```

```{code-cell} ipython3
if fail:
    raise RuntimeError("the later chapter fails")
```
"""
)

TOC = "format: jb-book\nroot: index\nchapters:\n  - file: chapters/tiny\n  - file: chapters/later\n"


def make_tiny_book(root: Path) -> Path:
    copy_book(ROOT, root, pages=())  # the configuration and the package; the pages are these
    (root / "_toc.yml").write_text(TOC)
    (root / "index.md").write_text("# A tiny book\n\nFor the recovery tests.\n")
    (root / "chapters").mkdir()
    (root / "chapters" / "tiny.md").write_text(TINY)
    (root / "chapters" / "later.md").write_text(LATER)
    return root


@pytest.fixture(scope="module")
def tiny_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tiny_book(tmp_path_factory.mktemp("tiny") / "book")
    result = build(root, "--profile", "quick")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def tiny(tiny_built: Path, tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(tiny_built, root, symlinks=True)
    return root


def _command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "bnrates.book", "build", "--root", str(root), "--profile", "quick", *args]


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(root, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _kill_when(process: subprocess.Popen[str], ready, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the build never reached the point to kill it at"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    process.communicate()


def _executed(stdout: str) -> set[str]:
    return set(re.findall(r"\] (\w+) +executed in", stdout))


def assert_consistent(root: Path, seed: int = 0) -> None:
    """No leftovers; the page, the results and the cache record are all of one build with ``seed``."""
    build_dir = root / "_build"
    leftovers = [
        p.name for p in build_dir.rglob("*") if p.name.startswith(".stage") or ".old" in p.name or ".tmp" in p.name
    ]
    assert leftovers == []
    results = build_dir / "results" / "quick"
    assert provenance.manifest_problems(results / "tiny") == []
    saved = json.loads((results / "tiny" / "claims.json").read_text())
    assert saved["parameters"]["seed"] == seed
    page = (build_dir / "html" / "chapters" / "tiny.html").read_text()
    assert re.search(rf'Seed <strong><span class="pasted-text">{seed}</span>', page), page[-3000:]
    record = nbformat.read(build_dir / "executed" / "quick" / "tiny.ipynb", as_version=4).metadata["bnrates"]
    assert record["results"] == provenance.manifest_digest(results / "tiny")


def _rebuild(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = build(root, "--profile", "quick", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_tiny_book_builds_consistently_and_twice_identically(tiny: Path) -> None:
    assert_consistent(tiny)
    again = _rebuild(tiny)
    assert _executed(again.stdout) == set()
    assert_consistent(tiny)


def test_sigkill_during_execution_then_a_plain_build_recovers(tiny: Path) -> None:
    before = (tiny / "_build" / "html" / "chapters" / "tiny.html").read_text()
    process = _start(tiny, "-p", "tiny", "pause", "30", "-p", "tiny", "seed", "7")
    stage = tiny / "_build" / ".stage"
    _kill_when(process, lambda: (stage / "src" / "chapters").is_dir() and time.sleep(2.0) is None)
    assert (tiny / "_build" / "html" / "chapters" / "tiny.html").read_text() == before  # nothing committed
    result = _rebuild(tiny)
    assert "removed the stage of an interrupted build" in result.stdout
    assert_consistent(tiny)


def test_sigkill_during_the_render_then_a_plain_build_recovers(tiny: Path) -> None:
    process = _start(tiny, "-p", "tiny", "seed", "5")
    _kill_when(process, lambda: (tiny / "_build" / ".stage" / "out").is_dir())
    saved = json.loads((tiny / "_build" / "results" / "quick" / "tiny" / "claims.json").read_text())
    assert saved["parameters"]["seed"] == 0  # the killed build's results were not committed
    _rebuild(tiny)
    assert_consistent(tiny)


KILL_DURING_SWAP = textwrap.dedent("""
    import os, signal, sys
    from bnrates.book import transaction
    from bnrates.book.__main__ import main
    swap, calls = transaction.swap, []
    def dying_swap(new, final):
        calls.append(final)
        if len(calls) == {n}:
            if final.exists():
                final.rename(final.with_name(final.name + ".old"))
            os.kill(os.getpid(), signal.SIGKILL)
        swap(new, final)
    transaction.swap = dying_swap
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("n", [1])  # 1: the results swap; the journal makes 2 and 3 alike
def test_sigkill_in_the_middle_of_the_commit_is_completed_by_the_next_build(tiny: Path, n: int) -> None:
    command = [
        sys.executable,
        "-c",
        KILL_DURING_SWAP.format(n=n),
        "build",
        "--root",
        str(tiny),
        "--profile",
        "quick",
        "-p",
        "tiny",
        "seed",
        "9",
    ]
    killed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (tiny / "_build" / ".stage" / "COMMIT").is_file()
    result = _rebuild(tiny, "-p", "tiny", "seed", "9")
    assert "completed the commit of a build that was interrupted" in result.stdout
    assert _executed(result.stdout) == set()  # the killed build's work is kept, not redone
    assert_consistent(tiny, seed=9)


def test_two_builds_at_once_do_not_interleave(tiny: Path) -> None:
    first = _start(tiny, "-p", "tiny", "pause", "4")
    stage = tiny / "_build" / ".stage"
    deadline = time.monotonic() + 60
    while not stage.is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = _start(tiny, "-p", "tiny", "pause", "4")
    outputs = [p.communicate() for p in (first, second)]
    assert first.returncode == second.returncode == 0, outputs
    assert "another build of this book is running" in outputs[1][0]
    assert _executed(outputs[0][0]) == {"tiny"} and _executed(outputs[1][0]) == set()
    _rebuild(tiny, "-p", "tiny", "pause", "4")
    assert_consistent(tiny)


def test_a_failed_override_build_leaves_the_books_results(tiny: Path) -> None:
    failed = build(tiny, "--profile", "quick", "-p", "tiny", "seed", "4", "-p", "later", "fail", "1")
    assert failed.returncode == 1 and "the later chapter fails" in failed.stderr
    result = _rebuild(tiny)
    assert _executed(result.stdout) == set()
    assert_consistent(tiny, seed=0)


def _reason(root: Path) -> str | None:
    chapter = next(c for c in read_toc(root) if c.name == "tiny")
    cached = root / "_build" / "executed" / "quick" / "tiny.ipynb"
    parameters = nbformat.read(cached, as_version=4).metadata["papermill"]["parameters"]
    return stale_reason(root, chapter, parameters, cached, root / "_build" / "results" / "quick")


def test_damaged_results_and_cache_records_make_the_chapter_stale(tiny: Path) -> None:
    assert _reason(tiny) is None
    csv = tiny / "_build" / "results" / "quick" / "tiny" / "t.csv"
    csv.write_text(csv.read_text() + "1\n")
    assert _reason(tiny) == "results damaged: tiny/t.csv damaged (its content does not match the manifest)"
    csv.unlink()
    assert _reason(tiny) == "results damaged: tiny/t.csv missing"
    cached = tiny / "_build" / "executed" / "quick" / "tiny.ipynb"
    good = cached.read_bytes()
    nb = nbformat.read(cached, as_version=4)
    nb.metadata["bnrates"]["inputs"] = ["a", "list"]
    nbformat.write(nb, cached)
    chapter = next(c for c in read_toc(tiny) if c.name == "tiny")
    for damaged in (good[:200], b"this is not a notebook", nbformat.writes(nb).encode()):
        cached.write_bytes(damaged)
        assert stale_reason(tiny, chapter, {}, cached).startswith("cache record unreadable")


def test_the_next_build_repairs_damaged_results_a_corrupt_cache_and_a_half_swapped_folder(tiny: Path) -> None:
    results = tiny / "_build" / "results" / "quick"
    (results / "tiny" / "t.csv").unlink()
    (results / "tiny").rename(results / ".tiny.old-12345")
    (results / ".later.tmp-12345").mkdir()
    cached = tiny / "_build" / "executed" / "quick" / "tiny.ipynb"
    cached.write_bytes(cached.read_bytes()[:200])
    result = _rebuild(tiny)
    assert _executed(result.stdout) == {"tiny"}
    assert "cache record unreadable" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert_consistent(tiny)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _repo(root: Path) -> None:
    shutil.copy2(ROOT / ".gitignore", root / ".gitignore")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "the tiny book")


def test_a_readers_build_leaves_the_tracked_tree_clean(tiny: Path) -> None:
    _repo(tiny)
    result = build(tiny, "--profile", "full", "-p", "tiny", "seed", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _git(tiny, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (tiny / "data" / "results").exists()  # the book's own data (the sabotage record) is copied
    assert (tiny / "_build" / "results" / "full" / "tiny" / "claims.json").is_file()


def _results(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bnrates.book", "results", "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_make_results_refuses_without_a_clean_commit(tiny: Path) -> None:
    outside = _results(tiny)
    assert outside.returncode == 1 and "not a git work tree" in outside.stderr
    _repo(tiny)
    (tiny / "index.md").write_text("# changed\n")
    dirty = _results(tiny)
    assert dirty.returncode == 1 and "modified (git status)" in dirty.stderr
    assert "Traceback" not in dirty.stderr and not (tiny / "data" / "results").exists()


def test_exported_results_keep_no_volatile_fields_and_name_a_clean_commit(tmp_path: Path) -> None:
    record = {
        "parameters": {"profile": "full", "seed": 0},
        "machine": {"cpus": 2},
        "commit": "abc123",
        "claims": [{"id": "tiny.x", "observed": 0.0, "seconds": 0.25}],
    }
    source = tmp_path / "source"
    provenance.write_atomically(source / "tiny", {"claims.json": json.dumps(record), "t.csv": "seed\n0\n"})
    (source / "execution.json").write_text("{}")
    (source / "errata.csv").write_text("id\nols-step\n")
    target = tmp_path / "data" / "results"
    (target / "gone").mkdir(parents=True)
    (target / "old.csv").write_text("stale\n")
    assert provenance.export_results(source, target) == ["tiny"]
    assert sorted(p.name for p in target.iterdir()) == ["errata.csv", "tiny"]
    assert (target / "errata.csv").read_text() == "id\nols-step\n"
    exported = json.loads((target / "tiny" / "claims.json").read_text())
    assert "machine" not in exported and "seconds" not in exported["claims"][0]
    assert exported["commit"] == "abc123" and (target / "tiny" / "t.csv").read_text() == "seed\n0\n"
    assert provenance.manifest_problems(target / "tiny") == []
    provenance.write_atomically(source / "tiny", {"claims.json": json.dumps({**record, "commit": "abc123+dirty"})})
    with pytest.raises(ValueError, match="not a clean commit"):
        provenance.export_results(source, target)
    (source / "tiny" / "claims.json").write_text("{}")
    with pytest.raises(ValueError, match=r"tiny/claims\.json damaged"):
        provenance.export_results(source, target)


def test_plain_jupyter_book_build_stops_at_once_naming_make_book(tmp_path: Path) -> None:
    root = make_tiny_book(tmp_path / "book")
    jupyter_book = str(Path(sys.executable).with_name("jupyter-book"))
    result = subprocess.run([jupyter_book, "build", str(root)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "make book" in result.stdout + result.stderr
    assert not (root / "_build" / "html" / "chapters" / "tiny.html").exists()
