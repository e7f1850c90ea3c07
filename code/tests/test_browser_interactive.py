"""The book's interactive parts in headless Chromium: collapsed blocks opened (see bnrates.book.interactivecheck)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from test_browser import require_chromium

from bnrates.book.browsercheck import format_problems
from bnrates.book.interactivecheck import check_collapsed, check_explorers, raw_tex_in_text

CHAPTERS_WITH_SOLUTIONS = ("reparametrization", "ols", "halfspace", "mlp", "experiments")


def assert_every_chapter_found(
    results: dict[str, tuple[Any, list[str]]], chapters: Sequence[str], enough: Callable[[Any], bool], what: str
) -> None:
    """Each of ``chapters`` has ``enough`` of what the check found (``what`` says it), and no page has a problem."""
    for chapter in chapters:
        found, _ = results[f"chapters/{chapter}.html"]
        assert enough(found), f"{what} in {chapter}: {found!r}"
    report = format_problems({page: problems for page, (_, problems) in results.items()})
    assert not report, report


def test_every_collapsed_block_opens_with_its_math_typeset(built: Path) -> None:
    require_chromium()
    assert_every_chapter_found(
        check_collapsed(built / "_build" / "html"),
        CHAPTERS_WITH_SOLUTIONS,
        lambda opened: opened >= 3,
        "fewer than 3 collapsed blocks (solutions and the exercise code) opened",
    )


def planted_copy(html: Path, target: Path, page: str, old: str, new: str) -> None:
    """A copy of the built site (linked) where ``old`` is replaced by ``new`` in one page."""
    for entry in html.rglob("*"):
        rel = entry.relative_to(html)
        if entry.is_dir():
            (target / rel).mkdir(parents=True, exist_ok=True)
        elif rel.as_posix() != page:
            os.symlink(entry, target / rel)
    text = (html / page).read_text(encoding="utf-8")
    assert old in text
    (target / page).write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_check_sees_math_split_into_a_list_item(built: Path, tmp_path: Path) -> None:
    """The rendering of the old OLS solution bug, planted inside the collapsed solution, is reported."""
    require_chromium()
    planted = (
        '<p>Expanding the square, with <span class="math notranslate nohighlight">\\(S w^* = u\\)</span>,</p>'
        "<p>$\\norm{c w - w^*}_S^2 = c^2 \\norm{w}_S^2</p><ul><li><p>2 c, u^\\top w + u^\\top S^{-1} u$.</p>"
        '</li></ul><div class="toggle-hidden">never opened</div>'
    )
    planted_copy(
        built / "_build" / "html",
        tmp_path,
        "chapters/ols.html",
        '<p>Expanding the square, with <span class="math notranslate nohighlight">\\(S w^* = u\\)</span>,</p>',
        planted,
    )
    opened, problems = check_collapsed(tmp_path, pages=["chapters/ols.html"])["chapters/ols.html"]
    report = "\n".join(problems)
    assert opened >= 4, report  # the planted block too
    assert any('raw TeX "$" in "$\\\\norm{c w' in p for p in problems), report
    assert any('raw TeX "^\\\\top"' in p for p in problems), report
    assert any("still hidden after opening" in p for p in problems), report


def test_raw_tex_in_text_finds_the_three_symptoms() -> None:
    assert raw_tex_in_text("fine: ‖w‖_S and w⊤ and 5 %") == []
    found = raw_tex_in_text("a $x$ b \\norm{w} c u^\\top w", context=0)
    assert found == ["$", "$", "\\norm", "^\\top"]


EXPLORER_CHAPTERS = ("reparametrization", "ols", "halfspace", "mlp", "experiments")


def test_every_explorer_slider_moves_its_curve_and_theory_line(built: Path) -> None:
    require_chromium()
    assert_every_chapter_found(check_explorers(built / "_build" / "html"), EXPLORER_CHAPTERS, bool, "no explorer moved")


def test_the_explorer_check_sees_a_dead_slider_and_a_request_to_the_network(built: Path, tmp_path: Path) -> None:
    require_chromium()
    html = built / "_build" / "html"
    page = "chapters/ols.html"
    text = (html / page).read_text(encoding="utf-8")
    assert text.count('"method":"update"') >= 2
    planted_copy(html, tmp_path, page, '"method":"update"', '"method":"skip"')
    dead = (tmp_path / page).read_text(encoding="utf-8").replace('"method":"update"', '"method":"skip"')
    dead = dead.replace("</article>", '<img src="http://example.com/tracker.png" alt=""></article>', 1)
    assert dead.count('"displaylogo": false') >= 1 and dead.count('"showSendToCloud": false') >= 1
    dead = dead.replace('"displaylogo": false', '"displaylogo": true').replace(
        '"showSendToCloud": false', '"showSendToCloud": true'
    )
    (tmp_path / page).write_text(dead, encoding="utf-8")
    names, problems = check_explorers(tmp_path, pages=[page])[page]
    report = "\n".join(problems)
    assert names == ["ols-kappa"], report
    assert "explorer ols-kappa: the measured curve did not change with the slider" in problems, report
    assert "explorer ols-kappa: the theory curve did not change with the slider" in problems, report
    assert "request left the machine: http://example.com/tracker.png" in problems, report
    cloud = "explorer ols-kappa: the mode bar offers 'Share chart...', a web service (an offline book should not)"
    assert cloud in problems, report
    assert "explorer ols-kappa: the mode bar shows Plotly's logo, a link to plotly.com" in problems, report
