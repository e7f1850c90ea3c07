"""The built book in headless Chromium: console, math, images, links and search (see bnrates.book.browsercheck)."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import pytest

from bnrates.book.browsercheck import (
    DEFAULT_CHROMIUM,
    alt_problems,
    check_reading,
    check_site,
    corner_lightness,
    format_problems,
    html_pages,
)


def chapter_pages(root: Path) -> set[str]:
    """The chapter pages the book at ``root`` must have (one per chapter source of that copy)."""
    return {f"chapters/{source.stem}.html" for source in (root / "chapters").glob("*.md")}


def require_chromium() -> None:
    """Fail (never skip): CI installs Debian's chromium, and a missing browser must not pass silently."""
    if not DEFAULT_CHROMIUM.is_file():
        pytest.fail(
            f"chromium not found at {DEFAULT_CHROMIUM}: install Debian's chromium package (apt-get install chromium)",
            pytrace=False,
        )


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
    planted = (
        '<p><a href="no-such-page.html">gone</a> <a href="halfspace.html#no-such-anchor">gone</a> '
        '<span class="math notranslate nohighlight">$x$</span> and raw $y + 1$ in prose.</p>'
    )
    page = page.replace('<article class="bd-article">', '<article class="bd-article">' + planted, 1)
    assert planted in page
    (target / "chapters" / "ols.html").write_text(page, encoding="utf-8")
    return "chapters/ols.html"


def test_checker_reports_planted_faults(built: Path, tmp_path: Path) -> None:
    require_chromium()
    page = broken_copy(built / "_build" / "html", tmp_path)
    problems = check_site(tmp_path, search_term=None, pages=[page])[page]
    report = "\n".join(problems)
    for expected in (
        "image did not load: ../_images/no-such-image.png",
        "HTTP 404 for _images/no-such-image.png",
        "broken link 'no-such-page.html': chapters/no-such-page.html does not exist",
        "broken link 'halfspace.html#no-such-anchor': no id 'no-such-anchor' in chapters/halfspace.html",
        'math not typeset: "$x$"',
        'raw TeX in text: "$y + 1$"',
    ):
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

    from bnrates.book.sphinxext import unique_scripts

    a, b = _JavaScript(None, body="const X = 1"), _JavaScript("", body="const X = 1")
    c = _JavaScript("", body="const Y = 2")
    assert a != b  # Sphinx 7 does not see the repeat
    assert unique_scripts([a, c, b]) == [a, c]


def test_every_page_reads_well_in_light_and_dark_mode(built: Path) -> None:
    require_chromium()
    results = check_reading(built / "_build" / "html")
    expected = {"index.html", *chapter_pages(built)}
    assert expected <= set(results), f"pages not checked: {sorted(expected - set(results))}"
    report = format_problems(results)
    assert not report, f"{sum(map(bool, results.values()))} of {len(results)} pages have problems:\n{report}"


def transparent_figure() -> str:
    """A data URL of a figure drawn in dark ink on a transparent background (illegible in dark mode)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.plot([0, 1], [1, 0], color="black")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", transparent=True)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def planted_copy(html: Path, target: Path, planted: str, page: str = "chapters/ols.html") -> str:
    """A copy of the built site (linked, not copied) with ``planted`` HTML at the top of one page's article."""
    for entry in html.iterdir():
        if entry.name != "chapters":
            os.symlink(entry, target / entry.name)
    (target / "chapters").mkdir()
    for entry in (html / "chapters").iterdir():
        if entry.name != Path(page).name:
            os.symlink(entry, target / "chapters" / entry.name)
    text = (html / page).read_text(encoding="utf-8")
    text = text.replace('<article class="bd-article">', '<article class="bd-article">' + planted, 1)
    assert planted in text
    (target / page).write_text(text, encoding="utf-8")
    return page


def test_reading_check_catches_planted_faults(built: Path, tmp_path: Path) -> None:
    require_chromium()
    planted = (
        f'<p><img src="{transparent_figure()}" style="background-color: transparent"></p>'
        '<p style="color: #777777; background-color: #888888">faint text</p>'
        f'<pre style="white-space: pre">{"x" * 400}</pre>'
    )
    page = planted_copy(built / "_build" / "html", tmp_path, planted)
    problems = check_reading(tmp_path, pages=[page])[page]
    report = "\n".join(problems)
    for expected in (
        r"light mode: axe critical image-alt: Images must have alternative text",
        r"dark mode: axe critical image-alt",
        r"light mode: axe serious color-contrast: .*\(article > p:nth-child\(2\)\)",
        r"dark mode: axe serious color-contrast",
        r"light mode: image without alt text that says what it shows: data:image/png",
        r"light mode: wider than the page: pre \"xxxx",
        r"dark mode: figure data:image/png.* is not on an opaque light background in dark mode",
    ):
        assert re.search(expected, report), f"{expected!r} not reported; got:\n{report}"
    assert len(problems) == 7, report  # nothing else: the real page is clean


def test_reading_check_measures_colours_after_the_page_has_faded_in(built: Path, tmp_path: Path) -> None:
    """A paragraph that fades from near-white to black text on white paper (as the theme fades its
    buttons into dark mode) has the contrast of where it ends, which the check must measure."""
    require_chromium()
    planted = (
        "<style>@keyframes bnrates-fade { from { color: #f6f6f6 } to { color: #000000 } }</style>"
        '<p style="background-color: #ffffff; color: #000000; animation: bnrates-fade 3s linear">fading in</p>'
    )
    page = planted_copy(built / "_build" / "html", tmp_path, planted)
    problems = check_reading(tmp_path, pages=[page])[page]
    assert problems == [], "\n".join(problems)


def test_alt_text_must_say_something() -> None:
    assert alt_problems([{"src": "a.png", "alt": "Gap of GD against the iteration."}]) == []
    for alt in (None, "", "a.png", "../_images/a.png", "figure"):
        assert alt_problems([{"src": "../_images/a.png", "alt": alt}]), alt


def test_corner_lightness_tells_white_from_black_paper() -> None:
    from PIL import Image

    def png(colour: str) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (40, 40), colour).save(buffer, format="PNG")
        return buffer.getvalue()

    assert corner_lightness(png("white")) == 1.0 and corner_lightness(png("black")) == 0.0
    framed = Image.new("RGB", (40, 40), "black")  # a white figure with rounded (dark) corners
    framed.paste(Image.new("RGB", (36, 36), "white"), (2, 2))
    buffer = io.BytesIO()
    framed.save(buffer, format="PNG")
    assert corner_lightness(buffer.getvalue()) == 1.0
