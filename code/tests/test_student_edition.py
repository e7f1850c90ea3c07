"""The student edition and the notebooks bundle keep the exercises and checks, and lose every solution."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import BUILT_ARGS, ROOT, build

from bnrates.book import edition
from bnrates.book.build import NOTEBOOKS_ZIP

THEOREM_CHAPTERS = ("reparametrization", "ols", "halfspace", "mlp", "experiments")
FENCE = re.compile(r"^(`{3,}|:{3,})\{solution\}.*?^\1$", re.MULTILINE | re.DOTALL)


def solution_code_lines() -> list[str]:
    """Every non-trivial line of every official solution's code."""
    nbs = [jupytext.read(ROOT / "chapters" / f"{c}.md") for c in THEOREM_CHAPTERS]
    return [
        " ".join(line.split())
        for body in edition.official_solutions(nbs)
        for line in body.splitlines()
        if len(line.strip()) > 12
    ]


def solution_phrases() -> list[str]:
    """Plain-word phrases (no math, no markup) of the dropdown solutions' prose."""
    phrases = []
    for chapter in THEOREM_CHAPTERS:
        for block in FENCE.finditer((ROOT / "chapters" / f"{chapter}.md").read_text()):
            text = re.sub(r"\$[^$]*\$|`[^`]*`|\{[^}]*\}", "|", " ".join(block.group(0).splitlines()[2:-1]))
            phrases += [
                p.strip() for p in re.split(r"[|()\[\]:;*'\"]", text) if re.fullmatch(r"[A-Za-z ,.]{30,}", p.strip())
            ]
    return phrases


def page_text(path: Path) -> str:
    """A page of the built site as its reader sees it: tags removed and entities decoded."""
    content = path.read_text(encoding="utf-8", errors="replace")
    return html.unescape(re.sub(r"<[^>]+>", "", content)) if path.suffix == ".html" else content


