"""Check the built HTML book in headless Chromium.

``python -m bnrates.book.browsercheck PATH_TO_HTML_DIR [--chromium PATH]``

The folder is served on ``127.0.0.1`` (an ephemeral port, :mod:`http.server` in a thread) and
every page is opened in headless Chromium (Debian's package, driven by Playwright). Each page is
opened in a fresh browser context, as a first-time reader would see it, and must:

* load without console errors, uncaught page errors, failed requests or HTTP errors
  (requests to other hosts are made to fail, so the book must not need the network);
* have its math typeset: MathJax's startup promise resolves, every ``.math`` element holds an
  ``mjx-container`` and no raw TeX delimiters (``$``, ``\\(``, ``\\[``), no MathJax error
  (``mjx-merror``) is shown, and no ``$…$`` or ``\\(…\\)`` is left in the page's prose;
* load every image (``complete`` with ``naturalWidth > 0``);
* link only to internal targets that exist: the file, and the ``#anchor``'s id on it.

Finally ``search.html?q=Rayleigh`` must list at least one result.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html.parser
import http.server
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every host but the local server fails to resolve: the book must work offline, and a
    # request to the network shows up as a failed request instead of hanging the check.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
SEARCH_PAGE = "search.html"
SEARCH_TERM = "Rayleigh"
SKIPPED_PAGES = frozenset({SEARCH_PAGE})
"""Pages not given the generic checks (the search page has its own)."""
SKIPPED_DIRS = frozenset({"_static", "_sources", "_images", "_downloads"})
PAGE_TIMEOUT_MS = 60_000
"""How long a browser wait may take: a loaded 2-core machine (the tests run two at a time) once took
more than 20 s to load a page. A page that exceeds it is a failure; speed is not checked here."""

MATH_JS = """
async (timeoutMs) => {
  const problems = [];
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('timed out')), timeoutMs));
    try {
      await Promise.race([MathJax.startup.promise, timeout]);
    } catch (e) {
      problems.push('MathJax startup did not finish: ' + e.message);
    }
  }
  const maths = Array.from(document.querySelectorAll('.math'));
  if (maths.length && !(window.MathJax && MathJax.startup)) {
    problems.push('page has ' + maths.length + ' math element(s) but MathJax did not start');
  }
  const raw = /\\$|\\\\\\(|\\\\\\)|\\\\\\[|\\\\\\]|\\\\begin\\{/;
  let untypeset = 0;
  for (const el of maths) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('mjx-container').forEach((c) => c.remove());
    const text = copy.textContent.trim();
    if (!el.querySelector('mjx-container') || raw.test(text)) {
      untypeset += 1;
      if (untypeset <= 5) problems.push('math not typeset: ' + JSON.stringify(text.slice(0, 80)));
    }
  }
  if (untypeset > 5) problems.push('... and ' + (untypeset - 5) + ' more untypeset math element(s)');
  if (maths.length && !document.querySelector('mjx-container')) {
    problems.push('page has math but no mjx-container');
  }
  for (const err of Array.from(document.querySelectorAll('mjx-merror')).slice(0, 5)) {
    problems.push('MathJax error: ' + (err.getAttribute('data-mjx-error') || err.textContent));
  }
  // Raw delimiters left in prose (e.g. math the Markdown parser did not recognise).
  const skip = 'script, style, pre, code, kbd, samp, textarea, mjx-container, .math, .highlight';
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const prose = /\\$[^$\\s][^$]*\\$|\\\\\\(.+?\\\\\\)|\\\\\\[.+?\\\\\\]/s;
  let found = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(skip)) continue;
    const match = node.textContent.match(prose);
    if (match && found++ < 5) problems.push('raw TeX in text: ' + JSON.stringify(match[0].slice(0, 80)));
  }
  return problems;
}
"""

IMAGES_JS = """
async (timeoutMs) => {
  const images = Array.from(document.images);
  images.forEach((img) => { img.loading = 'eager'; });
  const settled = images.map((img) => img.complete ? null :
    new Promise((resolve) => { img.addEventListener('load', resolve); img.addEventListener('error', resolve); }));
  await Promise.race([Promise.all(settled), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  return images.filter((img) => !img.complete || img.naturalWidth === 0)
    .map((img) => img.getAttribute('src'));
}
"""

LINKS_JS = """
() => Array.from(document.querySelectorAll('a[href]'))
  .map((a) => [a.getAttribute('href'), a.href])
"""

SEARCH_JS = """
() => {
  const box = document.querySelector('#search-results');
  if (!box) return false;
  return box.querySelectorAll('ul.search li').length > 0
    || /search finished|did not match|found/i.test(box.textContent);
}
"""


class _Ids(html.parser.HTMLParser):
    """Collects the ``id`` (and ``<a name>``) values of one HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value is not None and (key == "id" or (tag == "a" and key == "name")):
                self.ids.add(value)


@functools.lru_cache(maxsize=512)
def _ids_of(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def html_pages(root: Path) -> list[str]:
    """The pages to check, as ``/``-separated paths relative to ``root``.

    Parameters
    ----------
    root : Path
        The built HTML folder (``_build/html``).

    Returns
    -------
    list of str
        Every ``.html`` file outside Sphinx's asset folders, except the search page, sorted.
    """
    pages = []
    for path in root.rglob("*.html"):
        rel = path.relative_to(root)
        if rel.parts[0] in SKIPPED_DIRS or rel.as_posix() in SKIPPED_PAGES:
            continue
        pages.append(rel.as_posix())
    return sorted(pages)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that logs nothing and answers the browser's own favicon probe."""

    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many of a page's files

    def do_GET(self) -> None:
        # Chromium asks for /favicon.ico by itself on some pages; the book links no favicon, so
        # a 404 here would be the browser's noise, not the book's problem.
        if self.path == "/favicon.ico" and not Path(self.directory, "favicon.ico").is_file():
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 at an ephemeral port, in a thread.

    Parameters
    ----------
    root : Path
        The folder to serve.

    Yields
    ------
    str
        The base URL, ending in ``/``. The server is shut down when the block exits.
    """
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="browsercheck-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _link_problems(root: Path, base: str, links: list[list[str]]) -> list[str]:
    """Problems with a page's links (``[href attribute, resolved URL]`` pairs)."""
    problems: list[str] = []
    seen: set[str] = set()
    for raw, resolved in links:
        if not resolved.startswith(base) or resolved in seen:
            continue  # other hosts and schemes (mailto:, javascript:) are not checked
        seen.add(resolved)
        parts = urlsplit(resolved)
        rel = unquote(parts.path)[len(urlsplit(base).path) :]
        target = root / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"broken link {raw!r}: {rel or '/'} does not exist")
            continue
        anchor = unquote(parts.fragment)
        if anchor and target.suffix == ".html" and anchor not in _ids_of(target):
            problems.append(f"broken link {raw!r}: no id {anchor!r} in {target.relative_to(root).as_posix()}")
    return problems


def _watch(page: Any, base: str) -> list[str]:
    """Start collecting a page's console errors, page errors and failed requests."""
    problems: list[str] = []

    def short(url: str) -> str:
        return url[len(base) :] if url.startswith(base) else url

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "") if msg.location else ""
            problems.append(f"console error: {msg.text}" + (f" ({short(where)})" if where else ""))

    def on_response(response: Any) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} for {short(response.url)}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "requestfailed", lambda request: problems.append(f"request failed: {short(request.url)} ({request.failure})")
    )
    page.on("response", on_response)
    return problems


