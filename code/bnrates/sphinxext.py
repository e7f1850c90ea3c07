"""A small Sphinx extension that removes two JavaScript errors of the JB1 theme stack.

Both were found by :mod:`bnrates.browsercheck` on every page:

1. Sphinx 7 ends up with sphinx-thebe's inline script twice in a page's script list, once with
   file name ``None`` and once with ``''`` (so the copies do not compare equal), and
   ``const THEBE_JS_URL`` is declared twice: a page error. Fixed upstream in Sphinx 8.2, which
   Jupyter Book 1 cannot use; here the list is de-duplicated before rendering.
2. On a first visit the theme sets ``data-mode=""``, which pydata-sphinx-theme logs as a
   console error. An inline script sets the default mode ``auto`` first.
"""

from __future__ import annotations

from typing import Any

THEME_MODE_DEFAULT = (
    'if (!localStorage.getItem("mode")) { localStorage.setItem("mode", "auto"); }\n'
    'if (!document.documentElement.dataset.mode) { document.documentElement.dataset.mode = "auto"; }'
)


def unique_scripts(scripts: list[Any]) -> list[Any]:
    """``scripts`` without repeats, first occurrence kept.

    Two scripts are the same when their file names (``None`` and ``''`` both meaning an inline
    script) and their attributes (including an inline body) agree; the priority is ignored.
    """
    seen, kept = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", None) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def _dedupe(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        scripts[:] = unique_scripts(scripts)  # in place: other handlers hold the same list


def setup(app: Any) -> dict[str, object]:
    """Register both fixes (Sphinx entry point)."""
    app.add_js_file(None, body=THEME_MODE_DEFAULT, priority=0)
    app.connect("html-page-context", _dedupe, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
