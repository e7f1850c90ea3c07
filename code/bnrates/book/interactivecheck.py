"""Browser checks of the book's interactive parts: collapsed blocks opened, explorers' sliders moved.

``python -m bnrates.book.interactivecheck PATH_TO_HTML_DIR``

Every page is served and opened as in :mod:`bnrates.book.browsercheck` (headless Chromium, requests
to other hosts fail). On each page:

* **collapsed blocks** -- every ``<details>`` element (hidden cells, ``hide-input`` code) is
  opened and every toggle of sphinx-togglebutton (dropdown solutions and admonitions) is
  clicked. Each block must then be visible, its ``.math`` elements typeset by MathJax (an
  ``mjx-container`` each, no ``mjx-merror``), and its text outside code and math free of raw
  TeX: no ``$``, ``\\norm``, ``^\\top``, ``\\frac``, ``\\(`` or ``\\[`` (the symptom of math
  the Markdown parser split, e.g. a line of it starting with ``- `` and becoming a list item).

The same text rule applies to the PDF's text (:func:`raw_tex_in_text`, for ``pdftotext`` output).

* **explorers** -- every Plotly explorer (:mod:`bnrates.plotting.explorers`) must be drawn; its slider is
  clicked at the far end of its rail, and the slider's value, the visible measured curve and
  the visible theory line (their data and their drawn SVG paths) must all change. Plotly must
  come from the site itself, and every request the page makes must go to the local server.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..plotting.explorers import PLOTLY_JS
from .browsercheck import CHROMIUM_ARGS, DEFAULT_CHROMIUM, PAGE_TIMEOUT_MS, _watch, format_problems, html_pages, serve

T = TypeVar("T")

RAW_TEX = r"\$|\\norm\b|\^\\top\b|\\frac\b|\\\(|\\\[|\\begin\{"
"""Raw TeX that must not be left in rendered text (a JavaScript and Python regular expression)."""

OPEN_COLLAPSED_JS = """
async ([timeoutMs, rawTex]) => {
  const blocks = [];
  document.querySelectorAll('details').forEach((d) => { d.open = true; blocks.push(d); });
  for (const button of document.querySelectorAll('button.toggle-button')) {
    const target = document.getElementById(button.dataset.target);
    if (target && target.classList.contains('toggle-hidden')) button.click();
    if (target) blocks.push(target);
  }
  document.querySelectorAll('.toggle-hidden').forEach((el) => blocks.push(el));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await Promise.race([MathJax.startup.promise.then(() => MathJax.typesetPromise ? MathJax.typesetPromise() : null),
                        new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  }
  const raw = new RegExp(rawTex);
  const skip = 'script, style, pre, code, kbd, samp, textarea, mjx-container, .math, .highlight, .cell_output';
  const problems = [];
  const unique = Array.from(new Set(blocks));
  for (const [k, block] of unique.entries()) {
    const name = (block.id ? '#' + block.id : block.tagName.toLowerCase() + '.' +
      Array.from(block.classList).join('.')) + ' (' + (k + 1) + ' of ' + unique.length + ')';
    if (block.classList.contains('toggle-hidden') || block.offsetHeight === 0) {
      problems.push(name + ': still hidden after opening');
      continue;
    }
    for (const el of block.querySelectorAll('.math')) {
      if (!el.querySelector('mjx-container')) {
        problems.push(name + ': math not typeset: ' + JSON.stringify(el.textContent.trim().slice(0, 80)));
      }
    }
    for (const err of block.querySelectorAll('mjx-merror')) {
      problems.push(name + ': MathJax error: ' + (err.getAttribute('data-mjx-error') || err.textContent));
    }
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest(skip)) continue;
      const match = node.textContent.match(raw);
      if (match) {
        const at = Math.max(0, match.index - 30);
        problems.push(name + ': raw TeX ' + JSON.stringify(match[0]) + ' in ' +
          JSON.stringify(node.textContent.slice(at, at + 80).trim()));
      }
    }
  }
  return {opened: unique.length, problems: problems};
}
"""


EXPLORERS_JS = """
() => Array.from(document.querySelectorAll('.bnrates-explorer')).map((box) => {
  const gd = box.querySelector('.plotly-graph-div');
  return {name: box.dataset.explorer, id: gd ? gd.id : null};
})
"""

EXPLORER_STATE_JS = """
(id) => {
  const gd = document.getElementById(id);
  if (!gd || !gd._fullLayout || !gd._fullData) return null;
  const traces = gd._fullData.filter((t) => t.visible === true).map((t) => ({
    role: t.meta && t.meta.role, value: t.meta && t.meta.value, y: Array.from(t.y || []).slice(0, 200)}));
  const paths = Array.from(gd.querySelectorAll('.scatterlayer .trace path.js-line')).map((p) => p.getAttribute('d'));
  const slider = gd._fullLayout.sliders && gd._fullLayout.sliders[0];
  const buttons = Array.from(gd.querySelectorAll('.modebar-btn')).map((b) => b.getAttribute('data-title') || '');
  const logo = !!gd.querySelector('.modebar-btn--logo');
  return {active: slider ? slider.active : null, traces: traces, paths: paths, plotly: !!window.Plotly,
          buttons: buttons, logo: logo};
}
"""


CLOUD_BUTTONS = ("Share chart...", "Edit in Chart Studio", "Send data to Cloud")
"""Mode-bar buttons (their ``data-title``) that send the figure to a web service."""


def _explorer_problems(page: Any, name: str, div_id: str) -> list[str]:
    """Move one explorer's slider to the far end and compare what is drawn before and after."""
    before = page.evaluate(EXPLORER_STATE_JS, div_id)
    if before is None:
        return [f"explorer {name}: not drawn (no Plotly figure)"]
    problems = [
        f"explorer {name}: the mode bar offers {title!r}, a web service (an offline book should not)"
        for title in before["buttons"]
        if title in CLOUD_BUTTONS
    ]
    if before["logo"]:
        problems.append(f"explorer {name}: the mode bar shows Plotly's logo, a link to plotly.com")
    rail = page.locator(f"#{div_id} .slider-rail-touch-rect").first
    box = rail.bounding_box()
    if box is None:
        return [*problems, f"explorer {name}: no slider"]
    x = box["width"] - 3 if before["active"] == 0 else 3
    rail.click(position={"x": x, "y": box["height"] / 2})
    page.wait_for_timeout(300)
    after = page.evaluate(EXPLORER_STATE_JS, div_id)
    if after["active"] == before["active"]:
        problems.append(f"explorer {name}: the slider did not move (step {before['active']})")
    for role in ("measured", "theory"):
        old = [t for t in before["traces"] if t["role"] == role]
        new = [t for t in after["traces"] if t["role"] == role]
        if len(old) != 1 or len(new) != 1:
            problems.append(f"explorer {name}: {len(old)} then {len(new)} visible {role} curves, expected 1")
        elif old[0]["value"] == new[0]["value"] or old[0]["y"] == new[0]["y"]:
            problems.append(f"explorer {name}: the {role} curve did not change with the slider")
    if len(after["paths"]) != 2 or any(a == b for a, b in zip(before["paths"], after["paths"], strict=False)):
        problems.append(
            f"explorer {name}: the drawn lines did not change ({len(before['paths'])} before, "
            f"{len(after['paths'])} after)"
        )
    return problems


