"""Shared fixtures: random instances for the mathematical tests, and the book built once per session."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bnrates.book import toc
from bnrates.problems import ols_instances

# `make mutation` runs each test once per mutant: few, fixed examples (HYPOTHESIS_PROFILE=mutation)
settings.register_profile(
    "mutation", max_examples=10, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

dims = st.integers(min_value=1, max_value=12)
kappas = st.sampled_from([1.0, 2.0, 10.0, 100.0, 1000.0])
seeds = st.integers(min_value=0, max_value=10_000)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def random_point(d: int, seed: int, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A random direction ``w`` (shape ``(batch, d)``) and length ``g`` (shape ``(batch,)``)."""
    r = np.random.default_rng([seed, 99])
    return r.standard_normal((batch, d)), r.uniform(0.3, 3.0, batch) * r.choice([-1.0, 1.0], batch)


# --- the book, built once per test session (quick profile, private copy) ---

ROOT = Path(__file__).resolve().parents[2]


def copy_book(target: Path) -> Path:
    """A private copy of the book sources (so tests never touch the working tree's _build)."""
    return toc.copy_book(ROOT, target)


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bnrates.book", "build", "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def chapter_names() -> list[str]:
    return [p.stem for p in (ROOT / "chapters").glob("*.md")]


CHAPTER_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""
"""The front matter of an executable chapter (a MyST text notebook), for the tests' own chapters."""


BUILT_ARGS = ("--profile", "quick", "-p", "reparametrization", "seed", "3")
"""How the session's book is built; a rebuild with the same arguments has nothing to execute."""


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_book(tmp_path_factory.mktemp("book"))
    result = build(root, *BUILT_ARGS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\[1/\d+\] reparametrization +executed in +[\d.]+ s", result.stdout)
    assert "_build/html/index.html" in result.stdout
    return root


BOOK_FIXTURES = frozenset({"built", "pdf_book", "student_book", "repo", "tiny_built", "tiny", "lab"})
"""Fixtures that build a book (the session's quick build, its PDF, the student edition) or start JupyterLab."""


HEAVY_FILES = frozenset(
    {"test_claims", "test_sabotage", "test_seeds", "test_errata", "test_verify", "test_benchopt", "test_sweeps"}
)
"""Test files that run whole claims (every claim, each under every sabotage, at other seeds), sweeps on
process pools and Dask clusters, or benchopt: seconds each, minutes in all."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``book`` every test that uses a book-building fixture, ``heavy`` those of :data:`HEAVY_FILES`.

    ``make check`` leaves both out; ``make test`` (CI) runs them.
    """
    for item in items:
        if BOOK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.book)
        if item.path.stem in HEAVY_FILES:
            item.add_marker(pytest.mark.heavy)


__all__ = [
    "BUILT_ARGS",
    "CHAPTER_HEADER",
    "ROOT",
    "build",
    "chapter_names",
    "copy_book",
    "dims",
    "kappas",
    "ols_instances",
    "random_point",
    "seeds",
]
