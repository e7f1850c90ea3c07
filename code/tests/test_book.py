"""The book pipeline: a full quick build with -W, failures named, parameters reaching the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import BUILT_ARGS, CHAPTER_HEADER, ROOT, build, chapter_names, copy_book

from bnrates.book.cache import stale_reason
from bnrates.book.interactivecheck import raw_tex_in_text
from bnrates.book.toc import read_toc

BROKEN = (
    CHAPTER_HEADER
    + """
# Broken

```{code-cell} ipython3
:tags: [parameters]

profile = "full"  # one of quick, full: set by the pipeline
```

```{code-cell} ipython3
raise RuntimeError("deliberately broken cell")
```
"""
)


def test_every_chapter_is_rendered_with_its_figures_as_images(built: Path) -> None:
    html = built / "_build" / "html"
    assert (html / "index.html").is_file()
    for name in chapter_names():
        page = (html / "chapters" / f"{name}.html").read_text()
        assert "&lt;Figure size" not in page and "<Figure size" not in page, name
        assert "Traceback" not in page, name
    figures = {"reparametrization": 1, "ols": 3, "halfspace": 4, "acceleration": 3, "mlp": 3, "experiments": 4}
    for name, n_figures in figures.items():
        page = (html / "chapters" / f"{name}.html").read_text()
        images = re.findall(r'<img[^>]+src="\.\./_images/[^"]+\.png"', page)
        assert len(images) >= n_figures, (name, len(images))
        for src in re.findall(r'src="\.\./(_images/[^"]+)"', page):
            assert (html / src).is_file()


def test_title_page_links_every_chapter(built: Path) -> None:
    index = (built / "_build" / "html" / "index.html").read_text()
    assert "arXiv:1805.10694" in index
    for name in chapter_names():
        assert f"chapters/{name}.html" in index, name


def test_parameter_override_reaches_the_rendered_page(built: Path) -> None:
    page = (built / "_build" / "html" / "chapters" / "reparametrization.html").read_text()
    assert re.search(r'seed\s*<strong><span class="pasted-text">3</span>', page)
    ols = (built / "_build" / "html" / "chapters" / "ols.html").read_text()
    assert re.search(r'seed <strong><span class="pasted-text">0</span>', ols)


def test_glued_numbers_and_theorems_are_rendered(built: Path) -> None:
    page = (built / "_build" / "html" / "chapters" / "ols.html").read_text()
    assert page.count('class="pasted-text"') >= 10
    assert "proof theorem admonition" in page
    cited = (built / "_build" / "html" / "chapters" / "reparametrization.html").read_text()
    assert re.search(r'<a[^>]+href="bibliography.html#[^"]+"[^>]*>Ioffe', cited)
    bibliography = (built / "_build" / "html" / "chapters" / "bibliography.html").read_text()
    assert "exponential convergence rates for batch normalization" in bibliography.lower()


def copy_with_chapter(built: Path, tmp_path: Path, name: str, text: str) -> Path:
    """A copy of the built book with one more chapter ``name`` (after ``ols``) whose source is ``text``."""
    root = tmp_path / "book"
    shutil.copytree(built, root)
    (root / "chapters" / f"{name}.md").write_text(text)
    toc = (
        (root / "_toc.yml")
        .read_text()
        .replace("      - file: chapters/ols\n", f"      - file: chapters/ols\n      - file: chapters/{name}\n")
    )
    (root / "_toc.yml").write_text(toc)
    return root


def test_a_failing_chapter_fails_the_build_by_name_and_keeps_the_old_book(built: Path, tmp_path: Path) -> None:
    root = copy_with_chapter(built, tmp_path, "broken", BROKEN)
    before = (root / "_build" / "html" / "index.html").read_text()
    result = build(root, "--profile", "quick", "--chapter", "broken")
    assert result.returncode == 1
    assert "chapter 'broken'" in result.stderr
    assert 'raise RuntimeError("deliberately broken cell")' in result.stderr
    assert "RuntimeError: deliberately broken cell" in result.stderr
    assert (root / "_build" / "html" / "index.html").read_text() == before
    assert not list((root / "_build").glob(".stage*"))


SLOW = BROKEN.replace("# Broken", "# Slow").replace(
    'raise RuntimeError("deliberately broken cell")', "import time\ntime.sleep(30)"
)


def test_a_timed_out_cell_fails_the_build_by_name(built: Path, tmp_path: Path) -> None:
    root = copy_with_chapter(built, tmp_path, "slow", SLOW)
    result = build(root, *BUILT_ARGS, "--timeout", "2")
    assert result.returncode == 1
    assert "chapter 'slow' (chapters/slow.md) failed" in result.stderr
    assert "timed out" in result.stderr.lower() or "timeout" in result.stderr.lower()


@pytest.mark.heavy  # a book command in a subprocess per case
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--profile", "fast"), "--profile must be one of quick, full"),
        (("--chapter", "nope"), "--chapter: unknown chapter(s) nope"),
        (("-p", "nope", "seed", "1"), "-p: unknown chapter 'nope'"),
        (("-p", "ols", "nope", "1"), "-p: chapter 'ols' has no parameter 'nope'"),
        (("-p", "ols", "seed", "many"), "-p: parameter 'seed' of chapter 'ols' must be an integer in [0, 4294967295]"),
        (("-p", "ols", "profile", "quick"), "'profile' is set by the pipeline"),
        (("-p", "ols", "results_dir", "x"), "'results_dir' is set by the pipeline"),
        (("--timeout", "0"), "--timeout must be a positive number"),
        (("--jobs", "0"), "--jobs must be a whole number of chapters run at once, at least 1; got 0"),
    ],
)
def test_bad_arguments_fail_before_any_execution(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    root = copy_book(tmp_path)
    result = build(root, *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (root / "_build").exists()


FAILING_CLAIM = BROKEN.replace("# Broken", "# A failing claim").replace(
    'raise RuntimeError("deliberately broken cell")',
    "from bnrates import claims\n"
    "from bnrates.claims.core import Claim, Evidence, run_claim\n"
    "claim = Claim('demo.bound', 'demo', 'a bound that does not hold', '<=', 0.0, lambda p, s: Evidence(2.0, 1.0))\n"
    "claims.require({claim.id: run_claim(claim)})",
)


def test_a_failing_claim_fails_the_build_and_names_the_claim(built: Path, tmp_path: Path) -> None:
    root = copy_with_chapter(built, tmp_path, "demo", FAILING_CLAIM)
    result = build(root, *BUILT_ARGS)
    assert result.returncode == 1
    assert "chapter 'demo'" in result.stderr
    assert "ClaimFailed: 1 claim(s) failed" in result.stderr
    assert "demo.bound: observed 2.0 <= theory 1.0" in result.stderr


def _executed(stdout: str) -> set[str]:
    return set(re.findall(r"\] (\w+) +executed in", stdout))


def test_rebuild_reexecutes_exactly_the_chapters_that_use_a_changed_module(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(built, root)
    unchanged = build(root, *BUILT_ARGS)
    assert unchanged.returncode == 0, unchanged.stderr
    assert _executed(unchanged.stdout) == set(), unchanged.stdout
    users: dict[str, set[str]] = {"mlp.py": set(), "empirical.py": set()}
    for cached in (root / "_build" / "executed" / "quick").glob("*.ipynb"):
        nb = nbformat.read(cached, as_version=4)
        modules = nb.metadata["bnrates"]["inputs"]["modules"]
        for path in modules:
            for name, chapters in users.items():
                if path.endswith(f"bnrates/{name}"):
                    modules[path] = f"a different hash: as if {name} had been edited"
                    chapters.add(cached.stem)
        nbformat.write(nb, cached)
    # the errata and the report read every chapter's claims module; the empirical problem is the
    # experiments chapter's alone (not the halfspace or network chapters')
    assert users == {"mlp.py": {"mlp", "errata", "report"}, "empirical.py": {"experiments", "errata", "report"}}
    changed = build(root, *BUILT_ARGS)
    assert changed.returncode == 0, changed.stderr
    assert _executed(changed.stdout) == {"mlp", "experiments", "errata", "report"}
    assert "(code changed: mlp.py)" in changed.stdout and "(code changed: empirical.py)" in changed.stdout


def test_student_edition_has_no_solutions(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(built, root)
    result = build(root, *BUILT_ARGS, "--no-solutions")
    assert result.returncode == 0, result.stderr
    assert _executed(result.stdout) == set()
    student = (root / "_build" / "html-student" / "chapters" / "ols.html").read_text()
    teacher = (root / "_build" / "html" / "chapters" / "ols.html").read_text()
    assert 'class="solution' in teacher and 'class="solution' not in student
    assert 'class="exercise' in student


@pytest.fixture(scope="module")
def pdf_book(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's book with its PDF rendered (``--pdf``)."""
    root = tmp_path_factory.mktemp("pdf") / "book"
    shutil.copytree(built, root)
    result = build(root, *BUILT_ARGS, "--pdf")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def pdf_text(root: Path, *options: str) -> str:
    pdf = root / "_build" / "pdf" / "book.pdf"
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_contains_every_chapter_title(pdf_book: Path) -> None:
    text = " ".join(pdf_text(pdf_book).split())
    for name in chapter_names():
        title = re.search(r"^# (.+)$", (ROOT / "chapters" / f"{name}.md").read_text(), re.MULTILINE).group(1)
        assert title in text, title
    assert not raw_tex_in_text(text), f"raw TeX in the PDF's text: {raw_tex_in_text(text)[:5]}"


