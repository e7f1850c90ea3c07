"""The chapters' launch button: its link on the built pages, and JupyterLab opening it (bnrates.book.launch)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import pytest
from conftest import ROOT, copy_book

from bnrates.book.browsercheck import CHROMIUM_ARGS, DEFAULT_CHROMIUM, PAGE_TIMEOUT_MS, html_pages
from bnrates.book.launch import SETTINGS, configured_lab_url, lab_command
from bnrates.book.sphinxext import DEFAULT_LAB_URL, LAUNCH_GROUP, add_launch_link, lab_url
from bnrates.book.toc import read_toc

LAB_LINK = re.compile(r'<a href="(https?://[^"]*/lab/tree/[^"]*)"')
STARTUP_S = 45
BROWSER_TIMEOUT_MS = PAGE_TIMEOUT_MS  # the browser checks' one wait limit
KERNEL_TIMEOUT_MS = 150_000
"""The first output of a new kernel: its start and ``import bnrates`` took over 30 s while the other
CI worker built a book on the same two cores."""


def notebook_pages(root: Path) -> set[str]:
    """Page names (``chapters/ols``) of the executable chapters of the book at ``root``."""
    return {c.path.with_suffix("").as_posix() for c in read_toc(root) if c.notebook}


def test_every_chapter_page_and_no_other_has_the_launch_link(built: Path) -> None:
    html = built / "_build" / "html"
    chapters = notebook_pages(built)
    assert len(chapters) >= 5 and all(page.startswith("chapters/") for page in chapters)
    assert configured_lab_url(built) == DEFAULT_LAB_URL == "http://localhost:8888"
    for rel in [*html_pages(html), "search.html"]:
        text = (html / rel).read_text(encoding="utf-8")
        page = rel.removesuffix(".html")
        if page in chapters:
            assert LAB_LINK.findall(text) == [f"http://localhost:8888/lab/tree/{page}.md"], rel
            assert text.count(f'<div class="dropdown dropdown-{LAUNCH_GROUP}">') == 1, rel
            assert "JupyterLab (local)" in text and "start it with `make lab`" in text, rel
            assert f'href="../_sources/{page}.ipynb"' in text, f"{rel}: no .ipynb download"
            assert (html / "_sources" / f"{page}.ipynb").is_file()
        else:
            assert not LAB_LINK.findall(text) and f"dropdown-{LAUNCH_GROUP}" not in text, rel


def test_launch_link_joins_the_themes_launch_group_or_makes_one_first() -> None:
    url = lab_url("http://localhost:9999/", "chapters/a b")
    assert url == "http://localhost:9999/lab/tree/chapters/a%20b.md"
    buttons: list[dict] = [{"type": "group", "label": "download-buttons", "buttons": []}]
    add_launch_link(buttons, url)
    assert [b["label"] for b in buttons] == [LAUNCH_GROUP, "download-buttons"]
    assert buttons[0]["icon"] == "fas fa-rocket" and buttons[0]["buttons"][0]["url"] == url
    theirs: list[dict] = [{"type": "group", "label": LAUNCH_GROUP, "buttons": [{"text": "Binder"}]}]
    add_launch_link(theirs, url)
    assert [b["text"] for b in theirs[0]["buttons"]] == ["Binder", "JupyterLab (local)"]


def test_lab_command_listens_locally_on_the_port_of_the_launch_url(tmp_path: Path) -> None:
    command = lab_command(tmp_path, "http://localhost:9000", browser=False, extra=["--allow-root"])
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    for option in (
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=9000",
        "--ServerApp.port_retries=0",
        "--ServerApp.custom_display_url=http://localhost:9000",
        "--no-browser",
        "--allow-root",
        f"--LabApp.app_settings_dir={tmp_path / SETTINGS}",
    ):
        assert option in command
    assert not any("token" in option or "password" in option for option in command)
    assert "--ServerApp.port=9001" in lab_command(tmp_path, "http://localhost:9000", port=9001)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[Path, int, str]]:
    """JupyterLab started as ``make lab`` starts it, on a copy of the book: ``(root, port, token)``."""
    (tmp_path / "book").mkdir()
    root = copy_book(tmp_path / "book")
    shutil.copytree(ROOT / SETTINGS, root / SETTINGS)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "bnrates.book.launch",
        "lab",
        "--root",
        str(root),
        "--port",
        str(port),
        "--no-browser",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    log = tmp_path / "lab.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            command,
            env={**os.environ, "JUPYTER_TOKEN": token},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert server.poll() is None, f"JupyterLab exited with {server.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer in {STARTUP_S} s:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield root, port, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the server and the kernels it started
            server.wait()


CODE = "import sys, bnrates; print(sys.prefix)"


def wait_for_idle_kernel(port: int, token: str, path: str) -> None:
    """Wait until the server's session for ``path`` has a kernel that is idle.

    Asked of the server's REST API, not the page: keys typed before the kernel was up went
    nowhere now and then on a loaded machine (CI, with the other worker building a book).
    """
    deadline = time.monotonic() + KERNEL_TIMEOUT_MS / 1000
    state = "no session"
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sessions?token={token}", timeout=5) as r:
            sessions = json.load(r)
        states = [s["kernel"]["execution_state"] for s in sessions if s.get("path") == path and s.get("kernel")]
        state = states[0] if states else "no session"
        if state == "idle":
            return
        time.sleep(0.5)
    pytest.fail(f"the kernel of {path} was not idle after {KERNEL_TIMEOUT_MS / 1000:.0f} s: {state}", pytrace=False)


def test_launch_link_opens_the_chapter_as_a_notebook_in_jupyterlab(built: Path, lab: tuple[Path, int, str]) -> None:
    if not DEFAULT_CHROMIUM.is_file():
        pytest.fail(f"chromium not found at {DEFAULT_CHROMIUM}: install Debian's chromium package", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    root, port, token = lab
    page_html = (built / "_build" / "html" / "chapters" / "ols.html").read_text(encoding="utf-8")
    link = urlsplit(LAB_LINK.findall(page_html)[0])
    url = link._replace(netloc=f"{link.hostname}:{port}").geturl()
    chapter = jupytext.read(root / "chapters" / "ols.md")
    title = next(line for line in chapter.cells[0].source.splitlines() if line.startswith("# "))[2:]
    # no network: every host but the local server fails to resolve
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--host-resolver-rules")]
    args.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(DEFAULT_CHROMIUM), headless=True, args=args)
        try:
            page = browser.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.goto(url)
            assert urlsplit(page.url).path == "/login", "the server let the browser in without the token"
            page.fill("input[name=password]", token)
            page.click("[type=submit]")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            assert urlsplit(page.url).path == "/lab/tree/chapters/ols.md"
            notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
            assert len(chapter.cells) > 5
            expect(notebook.locator(".jp-Cell")).to_have_count(len(chapter.cells), timeout=BROWSER_TIMEOUT_MS)
            assert notebook.locator(".jp-CodeCell").count() == sum(c.cell_type == "code" for c in chapter.cells)
            assert notebook.locator(".jp-MarkdownCell", has_text=title).count() == 1
            # a new cell runs in the environment's python3 kernel, with bnrates importable
            wait_for_idle_kernel(port, token, "chapters/ols.md")
            notebook.locator(".jp-Cell").last.click()
            page.keyboard.press("Escape")
            page.keyboard.press("b")
            # the new cell exists before it is typed into (a key pressed while the notebook was
            # still taking focus was lost now and then, and the typing went nowhere)
            expect(notebook.locator(".jp-Cell")).to_have_count(len(chapter.cells) + 1, timeout=BROWSER_TIMEOUT_MS)
            new_cell = notebook.locator(".jp-Cell").nth(len(chapter.cells))
            editor = new_cell.locator(".cm-content")
            editor.click()
            page.keyboard.type(CODE)
            expect(editor).to_have_text(CODE)
            output = new_cell.locator(".jp-OutputArea-output")
            prompt = new_cell.locator(".jp-InputPrompt")
            for attempt in range(2):
                page.keyboard.press("Shift+Enter")
                try:
                    # "[*]:" while it runs, "[1]:" after; "[ ]:" if the keys never ran it
                    expect(prompt).not_to_have_text("[ ]:", timeout=BROWSER_TIMEOUT_MS)
                    break
                except AssertionError:
                    assert attempt == 0, f"the cell was never run: prompt {prompt.inner_text()!r}"
                    editor.click()
            output.wait_for(timeout=KERNEL_TIMEOUT_MS)
            assert output.inner_text().strip() == sys.prefix
        finally:
            browser.close()
    assert not list(root.glob("chapters/*.ipynb")), "opening the chapter wrote an .ipynb next to it"
