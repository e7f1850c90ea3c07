"""CONTRIBUTING.md's recipe works as written: its template passes the checks every claim must pass.

The recipe a newcomer copies must work as written, so the template is executed here as a
module of ``bnrates.claims``, exactly as the page shows it, and registered as a chapter: its
claims then meet ``test_sabotage.py``'s rules (a sabotage on every claim, each caught, the label
defined in the chapter). The slow test follows the recipe on a copy of the book, command by command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import CHAPTER_HEADER, copy_book

from bnrates import claims
from bnrates.book import audit
from bnrates.claims.core import run_claim, run_sabotage

ROOT = Path(__file__).resolve().parents[2]
NAME = "bnrates.claims.example"
CHAPTER = f"""{CHAPTER_HEADER}
# A worked example

The recipe of CONTRIBUTING.md, followed to the letter.

```{{code-cell}} ipython3
:tags: [parameters]

profile = "full"  # one of quick, full: set by the pipeline (--profile)
seed = 0  # in [0, 4294967295]: base seed of every random stream
results_dir = "../_build/results/interactive"  # a folder: where results are saved, set by the pipeline
```

```{{code-cell}} ipython3
from bnrates import plotting
from bnrates.book.chapter import open_chapter

page = open_chapter("example", profile=profile, seed=seed, results_dir=results_dir)
```

````{{prf:theorem}} The rate
:label: thm-example

Rayleigh gradient descent contracts the gap by ``(1 - mu/L)^2``; observed
{{glue:text}}`example.rate:.3g`.
````

## Claims checked in this chapter

```{{code-cell}} ipython3
page.close()
```
"""
"""``chapters/example.md``, as step 3 to 5 of "A new chapter" say."""


def template_source() -> str:
    """The claims module of CONTRIBUTING.md, as the page shows it."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    return next(
        block
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
        if "CLAIMS: tuple[Claim, ...]" in block
    )


@pytest.fixture(scope="module")
def template() -> types.ModuleType:
    source = template_source()
    module = types.ModuleType(NAME)
    module.__package__ = "bnrates.claims"
    sys.modules[NAME] = module
    try:
        exec(compile(source, "CONTRIBUTING.md", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[NAME]


def test_the_template_claim_passes_and_its_negative_control_fails(template: types.ModuleType) -> None:
    claim, control = template.CLAIMS
    assert claim.id == "example.rate" and control.negative_control
    outcome = run_claim(claim, "quick", 0)
    assert outcome.status == "pass", outcome.record()
    assert outcome.evidence.observed <= outcome.evidence.theory * 1.01
    assert run_claim(control, "quick", 0).status == "expected failure"


def test_the_template_sabotage_is_caught(template: types.ModuleType) -> None:
    claim = template.CLAIMS[0]
    for name in claim.sabotages:
        assert run_sabotage(claim, name, "quick", 0).status == "fail"


def test_the_registered_template_meets_the_rules_of_every_claim(
    template: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claims, "CHAPTERS", (*claims.CHAPTERS, "example"))  # what the file on disk would do
    registered = [c for c in claims.registry() if c.chapter == "example"]
    assert registered == list(template.CLAIMS)
    (tmp_path / "example.md").write_text(CHAPTER, encoding="utf-8")
    labels = claims.chapter_labels(tmp_path)
    for claim in registered:
        assert claim.sabotages, f"{claim.id} has no sabotage"
        assert labels.get(claim.label) == "example", claim.label
        for name in claim.sabotages:
            assert run_sabotage(claim, name, "quick", 0).status == "fail", (claim.id, name)


def test_the_template_is_ruff_format_clean(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--stdin-filename", "code/bnrates/claims/example.py"],
        input=template_source(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_template_is_mypy_clean(tmp_path: Path) -> None:
    """``make check`` type-checks ``bnrates.claims``: a module copied from the page must pass as it is."""
    package = tmp_path / "bnrates"
    shutil.copytree(ROOT / "code" / "bnrates", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "claims" / "example.py").write_text(template_source(), encoding="utf-8")
    config = ROOT / "code" / "pyproject.toml"
    command = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / ".mypy_cache")]
    result = subprocess.run(
        [*command, "bnrates/claims/example.py"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _run(book: Path, *command: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(book / "code")}  # the copy's package, not the work tree's
    result = subprocess.run(command, capture_output=True, text=True, cwd=book, env=env, check=False)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_the_recipe_for_a_new_chapter_works_on_a_copy_of_the_book(tmp_path: Path) -> None:
    """Steps 1 to 5 and 8 of "A new chapter", then its commands: the check, the audit, the sabotages, a quick build."""
    book = copy_book(tmp_path / "book")
    for name in ("CONTRIBUTING.md", "README.md", "Makefile", "code/pyproject.toml"):
        (book / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(ROOT / "data", book / "data", dirs_exist_ok=True)  # the copy's package reads its own data/
    toc = (book / "_toc.yml").read_text(encoding="utf-8")
    (book / "_toc.yml").write_text(
        toc.replace("      - file: chapters/ols\n", "      - file: chapters/ols\n      - file: chapters/example\n")
    )
    (book / "code/bnrates/claims/example.py").write_text(template_source(), encoding="utf-8")
    (book / "chapters/example.md").write_text(CHAPTER, encoding="utf-8")
    python = sys.executable
    _run(book, python, "-m", "ruff", "check", "code")  # make check's lint steps; its tests are this suite
    _run(book, python, "-m", "ruff", "format", "--check", "code")
    ids = _run(book, python, "-c", "from bnrates import claims; print(*(c.id for c in claims.registry()))").split()
    assert {"example.rate", "example.rate_negative_control"} <= set(ids)
    audit_page = [python, "-m", "bnrates.book", "audit", "--root", str(book), "--page", "example"]
    env = {**os.environ, "PYTHONPATH": str(book / "code")}
    untagged = subprocess.run([*audit_page, "--update"], capture_output=True, text=True, env=env, check=False)
    assert untagged.returncode == 1 and "example:" in untagged.stderr and "not audited yet" in untagged.stderr
    table = book / audit.AUDIT_DIR / "example.csv"
    tagged = [replace(r, tag="D", claims=("example.rate",)) for r in audit.read_table(table)]
    table.write_text(audit.format_table(tagged), encoding="utf-8")
    _run(book, *audit_page)
    venv = Path(sys.prefix)  # make in the copy, with this environment (its stamp taken as up to date)
    _run(book, "make", "sabotage", "SABOTAGE=example.", f"VENV={venv}", "-o", str(venv / ".installed"))
    before = pd.read_csv(ROOT / "data/sabotage/sabotage.csv", keep_default_na=False)
    after = pd.read_csv(book / "data/sabotage/sabotage.csv", keep_default_na=False)
    assert list(after["id"]) == ids
    pd.testing.assert_frame_equal(
        after[~after["id"].str.startswith("example.")].reset_index(drop=True), before.reset_index(drop=True)
    )
    assert (after["caught"] == after["sabotages"]).all()
    _run(book, python, "-m", "bnrates.book", "build", "--root", str(book), "--profile", "quick", "--jobs", "1")
    assert (book / "_build/html/chapters/example.html").is_file()