NUMBER_WORDS = ("ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN", "ELEVEN", "TWELVE")


def html_numbers(html: Path, chapters: list[str]) -> tuple[dict[int, str], list[str]]:
    """The HTML's chapter numbers ``{number: title}`` and numbered captions ("Theorem 3.1 (Title)", "Fig. 3.1: ...")."""
    numbered, captions = {}, []
    for name in chapters:
        page = (html / "chapters" / f"{name}.html").read_text()
        head = re.search(r'<h1><span class="section-number">(\d+)\. </span>(.*?)<a class="headerlink"', page)
        if head is None:
            continue  # an unnumbered chapter (the bibliography)
        numbered[int(head.group(1))] = html_to_text(head.group(2))
        for label, rest in re.findall(r'<span class="caption-number">([^<]+?) </span>(.*?)</p>', page, re.DOTALL):
            if label.startswith("Fig."):
                words = html_to_text(re.search(r'caption-text">(.*?)</span>', rest, re.DOTALL).group(1)).split()
                captions.append(f"{label}: {' '.join(words[:4])}")
            else:
                captions.append(f"{label} {html_to_text(rest)}".strip())
    captions = [c.split("\\(")[0].rstrip() for c in captions]  # the PDF typesets the math
    return numbered, captions


def html_to_text(fragment: str) -> str:
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def test_pdf_numbers_chapters_theorems_and_figures_as_the_html(pdf_book: Path) -> None:
    chapters = [c.name for c in read_toc(pdf_book) if c.path.parts[0] == "chapters"]
    numbered, captions = html_numbers(pdf_book / "_build" / "html", chapters)
    assert sorted(numbered) == list(range(1, len(numbered) + 1)) and len(numbered) >= 7
    assert len(captions) > 40 and any(c.startswith("Theorem 3.1 ") for c in captions)
    text = " ".join(pdf_text(pdf_book).split())
    heads = re.findall(r"CHAPTER ([A-Z]+) (.+?) (?=\S+[a-z])", text)
    pdf_chapters = {NUMBER_WORDS.index(word) + 1: title for word, title in heads}
    assert sorted(pdf_chapters) == sorted(numbered), (pdf_chapters, numbered)
    for number, title in numbered.items():
        assert " ".join(pdf_chapters[number].split()).startswith(title.upper()[:20]), (number, title)
    missing = [c for c in captions if c not in text]
    assert not missing, missing