def _check_page(browser: Any, root: Path, base: str, rel: str) -> list[str]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        problems = _watch(page, base)
        response = page.goto(base + rel, wait_until="load")
        if response is None or not response.ok:
            problems.append(f"page did not load: HTTP {response.status if response else '?'}")
            return problems
        problems += page.evaluate(MATH_JS, PAGE_TIMEOUT_MS)
        problems += [f"image did not load: {src}" for src in page.evaluate(IMAGES_JS, PAGE_TIMEOUT_MS)]
        problems += _link_problems(root, base, page.evaluate(LINKS_JS))
        page.wait_for_load_state("networkidle")  # late console errors and requests
        return problems
    except Exception as error:  # a timeout or crash on one page is a problem of that page
        return [f"check failed: {type(error).__name__}: {error}"]
    finally:
        context.close()


def _check_search(browser: Any, base: str, term: str) -> list[str]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        problems = _watch(page, base)
        response = page.goto(f"{base}{SEARCH_PAGE}?q={quote(term)}", wait_until="load")
        if response is None or not response.ok:
            problems.append(f"search page did not load: HTTP {response.status if response else '?'}")
            return problems
        page.wait_for_function(SEARCH_JS)
        hits = page.locator("#search-results ul.search li").count()
        if hits == 0:
            problems.append(f"search for {term!r} found no results")
        return problems
    except Exception as error:
        return [f"search for {term!r} failed: {type(error).__name__}: {error}"]
    finally:
        context.close()