def _explorers_on_page(browser: Any, base: str, rel: str) -> tuple[list[str], list[str]]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        problems = _watch(page, base)
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        response = page.goto(base + rel, wait_until="load")
        if response is None or not response.ok:
            return [], [f"page did not load: HTTP {response.status if response else '?'}"]
        found = page.evaluate(EXPLORERS_JS)
        names = [f["name"] for f in found]
        for explorer in found:
            if explorer["id"] is None:
                problems.append(f"explorer {explorer['name']}: no Plotly figure in it")
                continue
            problems += _explorer_problems(page, explorer["name"], explorer["id"])
        with contextlib.suppress(PlaywrightTimeout):  # late requests, if any, are in the list all the same
            page.wait_for_load_state("networkidle")
        if found and not any(url.startswith(base) and url.endswith("_static/" + PLOTLY_JS) for url in requests):
            problems.append(f"Plotly was not loaded from the site's _static/{PLOTLY_JS}")
        problems += [
            f"request left the machine: {url}"
            for url in requests
            if not url.startswith(base) and not url.startswith(("data:", "blob:", "about:"))
        ]
        return names, problems
    except Exception as error:  # a timeout or crash on one page is a problem of that page
        return [], [f"check failed: {type(error).__name__}: {error}"]
    finally:
        context.close()


