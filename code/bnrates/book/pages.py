"""What a reader sees of an executed chapter: its code, without the pipeline's plumbing.

The book pipeline (:mod:`bnrates.book`) passes every executed notebook through
:func:`present` before Jupyter Book renders it. The chapters' sources are not changed, and
neither is anything the kernel computed:

* papermill's injected cell (tag ``injected-parameters``) is merged into the chapter's own
  ``parameters`` cell -- the values that ran replace the defaults, in place -- and dropped, so
  the page has one parameters cell; that cell is collapsed (tag ``hide-input``) and shows the
  reader's parameters only (the pipeline's ``results_dir`` moves to a ``remove-cell`` cell);
* ``glue`` bookkeeping (``from myst_nb import glue``, ``glue(..., display=False)`` calls and
  loops of them) is moved out of sight: a cell that is nothing but bookkeeping is tagged
  ``remove-cell``; in a cell that also computes, those lines move, with their (invisible)
  outputs, into a ``remove-cell`` cell right after it. myst-nb reads glued values from every
  cell, removed or not, so the numbers in the prose stay;
* a figure cell (``mystnb: figure: caption``) without alt text of its own gets the first
  sentence of its caption, in plain text, as the image's alt text (``mystnb: image: alt``):
  what the figure shows, for a reader who cannot see it.

:func:`present` is idempotent: the pipeline keeps the presented notebook as its cache.
"""

from __future__ import annotations

import ast
import copy
import itertools
import re

import nbformat

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
HIDDEN = "remove-cell"
COLLAPSED = "hide-input"
PIPELINE_PARAMETERS = ("results_dir",)
"""Parameters the pipeline sets for itself (where a run saves its results): not the reader's to
change, so the page's parameters cell does not show them."""


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _tag(cell: nbformat.NotebookNode, tag: str) -> None:
    if tag not in _tags(cell):
        cell.setdefault("metadata", {})["tags"] = [*_tags(cell), tag]


def is_bookkeeping(node: ast.stmt) -> bool:
    """Whether a statement only feeds ``glue``: its import, a ``glue(..., display=False)`` call, or a loop of them."""
    if isinstance(node, ast.ImportFrom):
        return node.module == "myst_nb" and [a.name for a in node.names] == ["glue"]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        return (
            isinstance(call.func, ast.Name)
            and call.func.id == "glue"
            and any(
                k.arg == "display" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in call.keywords
            )
        )
    if isinstance(node, ast.For):
        return not node.orelse and all(is_bookkeeping(n) for n in node.body)
    return False