def check_site(
    html_dir: str | os.PathLike[str],
    chromium: str | os.PathLike[str] = DEFAULT_CHROMIUM,
    search_term: str | None = SEARCH_TERM,
    pages: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """Open every page of a built HTML book in headless Chromium and list its problems.

    Parameters
    ----------
    html_dir : path-like
        The built HTML folder (``_build/html``), with ``index.html`` and ``search.html``.
    chromium : path-like, optional
        The Chromium executable (Debian's ``chromium`` package by default).
    search_term : str or None, optional
        The word the search page must find; ``None`` skips the search check.
    pages : iterable of str, optional
        Only these pages (paths relative to ``html_dir``); by default every page of
        :func:`html_pages`.

    Returns
    -------
    dict of str to list of str
        For every checked page (a path relative to ``html_dir``, plus ``search.html?q=TERM``),
        the problems found on it; an empty list means the page is fine.

    Raises
    ------
    FileNotFoundError
        If ``html_dir`` is not a built book or Chromium is not installed.
    RuntimeError
        If the ``playwright`` package is missing or Chromium does not start.
    """
    root = Path(html_dir).resolve()
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"no index.html in {root}: build the book first")
    chromium = Path(chromium)
    if not chromium.is_file() or not os.access(chromium, os.X_OK):
        raise FileNotFoundError(
            f"chromium not found at {chromium}: install Debian's chromium package (apt-get install chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise RuntimeError("the playwright package is not installed: pip install playwright") from error
    _ids_of.cache_clear()
    results: dict[str, list[str]] = {}
    with serve(root) as base, sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=list(CHROMIUM_ARGS))
        except Exception as error:
            raise RuntimeError(f"chromium at {chromium} did not start: {error}") from error
        try:
            for rel in html_pages(root) if pages is None else pages:
                results[rel] = _check_page(browser, root, base, rel)
            if search_term is not None:
                results[f"{SEARCH_PAGE}?q={search_term}"] = _check_search(browser, base, search_term)
        finally:
            browser.close()
    return results


# --- reading checks: accessibility (axe-core), alt text, page width, dark mode ---

COLOR_SCHEMES = ("light", "dark")
"""The theme follows the reader's system setting (mode ``auto``): each page is read in both."""
AXE_IMPACTS = frozenset({"serious", "critical"})
"""axe-core violations that fail a page (``minor`` and ``moderate`` ones are not reported)."""
LIGHT_BACKGROUND = 0.85
"""A figure's corners must be at least this light (0 black, 1 white) in dark mode: opaque, light paper."""

FIGURES_JS = """
() => Array.from(document.querySelectorAll('main img')).map((img, i) => {
  img.dataset.bnratesFigure = String(i);
  return {index: i, src: img.getAttribute('src'), alt: img.getAttribute('alt')};
})
"""

OVERFLOW_JS = """
() => {
  const main = document.querySelector('main');
  if (!main) return [];
  const right = main.getBoundingClientRect().right + 1;
  return Array.from(main.querySelectorAll('pre, table, div.cell_output, div.output'))
    .filter((el) => el.offsetParent !== null
      && (el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > right))
    .map((el) => el.tagName.toLowerCase() + ' ' + JSON.stringify((el.textContent || '').trim().slice(0, 50))
      + ' is ' + el.scrollWidth + ' px wide in ' + el.clientWidth + ' px');
}
"""

THEME_JS = "() => document.documentElement.dataset.theme || ''"

SETTLE_JS = """
async (timeoutMs) => {
  const finite = document.getAnimations().filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime));
  const done = Promise.all(finite.map((a) => a.finished.catch(() => null)));
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
}
"""
"""Wait for the page's running CSS transitions and animations (the theme fades buttons to its dark
colours in 0.15 s; axe measuring contrast halfway through reports colours no reader sees)."""


def axe_problems(page: Any) -> list[str]:
    """Serious and critical axe-core violations on an open page, one line per rule with its first elements."""
    from axe_playwright_python.sync_playwright import Axe

    problems = []
    for violation in Axe().run(page).response["violations"]:
        if violation["impact"] in AXE_IMPACTS:
            targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:3])
            more = len(violation["nodes"]) - 3
            problems.append(
                f"axe {violation['impact']} {violation['id']}: {violation['help']} "
                f"({targets}{f' and {more} more' if more > 0 else ''})"
            )
    return problems


def alt_problems(figures: Iterable[dict[str, Any]]) -> list[str]:
    """Images without alt text that says something: none, empty, or only a file name."""
    problems = []
    for figure in figures:
        alt = (figure.get("alt") or "").strip()
        src = figure.get("src") or ""
        if not alt or alt == src or alt.endswith((".png", ".svg", ".jpg")) or len(alt.split()) < 3:
            problems.append(f"image without alt text that says what it shows: {src[:60]} (alt {alt[:60]!r})")
    return problems


