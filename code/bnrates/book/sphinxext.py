"""A small Sphinx extension: a guard against a book without numbers, a working launch button, and two
JavaScript errors of the JB1 theme removed.

Guard: the chapters are executed by the pipeline (``make book``, :mod:`bnrates.book`), which
renders a staged copy of the book whose configuration sets ``bnrates_executed``. A plain
``jupyter-book build .`` on the sources would render pages without their numbers, figures or
claim tables (execution is off in ``_config.yml``): it stops at once with a message naming
``make book`` instead (:func:`require_executed`, a Sphinx ``ConfigError``).

Launch button: the theme's Binder/JupyterHub/Colab buttons need a public repository URL, which
the book does not have. Every page built from an executable chapter (a notebook: it has a
kernelspec) gets a "launch" header dropdown (the theme's rocket group) with one entry, "JupyterLab
(local)", linking to ``<bnrates_lab_url>/lab/tree/<page>.md``: the chapter's MyST source in the
JupyterLab that ``make lab`` starts (see :mod:`bnrates.book.launch`), where it opens as a notebook.
``bnrates_lab_url`` is a Sphinx configuration value (``sphinx: config:`` in ``_config.yml``).
If the theme made a launch group of its own, the entry joins it.

Two JavaScript errors, found by :mod:`bnrates.book.browsercheck` on every page:

1. Sphinx 7 ends up with sphinx-thebe's inline script twice in a page's script list, once with
   file name ``None`` and once with ``''`` (so the copies do not compare equal), and
   ``const THEBE_JS_URL`` is declared twice: a page error. Fixed upstream in Sphinx 8.2, which
   Jupyter Book 1 cannot use; here the list is de-duplicated before rendering.
2. On a first visit the theme sets ``data-mode=""``, which pydata-sphinx-theme logs as a
   console error. An inline script sets the default mode ``auto`` first.

Chapter numbers in the PDF: Sphinx's LaTeX numbers every ``\\chapter`` in order, so the title
page's own sections ("How sure is each statement?", ...) became chapters 1 to 3 and the HTML's
chapter 2 was chapter 5, while theorems and figures kept the HTML's numbers. In the assembled
LaTeX document, the title page's sections are unnumbered, and each chapter starts with its
chapter counter set to its number in the HTML (unnumbered if the HTML does not number it, like
the bibliography), so chapters, theorems and figures agree between the two.

One accessibility fault, found by axe-core (:func:`bnrates.book.browsercheck.check_reading`): Sphinx 7
writes the bibliography as ``role="list"`` holding entries of the deprecated role
``doc-biblioentry``, so the list has no ``listitem`` children (a critical violation); the entries
get the role ``listitem`` instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from docutils import nodes
from sphinx import addnodes

NOT_EXECUTED = (
    "this book's chapters are executed by its pipeline, and these sources have not been: "
    "`jupyter-book build .` alone would render pages without their numbers and figures. "
    "Build the book with `make book` (or `python -m bnrates.book build --profile quick` for a fast one); "
    "the HTML is then in _build/html."
)


def require_executed(app: Any, config: Any) -> None:
    """Stop the build unless the configuration says the notebooks were executed (``config-inited``)."""
    if not config.bnrates_executed:
        from sphinx.errors import ConfigError

        raise ConfigError(NOT_EXECUTED)


DEFAULT_LAB_URL = "http://localhost:8888"
"""Where the launch buttons point unless the Sphinx configuration sets ``bnrates_lab_url``."""
LAUNCH_GROUP = "launch-buttons"
"""The label of the theme's launch dropdown in ``context["header_buttons"]``."""
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


BIBLIOENTRY = 'role="doc-biblioentry"'


def citation_roles(body: str) -> str:
    """A page body with its bibliography entries as list items of their ``role="list"`` container."""
    return body.replace(BIBLIOENTRY, 'role="listitem"')