def check_explorers(
    html_dir: str | os.PathLike[str],
    chromium: str | os.PathLike[str] = DEFAULT_CHROMIUM,
    pages: Iterable[str] | None = None,
) -> dict[str, tuple[list[str], list[str]]]:
    """Move the slider of every explorer of every page and list what did not respond.

    Returns
    -------
    dict of str to (list of str, list of str)
        For each page: the names of its explorers, and the problems found.
    """
    return _each_page(html_dir, chromium, pages, _explorers_on_page)


def raw_tex_in_text(text: str, context: int = 30) -> list[str]:
    """Every raw-TeX fragment (:data:`RAW_TEX`) of ``text`` with ``context`` characters around it."""
    return [
        text[max(0, m.start() - context) : m.end() + context].replace("\n", " ") for m in re.finditer(RAW_TEX, text)
    ]


def _collapsed_problems(browser: Any, base: str, rel: str) -> tuple[int, list[str]]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        problems = _watch(page, base)
        response = page.goto(base + rel, wait_until="load")
        if response is None or not response.ok:
            return 0, [f"page did not load: HTTP {response.status if response else '?'}"]
        result = page.evaluate(OPEN_COLLAPSED_JS, [PAGE_TIMEOUT_MS, RAW_TEX])
        return result["opened"], problems + result["problems"]
    except Exception as error:  # a timeout or crash on one page is a problem of that page
        return 0, [f"check failed: {type(error).__name__}: {error}"]
    finally:
        context.close()


def launch(playwright: Any, chromium: Path) -> Any:
    """Headless Chromium with the offline arguments of :mod:`bnrates.book.browsercheck`."""
    if not chromium.is_file() or not os.access(chromium, os.X_OK):
        raise FileNotFoundError(
            f"chromium not found at {chromium}: install Debian's chromium package (apt-get install chromium)"
        )
    try:
        return playwright.chromium.launch(executable_path=str(chromium), headless=True, args=list(CHROMIUM_ARGS))
    except Exception as error:
        raise RuntimeError(f"chromium at {chromium} did not start: {error}") from error


def _each_page(
    html_dir: str | os.PathLike[str],
    chromium: str | os.PathLike[str],
    pages: Iterable[str] | None,
    check: Callable[[Any, str, str], T],
) -> dict[str, T]:
    """``check(browser, base_url, page)`` for every page of a built site served on 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    root = Path(html_dir).resolve()
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"no index.html in {root}: build the book first")
    results = {}
    with serve(root) as base, sync_playwright() as playwright:
        browser = launch(playwright, Path(chromium))
        try:
            for rel in html_pages(root) if pages is None else pages:
                results[rel] = check(browser, base, rel)
        finally:
            browser.close()
    return results


def check_collapsed(
    html_dir: str | os.PathLike[str],
    chromium: str | os.PathLike[str] = DEFAULT_CHROMIUM,
    pages: Iterable[str] | None = None,
) -> dict[str, tuple[int, list[str]]]:
    """Open every collapsed block of every page and list what is wrong in them.

    Parameters
    ----------
    html_dir : path-like
        The built HTML folder.
    chromium : path-like, optional
        The Chromium executable.
    pages : iterable of str, optional
        Only these pages (relative to ``html_dir``); default every page of
        :func:`~bnrates.book.browsercheck.html_pages`.

    Returns
    -------
    dict of str to (int, list of str)
        For each page: how many collapsed blocks were opened, and the problems found.
    """
    return _each_page(html_dir, chromium, pages, _collapsed_problems)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: check a built book's collapsed blocks, print problems, exit 1 if any."""
    parser = argparse.ArgumentParser(
        prog="python -m bnrates.book.interactivecheck", description=__doc__.splitlines()[0]
    )
    parser.add_argument("html_dir", type=Path, help="the built HTML folder, e.g. _build/html")
    parser.add_argument("--chromium", type=Path, default=DEFAULT_CHROMIUM, help="the Chromium executable")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        collapsed = check_collapsed(args.html_dir, args.chromium)
        explorers = check_explorers(args.html_dir, args.chromium)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = format_problems(
        {page: problems for page, (_, problems) in collapsed.items()}
        | {f"{page} (explorers)": problems for page, (_, problems) in explorers.items()}
    )
    if report:
        print(report)
    opened = sum(n for n, _ in collapsed.values())
    moved = sum(len(names) for names, _ in explorers.values())
    print(
        f"{len(collapsed)} pages, {opened} collapsed blocks opened, {moved} explorers moved "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