def json_strings(value: object) -> list[str]:
    """Every string in a parsed JSON document, keys included, depth first."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *json_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in json_strings(v)]
    return [value] if isinstance(value, str) else []


def file_text(name: str, data: bytes) -> str:
    """Everything a reader of the file ``name`` can get at, as text.

    A notebook gives every string in its JSON (sources, outputs, metadata: the solution once
    survived in papermill's metadata), a zip the text of each member, an HTML page its shown
    words and its markup (attributes, scripts), any other file its bytes decoded.
    """
    raw = data.decode("utf-8", errors="replace")
    if name.endswith(".ipynb"):
        return "\n".join(json_strings(json.loads(raw)))
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            return "\n".join(file_text(member, bundle.read(member)) for member in bundle.namelist())
    if name.endswith(".html"):
        return html.unescape(re.sub(r"<[^>]+>", "", raw)) + "\n" + html.unescape(raw)
    return raw


def site_files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (the built site: pages, ``_sources``, ``_images``, downloads,
    the search index) as text, by path, whitespace collapsed to single spaces."""
    return {
        p.relative_to(folder).as_posix(): " ".join(file_text(p.name, p.read_bytes()).split())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def site_text(folder: Path) -> str:
    """Every file of the built site as one text."""
    return "\n".join(site_files(folder).values())


def leaks(files: dict[str, str]) -> list[tuple[str, str]]:
    """``(file, what)`` for every solution code line, solution phrase or marker found in ``files``."""
    wanted = [*solution_code_lines(), *solution_phrases(), edition.BEGIN, edition.END, "{solution}"]
    return [(name, w) for name, text in files.items() for w in wanted if w in text]


@pytest.fixture(scope="module")
def student_book(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("student") / "book"
    shutil.copytree(built, root, symlinks=True)
    result = build(root, *BUILT_ARGS, "--no-solutions")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "student edition: solutions removed, exercise stubs run in" in result.stdout
    return root


def test_the_phrases_and_code_searched_for_are_in_the_teacher_edition(built: Path) -> None:
    teacher = site_text(built / "_build" / "html")
    lines, phrases = solution_code_lines(), solution_phrases()
    assert len(lines) >= 15 and len(phrases) >= 10
    assert [line for line in lines if line not in teacher] == []
    assert [p for p in phrases if p not in teacher] == []


def test_no_solution_text_or_code_in_any_file_of_the_student_edition(student_book: Path) -> None:
    site = student_book / "_build" / "html-student"
    files = site_files(site)
    assert len(files) == sum(p.is_file() for p in site.rglob("*"))
    downloads = [n for n in files if n.startswith("_sources/chapters/") and n.endswith(".ipynb")]
    assert {f"_sources/chapters/{c}.ipynb" for c in THEOREM_CHAPTERS} <= set(downloads)
    assert any(n.startswith("_images/") for n in files) and "searchindex.js" in files
    assert leaks(files) == []


def test_the_leak_check_finds_a_solution_hidden_in_a_downloads_metadata(student_book: Path) -> None:
    """The leak of issue 25, planted again: the teacher's chapter inside the download's metadata."""
    site = student_book / "_build" / "html-student"
    download = site / "_sources" / "chapters" / "ols.ipynb"
    nb = nbformat.read(download, as_version=4)
    nb.metadata["papermill"] = {"input_path": jupytext.read(ROOT / "chapters" / "ols.md")}
    planted = {"_sources/chapters/ols.ipynb": " ".join(file_text(download.name, nbformat.writes(nb).encode()).split())}
    found = leaks(planted)
    assert ("_sources/chapters/ols.ipynb", edition.BEGIN) in found
    assert any(what in solution_code_lines() for _, what in found)
    with io.BytesIO() as buffer:
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("notebooks/ols.ipynb", nbformat.writes(nb))
        assert edition.BEGIN in file_text("downloads.zip", buffer.getvalue())


@pytest.mark.parametrize("chapter", THEOREM_CHAPTERS)
def test_student_checks_say_not_done_yet_and_teacher_checks_pass(built: Path, student_book: Path, chapter: str) -> None:
    student = page_text(student_book / "_build" / "html-student" / "chapters" / f"{chapter}.html")
    teacher = page_text(built / "_build" / "html" / "chapters" / f"{chapter}.html")
    assert re.search(rf"{chapter}\.\w+: not done yet\.", student)
    assert 'raise NotImplementedError("your code here")' in student
    assert re.search(rf"{chapter}\.\w+: correct\. On \d+ random instances", teacher)
    assert "not done yet" not in teacher


def test_the_teacher_cache_is_not_overwritten_by_the_student_edition(student_book: Path) -> None:
    cached = nbformat.read(student_book / "_build" / "executed" / "quick" / "ols.ipynb", as_version=4)
    assert "BEGIN SOLUTION" in "\n".join(c.source for c in cached.cells)


def test_a_wrong_official_solution_stops_the_teacher_build(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(built, root, symlinks=True)
    source = root / "chapters" / "ols.md"
    text = source.read_text()
    assert "eta = b / (2.0 * L * abs(-a * a / b))" in text
    source.write_text(text.replace("eta = b / (2.0 * L * abs(-a * a / b))", "eta = b / (L * abs(-a * a / b))"))
    result = build(root, *BUILT_ARGS, "--chapter", "ols")
    assert result.returncode == 1
    assert (
        "chapter 'ols': the official solution of 'ols.rayleigh_step' does not pass its check "
        "(mistake: the step without the factor 2)"
    ) in result.stderr


def test_the_notebooks_bundle_is_clean_and_valid(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(built, root, symlinks=True)
    from bnrates.book.__main__ import main

    assert main(["notebooks", "--root", str(root)]) == 0
    with zipfile.ZipFile(root / NOTEBOOKS_ZIP) as bundle:
        names = bundle.namelist()
        assert {f"chapters/{c}.ipynb" for c in THEOREM_CHAPTERS} <= set(names)
        assert "code/bnrates/exercises.py" in names and "README.txt" in names
        texts = []
        for name in names:
            if not name.endswith(".ipynb"):
                continue
            nb = nbformat.reads(bundle.read(name).decode(), as_version=4)
            nbformat.validate(nb)
            assert nb.metadata["kernelspec"]["name"] == "python3"
            assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
            texts.append("\n".join(c.source for c in nb.cells))
            assert "profile = 'quick'" in texts[-1], name
        files = {name: " ".join(file_text(name, bundle.read(name)).split()) for name in names}
    text = " ".join("\n".join(texts).split())
    assert text.count('raise NotImplementedError("your code here")') >= len(THEOREM_CHAPTERS)
    # the package may name the markers (bnrates.book.edition defines them), never hold a solution
    markers = {edition.BEGIN, edition.END, "{solution}"}
    assert [(n, w) for n, w in leaks(files) if not (n.startswith("code/") and w in markers)] == []
