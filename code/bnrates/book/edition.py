"""The student edition of a chapter: exercises and their checks kept, solutions removed.

A chapter's coding exercise is two code cells. The first, tagged ``exercise-solution``, defines
the function; its body between the lines ``# BEGIN SOLUTION`` and ``# END SOLUTION`` is the
official solution. The second, tagged ``exercise-check``, calls :func:`bnrates.exercises.check`.
Both cells must be self-contained (they import what they use): the student edition runs them
again, alone, in a fresh kernel.

:func:`student_notebook` turns a chapter into its student version: every solution body becomes
``raise NotImplementedError(...)``, and every ``{solution}`` directive (the dropdown proofs) is
removed from the Markdown cells. :func:`run_exercise_cells` executes the stubbed cells so the
check cells say "not done yet"; :func:`write_bundle` writes the clean student notebooks, without
outputs, as one zip for a course platform.
"""

from __future__ import annotations

import copy
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import jupytext
import nbformat

from ..exercises import verdicts

SOLUTION_TAG = "exercise-solution"
CHECK_TAG = "exercise-check"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB = 'raise NotImplementedError("your code here")'
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|:{3,})\{solution\}")
BUNDLE_README = """\
Student notebooks of "Batch normalization, decoupled" (the executable companion to Kohler et al.,
AISTATS 2019). Solutions are removed; every coding exercise has a stub that raises
NotImplementedError and a check cell that tells you whether your answer is right, or which
classic mistake it looks like.

The notebooks import the book's package `bnrates` (folder `code/bnrates` here). Install it next
to the notebooks' kernel with `pip install -e ./code`, or put `code` on PYTHONPATH, then open
`chapters/<chapter>.ipynb` in JupyterLab.
"""


class EditionError(ValueError):
    """A chapter whose exercises do not follow the conventions above."""


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def stub_source(source: str) -> str:
    """``source`` with every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block replaced by :data:`STUB`.

    The stub is indented like the ``# BEGIN SOLUTION`` line. Raises :class:`EditionError` if a
    block is not closed or the cell has none.
    """
    out: list[str] = []
    inside = False
    blocks = 0
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise EditionError(f"nested {BEGIN!r} in:\n{source}")
            inside, blocks = True, blocks + 1
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif stripped == END:
            if not inside:
                raise EditionError(f"{END!r} without {BEGIN!r} in:\n{source}")
            inside = False
        elif not inside:
            out.append(line)
    if inside or blocks == 0:
        raise EditionError(f"a cell tagged {SOLUTION_TAG!r} needs one closed {BEGIN!r} ... {END!r} block:\n{source}")
    return "\n".join(out)


def solution_bodies(source: str) -> list[str]:
    """The lines strictly between each ``# BEGIN SOLUTION`` and ``# END SOLUTION`` of ``source``."""
    bodies: list[str] = []
    current: list[str] | None = None
    for line in source.splitlines():
        if line.strip() == BEGIN:
            current = []
        elif line.strip() == END and current is not None:
            bodies.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return bodies


