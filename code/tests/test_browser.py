"""The built book in headless Chromium: console, math, images, links and search (see bnrates.browsercheck)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bnrates.browsercheck import DEFAULT_CHROMIUM, check_site, format_problems, html_pages


def chapter_pages(root: Path) -> set[str]:
    """The chapter pages the book at ``root`` must have (one per chapter source of that copy)."""
    return {f"chapters/{source.stem}.html" for source in (root / "chapters").glob("*.md")}


def require_chromium() -> None:
    """Fail (never skip): CI installs Debian's chromium, and a missing browser must not pass silently."""
    if not DEFAULT_CHROMIUM.is_file():
        pytest.fail(f"chromium not found at {DEFAULT_CHROMIUM}: install Debian's chromium package "
                    "(apt-get install chromium)", pytrace=False)


def test_every_page_is_clean_in_the_browser(built: Path) -> None:
    require_chromium()
    html = built / "_build" / "html"
    results = check_site(html)
    expected = {"index.html", "search.html?q=Rayleigh", *chapter_pages(built)}
    assert expected <= set(results), f"pages not checked: {sorted(expected - set(results))}"
    report = format_problems(results)
    assert not report, f"{sum(map(bool, results.values()))} of {len(results)} pages have problems:\n{report}"


def broken_copy(html: Path, target: Path) -> str:
    """A copy of the built site (linked, not copied) where one page has planted faults; returns that page."""
    for entry in html.iterdir():
        if entry.name != "chapters":
            os.symlink(entry, target / entry.name)
    (target / "chapters").mkdir()
    for entry in (html / "chapters").iterdir():
        if entry.name != "ols.html":
            os.symlink(entry, target / "chapters" / entry.name)
    page = (html / "chapters" / "ols.html").read_text(encoding="utf-8")
    page, images = re.subn(r'(<img [^>]*src=")[^"]+(")', r"\1../_images/no-such-image.png\2", page, count=1)
    assert images == 1
    planted = ('<p><a href="no-such-page.html">gone</a> <a href="halfspace.html#no-such-anchor">gone</a> '
               '<span class="math notranslate nohighlight">$x$</span> and raw $y + 1$ in prose.</p>')
    page = page.replace('<article class="bd-article">', '<article class="bd-article">' + planted, 1)
    assert planted in page
    (target / "chapters" / "ols.html").write_text(page, encoding="utf-8")
    return "chapters/ols.html"


def test_checker_reports_planted_faults(built: Path, tmp_path: Path) -> None:
    require_chromium()
    page = broken_copy(built / "_build" / "html", tmp_path)
    problems = check_site(tmp_path, search_term=None, pages=[page])[page]
    report = "\n".join(problems)
    for expected in ("image did not load: ../_images/no-such-image.png",
                     "HTTP 404 for _images/no-such-image.png",
                     "broken link 'no-such-page.html': chapters/no-such-page.html does not exist",
                     "broken link 'halfspace.html#no-such-anchor': no id 'no-such-anchor' in chapters/halfspace.html",
                     'math not typeset: "$x$"',
                     'raw TeX in text: "$y + 1$"'):
        assert expected in problems, f"{expected!r} not reported; got:\n{report}"


def test_missing_chromium_is_a_clear_error(built: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"chromium not found at .*install Debian's chromium package"):
        check_site(built / "_build" / "html", chromium=tmp_path / "chromium")


def test_pages_include_title_and_chapters_not_search(built: Path) -> None:
    pages = html_pages(built / "_build" / "html")
    assert "index.html" in pages and "search.html" not in pages
    assert chapter_pages(built) <= set(pages)
    assert not any(page.startswith(("_static/", "_sources/")) for page in pages)


def test_inline_scripts_named_none_and_empty_are_one_script() -> None:
    from sphinx.builders.html._assets import _JavaScript

    from bnrates.sphinxext import unique_scripts

    a, b = _JavaScript(None, body="const X = 1"), _JavaScript("", body="const X = 1")
    c = _JavaScript("", body="const Y = 2")
    assert a != b  # Sphinx 7 does not see the repeat
    assert unique_scripts([a, c, b]) == [a, c]
