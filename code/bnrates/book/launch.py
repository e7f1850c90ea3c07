"""Run the chapters in a local JupyterLab: ``python -m bnrates.book.launch lab [--port N] [--no-browser] [OPTION ...]``.

``make lab`` runs this from the book root. JupyterLab serves the book root (the nearest folder
with ``_toc.yml``), listens on 127.0.0.1 only, keeps token authentication on, and runs the
``python3`` kernel of the environment it is started from (the venv, with ``bnrates``). Its port
and the host of the address it prints come from ``bnrates_lab_url`` in ``_config.yml``, the
address the launch buttons of the chapter pages link to, so the buttons and the server agree.
Further options are passed on to JupyterLab (``--allow-root``, say).

Settings:

- ``.jupyter/lab/settings/overrides.json`` (committed, used as JupyterLab's application settings
  folder): Markdown and MyST files open with jupytext's "Jupytext Notebook" viewer, so a launch
  link ``lab/tree/chapters/<name>.md`` opens the chapter as a notebook; no news feed and no
  update check (nothing goes to the network).
- What JupyterLab writes (user settings, workspaces, runtime files) goes to the git-ignored
  ``_build/jupyterlab/``, not to the home directory, and not to the committed settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .sphinxext import DEFAULT_LAB_URL
from .toc import BookError, find_root

SETTINGS = Path(".jupyter", "lab", "settings")
"""The committed JupyterLab application settings folder, relative to the book root."""
STATE = Path("_build", "jupyterlab")
"""What JupyterLab writes while it runs, relative to the book root."""


def configured_lab_url(root: Path) -> str:
    """The JupyterLab address the book's launch buttons link to.

    Parameters
    ----------
    root : Path
        The book root, holding ``_config.yml``.

    Returns
    -------
    str
        ``sphinx: config: bnrates_lab_url`` of ``_config.yml``, or :data:`DEFAULT_LAB_URL`.
    """
    config = yaml.safe_load((root / "_config.yml").read_text()) or {}
    return str(((config.get("sphinx") or {}).get("config") or {}).get("bnrates_lab_url", DEFAULT_LAB_URL))


def lab_command(
    root: Path, lab_url: str = DEFAULT_LAB_URL, port: int | None = None, browser: bool = True, extra: Sequence[str] = ()
) -> list[str]:
    """The command line that starts JupyterLab on the book at ``root``.

    Parameters
    ----------
    root : Path
        The book root: JupyterLab's root folder; its ``.jupyter/lab/settings`` holds the settings.
    lab_url : str, optional
        The address the launch buttons link to (``http://localhost:8888``): its port is the
        server's, and it is the address printed with the token.
    port : int, optional
        Listen on this port instead of the one of ``lab_url``.
    browser : bool, optional
        Whether JupyterLab opens a browser tab.
    extra : sequence of str, optional
        More JupyterLab options, appended.

    Returns
    -------
    list of str
        ``python -m jupyterlab`` with its options. The server listens on 127.0.0.1 only, fails
        rather than moving to another port when the port is taken (the links would miss it), and
        never checks for updates.
    """
    address = urlsplit(lab_url)
    port = (address.port or 80) if port is None else port
    state = root / STATE
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.custom_display_url={address.scheme}://{address.hostname}:{port}",
        f"--LabApp.app_settings_dir={root / SETTINGS}",
        f"--LabApp.user_settings_dir={state / 'user-settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    return [*command, *([] if browser else ["--no-browser"]), *extra]


def lab_environment(root: Path) -> dict[str, str]:
    """The environment JupyterLab runs in.

    Parameters
    ----------
    root : Path
        The book root.

    Returns
    -------
    dict of str to str
        This process's environment with JupyterLab's runtime folder (server and kernel connection
        files) set to ``_build/jupyterlab/runtime`` of the book.
    """
    return {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / STATE / "runtime")}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: replace this process by JupyterLab (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bnrates.book.launch", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lab = sub.add_parser("lab", help="start JupyterLab on the book, chapters open as notebooks")
    lab.add_argument("--port", type=int, default=None, help="port (default: the one of bnrates_lab_url)")
    lab.add_argument("--no-browser", dest="browser", action="store_false", help="do not open a browser tab")
    lab.add_argument("--root", type=Path, default=None, help="book root (default: nearest folder with _toc.yml)")
    args, extra = parser.parse_known_args(argv)
    try:
        root = find_root(args.root or Path.cwd()).resolve()
        if not (root / SETTINGS / "overrides.json").is_file():
            raise BookError(f"no {SETTINGS / 'overrides.json'} in {root}: chapters would open as plain text")
    except BookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = lab_command(root, configured_lab_url(root), args.port, args.browser, extra)
    os.execve(command[0], command, lab_environment(root))


if __name__ == "__main__":
    sys.exit(main())