def strip_solution_directives(markdown: str) -> str:
    """``markdown`` without its ``{solution}`` directives (fenced with backticks or colons)."""
    out: list[str] = []
    closing: str | None = None
    for line in markdown.splitlines():
        if closing is None:
            match = FENCE.match(line)
            if match:
                closing = match["indent"] + match["fence"]
                continue
            out.append(line)
        elif line.rstrip() == closing:
            closing = None
    if closing is not None:
        raise EditionError(f"a {{solution}} directive is not closed (expected a line {closing!r})")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solutions: stubbed solution cells, no ``{solution}`` directives.

    Stubbed cells lose their outputs and the ``hide-input`` tag (the stub is the student's to edit).
    The notebook and its cells lose papermill's metadata: papermill records the notebook it was
    given (here the teacher's, solutions and all) under ``metadata.papermill.input_path``, and
    the page's ``.ipynb`` download would hand it to the student.
    """
    student = copy.deepcopy(nb)
    student.metadata.pop("papermill", None)
    for cell in student.cells:
        cell.metadata.pop("papermill", None)
        if cell.cell_type == "markdown":
            cell.source = strip_solution_directives(cell.source)
        elif cell.cell_type == "code" and SOLUTION_TAG in tags(cell):
            cell.source = stub_source(cell.source)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata["tags"] = [t for t in tags(cell) if t != "hide-input"]
    return student


def exercise_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells tagged ``exercise-solution`` or ``exercise-check``, in order."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and {SOLUTION_TAG, CHECK_TAG} & set(tags(c))]


def run_exercise_cells(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Execute the exercise cells of ``nb`` alone in a fresh kernel and store their outputs in ``nb``.

    Used for the student edition, whose stubs raise ``NotImplementedError``: the check cells
    then show "not done yet". The stubs themselves must not fail (they only define functions).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    indices = exercise_cells(nb)
    if not indices:
        return nb
    part = nbformat.v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    part.cells = [
        nbformat.v4.new_code_cell(nb.cells[i].source, metadata=copy.deepcopy(nb.cells[i].metadata)) for i in indices
    ]
    client = NotebookClient(part, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except CellExecutionError as error:
        raise EditionError(f"an exercise cell failed in the student edition:\n{error}") from None
    for i, cell in zip(indices, part.cells, strict=True):
        nb.cells[i].outputs = cell.outputs
        nb.cells[i].execution_count = cell.execution_count
    return nb


def require_correct(nb: nbformat.NotebookNode, chapter: str) -> int:
    """Check that every exercise check in an executed teacher notebook answered ``correct``.

    Returns the number of checks; raises :class:`EditionError` naming a check that did not pass
    or a check cell that showed no verdict.
    """
    count = 0
    for i in exercise_cells(nb):
        cell = nb.cells[i]
        if CHECK_TAG not in tags(cell):
            continue
        found = verdicts(cell.get("outputs", []))
        if not found:
            raise EditionError(f"chapter {chapter!r}: the exercise check in cell {i} showed no verdict")
        for verdict in found:
            if verdict["status"] != "correct":
                raise EditionError(
                    f"chapter {chapter!r}: the official solution of {verdict['exercise']!r} "
                    f"does not pass its check ({verdict['status']}: {verdict.get('mistake')})"
                )
            count += 1
    return count


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` without outputs, execution counts or execution metadata (in place), validated."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "papermill"):
            cell.metadata.pop(key, None)
    for key in ("papermill", "bnrates"):
        nb.metadata.pop(key, None)
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    nbformat.validate(nb)
    return nb


def with_profile(nb: nbformat.NotebookNode, profile: str) -> nbformat.NotebookNode:
    """``nb`` (in place) with ``profile = "<profile>"`` in its cell tagged ``parameters``, if it has one."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in tags(cell):
            cell.source = re.sub(r"^profile = .*$", f"profile = {profile!r}", cell.source, flags=re.MULTILINE)
    return nb


def write_bundle(
    root: Path, chapters: Iterable[Path], target: Path, package: Path | None = None, profile: str = "quick"
) -> list[str]:
    """Write the student notebooks of ``chapters`` (MyST sources) as one zip at ``target``.

    The notebooks' ``profile`` parameter is set to ``profile`` (``quick``: seconds per chapter on
    a student's laptop).

    Parameters
    ----------
    root : Path
        The book root; ``chapters`` are relative to it (``chapters/ols.md``).
    chapters : iterable of Path
        The executable chapters' sources.
    target : Path
        The zip to write (written to a temporary name, then renamed).
    package : Path, optional
        The ``bnrates`` package folder to include as ``code/bnrates`` (default: the book's).

    Returns
    -------
    list of str
        The names written into the zip.
    """
    package = root / "code" / "bnrates" if package is None else package
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    names: list[str] = []
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in chapters:
            nb = clean_notebook(with_profile(student_notebook(jupytext.read(root / path)), profile))
            name = path.with_suffix(".ipynb").as_posix()
            bundle.writestr(name, nbformat.writes(nb))
            names.append(name)
        for source in sorted(package.rglob("*.py")):
            name = f"code/bnrates/{source.relative_to(package).as_posix()}"
            bundle.write(source, name)
            names.append(name)
        for extra in ("pyproject.toml",):
            if (package.parent / extra).is_file():
                bundle.write(package.parent / extra, f"code/{extra}")
                names.append(f"code/{extra}")
        bundle.writestr("README.txt", BUNDLE_README)
        names.append("README.txt")
    tmp.replace(target)
    return names


def official_solutions(nbs: Sequence[nbformat.NotebookNode]) -> list[str]:
    """Every official solution body of the given (teacher) notebooks, for tests and checks."""
    return [
        body
        for nb in nbs
        for i in exercise_cells(nb)
        if SOLUTION_TAG in tags(nb.cells[i])
        for body in solution_bodies(nb.cells[i].source)
    ]