def split_bookkeeping(source: str) -> tuple[str, str] | None:
    """``source`` split into (what the reader sees, the glue bookkeeping), or ``None`` if there is none.

    Only whole top-level statements on lines of their own are moved; a cell that does not
    parse (IPython magics) or shares a line between statements is left as it is.
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    lines = source.splitlines()
    spans = [(n.lineno, n.end_lineno or n.lineno) for n in body]
    if any(a[1] >= b[0] for a, b in itertools.pairwise(spans)):
        return None
    moved = [span for node, span in zip(body, spans, strict=True) if is_bookkeeping(node)]
    if not moved:
        return None
    hidden = {i for first, last in moved for i in range(first - 1, last)}
    kept = [line for i, line in enumerate(lines) if i not in hidden]
    text = "\n".join(kept).strip("\n")
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text, "\n".join(line for i, line in enumerate(lines) if i in hidden)


def _is_glue_output(output: nbformat.NotebookNode) -> bool:
    return "scrapbook" in output.get("metadata", {})


def _one_line_assignments(source: str) -> dict[str, ast.Assign]:
    """The one-line ``name = value`` statements of ``source``, by name."""
    return {
        node.targets[0].id: node
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.lineno == node.end_lineno
    }


def merge_parameters(nb: nbformat.NotebookNode) -> None:
    """Write the injected values into the ``parameters`` cell (in place), drop the injected cell, collapse it.

    The reader's parameters stay in the cell; the pipeline's own (:data:`PIPELINE_PARAMETERS`)
    leave it for a removed cell right after it, with the chapter's default value, so a page's
    ``.ipynb`` download still runs on its own.
    """
    cells = [c for c in nb.cells if PARAMETERS_TAG in _tags(c)]
    injected = [c for c in nb.cells if INJECTED_TAG in _tags(c)]
    if len(cells) != 1:
        return
    cell = cells[0]
    _tag(cell, COLLAPSED)
    lines = cell.source.splitlines()
    own = _one_line_assignments(cell.source)
    pipeline = [lines[own[name].lineno - 1] for name in PIPELINE_PARAMETERS if name in own]
    values = {}
    if injected:
        for node in ast.parse(injected[0].source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                values[node.targets[0].id] = ast.get_source_segment(injected[0].source, node.value)
    for name, node in sorted(own.items(), key=lambda item: -item[1].lineno):
        if name in PIPELINE_PARAMETERS:
            del lines[node.lineno - 1]
        elif name in values:
            line = lines[node.lineno - 1]
            start, end = node.value.col_offset, node.value.end_col_offset
            lines[node.lineno - 1] = line[:start] + values.pop(name) + line[end:]
    lines += [f"{name} = {value}" for name, value in values.items() if name not in PIPELINE_PARAMETERS]
    cell.source = "\n".join(lines)
    nb.cells = [c for c in nb.cells if not injected or c is not injected[0]]
    if pipeline:
        hidden = nbformat.v4.new_code_cell("\n".join(pipeline), metadata={"tags": [HIDDEN]})
        if "id" in cell:
            hidden.id = f"{cell.id[:54]}-pipeline"  # unique and the same in every build
        nb.cells.insert(nb.cells.index(cell) + 1, hidden)


def hide_bookkeeping(nb: nbformat.NotebookNode) -> None:
    """Move every code cell's ``glue`` bookkeeping out of sight (in place)."""
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code" or HIDDEN in _tags(cell):
            continue
        split = split_bookkeeping(cell.source)
        if split is None:
            continue
        shown, hidden = split
        if not shown:
            _tag(cell, HIDDEN)
            continue
        glue = copy.deepcopy(cell)
        glue.source = hidden
        glue.outputs = [o for o in cell.get("outputs", []) if _is_glue_output(o)]
        if "id" in cell:
            glue.id = f"{cell.id[:58]}-glue"  # unique and the same in every build
        _tag(glue, HIDDEN)
        cell.source = shown
        cell.outputs = [o for o in cell.get("outputs", []) if not _is_glue_output(o)]
        cells.append(glue)
    nb.cells = cells


ROLE = re.compile(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`")
"""A MyST role, ``{eq}`eq-ols``` or ``{doc}`text <target>```: its text is kept."""
TEX_COMMAND = re.compile(r"\\([A-Za-z]+)")


def plain_text(markup: str) -> str:
    r"""MyST caption text as plain text: roles reduced to their text, math to its symbols' names.

    ``$(1-\mu/L)^{2t}$`` becomes ``(1-mu/L)^2t``: what a screen reader can say.
    """
    text = ROLE.sub(r"\1", markup)
    text = re.sub(r"\$([^$]*)\$", lambda m: TEX_COMMAND.sub(r"\1", m.group(1)).replace("{", "").replace("}", ""), text)
    text = text.replace("**", "").replace("*", "").replace("`", "")
    return " ".join(text.split())


def alt_text(caption: str, shortest: int = 40) -> str:
    """The caption's first sentence in plain text (:func:`plain_text`), more while under ``shortest`` characters."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", plain_text(caption))
    text = sentences[0]
    for sentence in sentences[1:]:
        if len(text) >= shortest:
            break
        text = f"{text} {sentence}"
    return text.rstrip(".") + "."


def describe_figures(nb: nbformat.NotebookNode) -> None:
    """Give every captioned figure cell without alt text its caption's first sentence as alt text (in place)."""
    for cell in nb.cells:
        options = cell.get("metadata", {}).get("mystnb", {})
        caption = options.get("figure", {}).get("caption")
        if caption and not options.get("image", {}).get("alt"):
            options.setdefault("image", {})["alt"] = alt_text(caption)


def present(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """An executed chapter as readers see it (a new notebook; see the module docstring)."""
    nb = copy.deepcopy(nb)
    merge_parameters(nb)
    hide_bookkeeping(nb)
    describe_figures(nb)
    return nb