def test_pdf_code_and_claim_tables_fit_the_page(pdf_book: Path) -> None:
    text = pdf_text(pdf_book)
    assert "\u02d3\u2192" not in text and "\u2423" not in text  # no continuation marks, no visible spaces
    assert " id observed relation theory status" not in " ".join(text.split())  # not the plain-text table
    table = pdf_text(pdf_book, "-layout")  # a real table: its rows line up in columns
    assert re.search(r"claim +observed +rel\. +theory +status\n", table)
    assert re.search(r"ols\.rate +1 +≤ +1 +pass\n", table)
    assert re.search(r"ols\.rate_negative_control +\S+ +≤ +1 +expected failure\n", table)
    boxes = pdf_text(pdf_book, "-bbox")
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', boxes, re.DOTALL)
    assert pages
    for number, (width, body) in enumerate(pages, 1):
        right = [float(x) for x in re.findall(r'xMax="([\d.]+)"', body)]
        assert not right or max(right) <= float(width) - 36, f"page {number}: text runs to {max(right)} of {width} pt"


def test_a_chapter_is_stale_when_data_it_reads_changes(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(built, root)
    report = next(c for c in read_toc(root) if c.name == "report")
    assert report.reads == ("data/benchmarks", "data/sabotage")
    cached = root / "_build" / "executed" / "quick" / "report.ipynb"
    parameters = nbformat.read(cached, as_version=4).metadata["papermill"]["parameters"]
    assert stale_reason(root, report, parameters, cached) is None
    (root / "data" / "benchmarks").mkdir(parents=True)
    (root / "data" / "benchmarks" / "2026-01-01.json").write_text("{}")
    assert stale_reason(root, report, parameters, cached) == "data changed"


def test_a_sentence_citing_a_removed_claim_fails_the_build(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(built, root)
    chapter = root / "chapters" / "ols.md"
    text = chapter.read_text()
    cited = "## The theorem\n\nCited: {glue:text}`ols.no_such_claim:.2f`.\n"
    chapter.write_text(text.replace("## The theorem\n", cited, 1))
    result = build(root, *BUILT_ARGS)
    assert result.returncode != 0
    assert "ols.no_such_claim" in result.stdout + result.stderr


def results_files(folder: Path) -> dict[str, object]:
    """Every results file below ``folder``: CSVs as bytes, claims without their timing and commit.

    The commit is the code's provenance, not a result: it gains ``+dirty`` if the work tree
    is edited between two builds.
    """
    files: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".csv":
            files[rel] = path.read_bytes()
        elif path.name == "claims.json":
            saved = json.loads(path.read_text())
            files[rel] = {
                **{k: v for k, v in saved.items() if k != "commit"},
                "claims": [{k: v for k, v in c.items() if k != "seconds"} for c in saved["claims"]],
            }
    return files


@pytest.mark.slow
def test_serial_and_parallel_builds_save_the_same_results(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(built, root)
    parallel = results_files(built / "_build" / "results" / "quick")  # the session's book: --jobs default (cores)
    result = build(root, *BUILT_ARGS, "--force", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert _executed(result.stdout) == {c.name for c in read_toc(root) if c.notebook}
    serial = results_files(root / "_build" / "results" / "quick")
    assert sorted(serial) == sorted(parallel) and len(serial) > 20
    different = [name for name in serial if serial[name] != parallel[name]]
    assert not different, different
    lines = re.findall(r"\[(\d+)/\d+\] (\w+) +executed in", result.stdout)
    assert [int(i) for i, _ in lines] == sorted(int(i) for i, _ in lines)  # serial: in reading order


def test_a_failing_chapter_in_a_parallel_build_names_itself_and_lets_the_others_finish(
    built: Path, tmp_path: Path
) -> None:
    root = copy_with_chapter(built, tmp_path, "broken", BROKEN)
    before = (root / "_build" / "html" / "index.html").read_text()
    saved = root / "_build" / "results" / "quick" / "ols" / "claims.json"
    saved.unlink()
    result = build(root, *BUILT_ARGS, "--chapter", "broken", "--chapter", "ols", "--jobs", "2")
    assert result.returncode == 1
    assert "chapter 'broken'" in result.stderr and "RuntimeError: deliberately broken cell" in result.stderr
    assert "chapter 'ols'" not in result.stderr
    assert re.search(r"\] ols +executed in", result.stdout)  # it ran to the end beside the failing one
    assert not saved.exists()  # but a failed build commits nothing: results, cache records and HTML stay as they were
    assert "report" not in result.stdout  # the report runs only after every other chapter succeeded
    assert (root / "_build" / "html" / "index.html").read_text() == before
    assert not (root / "_build" / ".stage").exists()