def corner_lightness(png: bytes, size: int = 4, inset: int = 12) -> float:
    """The mean lightness (0 black .. 1 white) of a screenshot near its four corners.

    ``size``-pixel squares ``inset`` pixels in from each corner: the theme rounds the corners of
    images, so the corners themselves show the page behind.
    """
    import io

    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float) / 255.0
    a, b = inset, inset + size
    corners = [grey[a:b, a:b], grey[a:b, -b:-a], grey[-b:-a, a:b], grey[-b:-a, -b:-a]]
    return float(np.mean([c.mean() for c in corners]))


def dark_figure_problems(page: Any, figures: Iterable[dict[str, Any]]) -> list[str]:
    """Figures that are not on an opaque light background in dark mode (a screenshot of each)."""
    problems = []
    for figure in figures:
        image = page.locator(f'img[data-bnrates-figure="{figure["index"]}"]')
        if not image.is_visible():
            continue
        image.scroll_into_view_if_needed()
        lightness = corner_lightness(image.screenshot())
        if lightness < LIGHT_BACKGROUND:
            problems.append(
                f"figure {(figure['src'] or '')[:60]} is not on an opaque light background in dark mode "
                f"(corners {lightness:.2f} light, need {LIGHT_BACKGROUND})"
            )
    return problems


def _read_page(browser: Any, base: str, rel: str, scheme: str) -> list[str]:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        response = page.goto(base + rel, wait_until="load")
        if response is None or not response.ok:
            return [f"page did not load: HTTP {response.status if response else '?'}"]
        page.evaluate(MATH_JS, PAGE_TIMEOUT_MS)  # typeset first: axe reads the finished page
        page.evaluate(IMAGES_JS, PAGE_TIMEOUT_MS)
        theme = page.evaluate(THEME_JS)
        problems = [] if theme == scheme else [f"the theme shows {theme!r} for a reader who prefers {scheme}"]
        page.evaluate(SETTLE_JS, PAGE_TIMEOUT_MS)
        problems += axe_problems(page)
        figures = page.evaluate(FIGURES_JS)
        if scheme == "light":
            problems += alt_problems(figures)
            problems += [f"wider than the page: {what}" for what in page.evaluate(OVERFLOW_JS)]
        else:
            problems += dark_figure_problems(page, figures)
        return [f"{scheme} mode: {problem}" for problem in problems]
    except Exception as error:
        return [f"{scheme} mode: check failed: {type(error).__name__}: {error}"]
    finally:
        context.close()


def check_reading(
    html_dir: str | os.PathLike[str],
    chromium: str | os.PathLike[str] = DEFAULT_CHROMIUM,
    pages: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """Read every page as readers do, in light and in dark mode, and list what stands in their way.

    Each page, in a fresh browser context per colour scheme (the reader's system preference,
    which the theme follows), once its math is typeset, its images loaded and its transitions
    finished (:data:`SETTLE_JS`), must have no serious or critical axe-core violation (WCAG 2 A/AA
    rules: contrast, names, roles, ...). In light mode every image must have alt text of at least
    three words that is not a file name, and no code block, table or output may be wider than
    its box or the page's main column at 1280 px. In dark mode every figure must sit on an opaque
    light background (the corners of its screenshot).

    Parameters and errors as for :func:`check_site`; returns ``{page: problems}``.
    """
    root = Path(html_dir).resolve()
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"no index.html in {root}: build the book first")
    chromium = Path(chromium)
    if not chromium.is_file() or not os.access(chromium, os.X_OK):
        raise FileNotFoundError(
            f"chromium not found at {chromium}: install Debian's chromium package (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    results: dict[str, list[str]] = {}
    with serve(root) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=list(CHROMIUM_ARGS))
        try:
            for rel in html_pages(root) if pages is None else pages:
                results[rel] = [p for scheme in COLOR_SCHEMES for p in _read_page(browser, base, rel, scheme)]
        finally:
            browser.close()
    return results


def format_problems(results: dict[str, list[str]]) -> str:
    """The problems of ``results`` as text, one ``page: problem`` a line (empty if none)."""
    return "\n".join(f"{page}: {problem}" for page, problems in results.items() for problem in problems)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: check a built book, print its problems, exit 1 if there are any."""
    parser = argparse.ArgumentParser(prog="python -m bnrates.book.browsercheck", description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="the built HTML folder, e.g. _build/html")
    parser.add_argument("--chromium", type=Path, default=DEFAULT_CHROMIUM, help="the Chromium executable")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        results = check_site(args.html_dir, args.chromium)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = format_problems(results)
    if report:
        print(report)
    bad = sum(1 for problems in results.values() if problems)
    print(f"{len(results)} pages checked in {time.perf_counter() - start:.1f} s: {bad or 'none'} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