def _citations(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if BIBLIOENTRY in context.get("body", ""):
        context["body"] = citation_roles(context["body"])


LATEX_SAVE_DEPTH = r"\setcounter{bnratesdepth}{\value{secnumdepth}}\setcounter{secnumdepth}{-1}"
LATEX_UNNUMBERED = r"\setcounter{secnumdepth}{-1}"
LATEX_PREAMBLE = r"\newcounter{bnratesdepth}"


def latex_chapter_start(number: int | None) -> str:
    """LaTeX that makes the next ``\\chapter`` carry ``number`` (``None``: unnumbered)."""
    if number is None:
        return LATEX_UNNUMBERED
    return rf"\setcounter{{secnumdepth}}{{\value{{bnratesdepth}}}}\setcounter{{chapter}}{{{number - 1}}}"


def _latex_numbers(app: Any, doctree: Any, docname: str) -> None:
    if app.builder.name != "latex" or docname != app.config.root_doc:
        return
    numbers = app.env.toc_secnumbers
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    top.insert(1, nodes.raw("", LATEX_SAVE_DEPTH, format="latex"))  # after the title: the book's title page
    for start in list(doctree.findall(addnodes.start_of_file)):
        if start.parent is None or any(isinstance(a, addnodes.start_of_file) for a in _ancestors(start)):
            continue
        number = numbers.get(start["docname"], {}).get("")
        raw = nodes.raw("", latex_chapter_start(number[0] if number else None), format="latex")
        start.parent.insert(start.parent.index(start), raw)


def _ancestors(node: Any) -> list[Any]:
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def _latex_preamble(app: Any, config: Any) -> None:
    elements = dict(config.latex_elements)
    elements["preamble"] = elements.get("preamble", "") + "\n" + LATEX_PREAMBLE + "\n"
    config.latex_elements = elements


def lab_url(base: str, pagename: str) -> str:
    """The JupyterLab address that opens a page's source as a notebook.

    Parameters
    ----------
    base : str
        Where JupyterLab runs (``http://localhost:8888``), serving the book root.
    pagename : str
        The Sphinx page name (``chapters/ols``); its source in the book is ``<pagename>.md``.

    Returns
    -------
    str
        ``<base>/lab/tree/<pagename>.md``.
    """
    return f"{base.rstrip('/')}/lab/tree/{quote(pagename)}.md"


def add_launch_link(header_buttons: list[dict[str, Any]], url: str) -> None:
    """Add the "JupyterLab (local)" entry to the launch dropdown of a page's header buttons.

    Parameters
    ----------
    header_buttons : list of dict
        ``context["header_buttons"]`` of sphinx-book-theme, changed in place.
    url : str
        The entry's link (see :func:`lab_url`).

    Notes
    -----
    The entry joins the theme's launch group if there is one; otherwise a group of the same
    shape (rocket icon) is put first, where the theme puts its own.
    """
    link = {
        "type": "link",
        "text": "JupyterLab (local)",
        "tooltip": "Run this chapter in your own JupyterLab (start it with `make lab`)",
        "icon": "fas fa-laptop-code",
        "url": url,
    }
    for button in header_buttons:
        if button.get("label") == LAUNCH_GROUP:
            button["buttons"].append(link)
            return
    header_buttons.insert(
        0,
        {
            "type": "group",
            "tooltip": "Launch interactive content",
            "icon": "fas fa-rocket",
            "buttons": [link],
            "label": LAUNCH_GROUP,
        },
    )


def _launch(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if "kernelspec" in app.env.metadata.get(pagename, {}):
        add_launch_link(context["header_buttons"], lab_url(app.config.bnrates_lab_url, pagename))


def setup(app: Any) -> dict[str, object]:
    """Register the launch button and the fixes (Sphinx entry point)."""
    app.add_config_value("bnrates_lab_url", DEFAULT_LAB_URL, "html", types=[str])
    app.add_config_value("bnrates_executed", False, "env", types=[bool])
    app.connect("config-inited", require_executed)
    app.add_js_file(None, body=THEME_MODE_DEFAULT, priority=0)
    app.connect("html-page-context", _dedupe, priority=999)
    app.connect("html-page-context", _citations)
    app.connect("config-inited", _latex_preamble)
    app.connect("doctree-resolved", _latex_numbers)
    # after the theme's own launch buttons (priority 501), so that the entry can join their group
    app.connect("html-page-context", _launch, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
