"""Browser checks of the book's interactive parts: collapsed blocks opened, explorers' sliders moved.

``python -m bnrates.interactivecheck PATH_TO_HTML_DIR``

Every page is served and opened as in :mod:`bnrates.browsercheck` (headless Chromium, requests
to other hosts fail). On each page:

* **collapsed blocks** -- every ``<details>`` element (hidden cells, ``hide-input`` code) is
  opened and every toggle of sphinx-togglebutton (dropdown solutions and admonitions) is
  clicked. Each block must then be visible, its ``.math`` elements typeset by MathJax (an
  ``mjx-container`` each, no ``mjx-merror``), and its text outside code and math free of raw
  TeX: no ``$``, ``\\norm``, ``^\\top``, ``\\frac``, ``\\(`` or ``\\[`` (the symptom of math
  the Markdown parser split, e.g. a line of it starting with ``- `` and becoming a list item).

The same text rule applies to the PDF's text (:func:`raw_tex_in_text`, for ``pdftotext`` output).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .browsercheck import CHROMIUM_ARGS, DEFAULT_CHROMIUM, PAGE_TIMEOUT_MS, _watch, format_problems, html_pages, serve

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


def raw_tex_in_text(text: str, context: int = 30) -> list[str]:
    """Every raw-TeX fragment (:data:`RAW_TEX`) of ``text`` with ``context`` characters around it."""
    return [text[max(0, m.start() - context): m.end() + context].replace("\n", " ")
            for m in re.finditer(RAW_TEX, text)]


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
    """Headless Chromium with the offline arguments of :mod:`bnrates.browsercheck`."""
    if not chromium.is_file() or not os.access(chromium, os.X_OK):
        raise FileNotFoundError(f"chromium not found at {chromium}: install Debian's chromium package "
                                "(apt-get install chromium)")
    try:
        return playwright.chromium.launch(executable_path=str(chromium), headless=True, args=list(CHROMIUM_ARGS))
    except Exception as error:
        raise RuntimeError(f"chromium at {chromium} did not start: {error}") from error


def check_collapsed(html_dir: str | os.PathLike[str], chromium: str | os.PathLike[str] = DEFAULT_CHROMIUM,
                    pages: Iterable[str] | None = None) -> dict[str, tuple[int, list[str]]]:
    """Open every collapsed block of every page and list what is wrong in them.

    Parameters
    ----------
    html_dir : path-like
        The built HTML folder.
    chromium : path-like, optional
        The Chromium executable.
    pages : iterable of str, optional
        Only these pages (relative to ``html_dir``); default every page of
        :func:`~bnrates.browsercheck.html_pages`.

    Returns
    -------
    dict of str to (int, list of str)
        For each page: how many collapsed blocks were opened, and the problems found.
    """
    from playwright.sync_api import sync_playwright

    root = Path(html_dir).resolve()
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"no index.html in {root}: build the book first")
    results = {}
    with serve(root) as base, sync_playwright() as playwright:
        browser = launch(playwright, Path(chromium))
        try:
            for rel in html_pages(root) if pages is None else pages:
                results[rel] = _collapsed_problems(browser, base, rel)
        finally:
            browser.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: check a built book's collapsed blocks, print problems, exit 1 if any."""
    parser = argparse.ArgumentParser(prog="python -m bnrates.interactivecheck", description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="the built HTML folder, e.g. _build/html")
    parser.add_argument("--chromium", type=Path, default=DEFAULT_CHROMIUM, help="the Chromium executable")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        collapsed = check_collapsed(args.html_dir, args.chromium)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = format_problems({page: problems for page, (_, problems) in collapsed.items()})
    if report:
        print(report)
    opened = sum(n for n, _ in collapsed.values())
    print(f"{len(collapsed)} pages, {opened} collapsed blocks opened in {time.perf_counter() - start:.1f} s")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
