"""Chapter parameters: declared with their ranges, and every bad value refused before any kernel starts."""

from __future__ import annotations

import math
from pathlib import Path

import papermill
import pytest
from conftest import ROOT, copy_book

from bnrates.book import build, execute, toc
from bnrates.book.parameters import SEED_MAX, ParameterError, declarations, declare

BAD_TEXTS = (
    "'abc'",
    "[1, 2]",
    "-5",
    "-1",
    "0",
    "0.5",
    "1e999",
    "-1e999",
    "nan",
    "inf",
    "",
    " ",
    "1" + "0" * 400,
    "1e12",
    str(2**64),
    "True",
    "None",
    "/etc/passwd",
    "../data/results",
    "{'a': 1}",
    "(",
    "3+4j",
)


def _in_range(declaration, text: str) -> bool:
    """An independent judgement of whether ``text`` is an allowed value of ``declaration``."""
    value = execute.parse_value(text)
    if isinstance(value, bool):
        return False
    if declaration.kind == "int":
        return isinstance(value, int) and declaration.low <= value <= declaration.high
    return isinstance(value, (int, float)) and declaration.low <= value <= declaration.high


def test_every_chapter_declares_every_parameter_with_a_bound() -> None:
    chapters = [c for c in toc.read_toc(ROOT) if c.notebook]
    assert chapters
    for chapter in chapters:
        declared = execute.parameter_declarations(chapter, ROOT)
        assert set(declared) >= {"profile", "seed", "results_dir"}, chapter.name
        assert declared["seed"].low == 0 and declared["seed"].high == SEED_MAX, chapter.name
        for d in declared.values():
            assert d.kind in ("int", "real", "choice", "folder"), (chapter.name, d)
            if d.kind in ("int", "real"):
                assert d.high is not None and math.isfinite(d.high), (chapter.name, d.name)


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []

    def forbidden(*args: object, **kwargs: object) -> None:
        started.append("kernel")
        raise AssertionError("a kernel started")

    monkeypatch.setattr(papermill, "execute_notebook", forbidden)
    return started


@pytest.mark.slow
def test_fuzz_every_chapter_parameter_is_refused_before_any_kernel(tmp_path: Path, no_kernel: list[str]) -> None:
    root = copy_book(tmp_path)
    tried = 0
    for chapter in (c for c in toc.read_toc(root) if c.notebook):
        for name, declaration in execute.parameter_declarations(chapter, root).items():
            if name in execute.PIPELINE_PARAMETERS:
                continue
            for text in BAD_TEXTS:
                if _in_range(declaration, text):
                    continue
                with pytest.raises(toc.BookError) as err:
                    build.build(root, "quick", overrides=[(chapter.name, name, text)], log=lambda _: None)
                message = str(err.value)
                assert declaration.describe() in message, (chapter.name, name, text, message)
                assert "\n" not in message
                tried += 1
    assert tried >= 6 * 15
    assert no_kernel == []
    assert not (root / "_build").exists()


def test_in_range_values_are_accepted_and_kappa_becomes_float(tmp_path: Path) -> None:
    root = copy_book(tmp_path)
    chapters = toc.read_toc(root)
    checked = execute.check_overrides(chapters, root, [("ols", "kappa_demo", "400"), ("ols", "seed", str(SEED_MAX))])
    assert checked == {"ols": {"kappa_demo": 400.0, "seed": SEED_MAX}}
    assert isinstance(checked["ols"]["kappa_demo"], float)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0, 1.0, 1e5, "50", None, True])
def test_a_real_declaration_refuses_with_its_range(value: object) -> None:
    d = declare("kappa_demo", 50.0, " in [2, 10000]: demo")
    with pytest.raises(ParameterError, match=r"kappa_demo must be a finite number in \[2, 10000\]"):
        d.check(value)


def test_declarations_parse_the_trailing_comments() -> None:
    found = declarations(
        'profile = "full"  # one of quick, full: set\nseed = 0  # in [0, 9]: base seed\n'
        'results_dir = "x"  # a folder: out\n'
    )
    assert found["profile"].choices == ("quick", "full")
    assert (found["seed"].kind, found["seed"].low, found["seed"].high, found["seed"].note) == ("int", 0, 9, "base seed")
    assert found["results_dir"].kind == "folder"
    with pytest.raises(ParameterError, match="declares no range"):
        declarations("n = 3\n")
    with pytest.raises(ParameterError, match="must be an integer in"):
        declarations("n = 30  # in [0, 9]: default outside its own range\n")
