"""Publishing: `make publish` to a local bare repository, the GitHub workflows, the citation files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import BUILT_ARGS, ROOT, build

from bnrates.book.build import site_config

GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV}
    ).stdout


@pytest.fixture
def repo(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A git repository holding a copy of the built book (committed, clean) and its bare remote."""
    root = tmp_path / "book"
    shutil.copytree(built, root, symlinks=True)
    for name in ("Makefile", ".gitignore"):
        shutil.copy2(ROOT / name, root / name)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "the book")
    git(root, "remote", "add", "origin", str(remote))
    return root, remote


def make_publish(root: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    """``make publish`` in ``root`` with the session's venv (taken as installed), quick profile and build arguments."""
    venv = Path(sys.executable).parents[1]
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "--assume-old",
            str(venv / ".installed"),
            "publish",
            f"VENV={venv}",
            "PROFILE=quick",
            f"BOOK_ARGS={' '.join(BUILT_ARGS[2:])}",
            *variables,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_ENV},
    )


def branches(remote: Path) -> list[str]:
    return git(remote, "branch", "--format=%(refname:short)").split()


def test_make_publish_pushes_the_book_with_nojekyll(repo: tuple[Path, Path]) -> None:
    root, remote = repo
    result = make_publish(root, "PUBLISH_BRANCH=pages")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout  # the build ran first and had nothing to execute
    assert branches(remote) == ["pages"]
    files = set(git(remote, "ls-tree", "-r", "--name-only", "pages").split())
    assert {".nojekyll", "index.html", "chapters/ols.html", "chapters/report.html"} <= files
    assert any(f.startswith("_images/") for f in files) and any(f.startswith("_static/") for f in files)
    head = git(root, "rev-parse", "HEAD").strip()
    assert head in git(remote, "log", "-1", "--format=%s", "pages")
    page = git(remote, "show", "pages:chapters/ols.html")
    assert page == (root / "_build" / "html" / "chapters" / "ols.html").read_text()


def test_a_dirty_tree_is_not_published(repo: tuple[Path, Path]) -> None:
    root, remote = repo
    (root / "chapters" / "notes.md").write_text("an uncommitted file\n")
    result = make_publish(root)
    assert result.returncode != 0
    assert "the work tree is not clean" in result.stderr and "chapters/notes.md" in result.stderr
    assert branches(remote) == []


def test_a_failed_build_is_not_published(repo: tuple[Path, Path]) -> None:
    root, remote = repo
    toc = root / "_toc.yml"
    toc.write_text(
        toc.read_text().replace(
            "      - file: chapters/ols\n", "      - file: chapters/ols\n      - file: chapters/broken\n"
        )
    )
    opening = "from bnrates.book.chapter import open_chapter"
    source = (ROOT / "chapters" / "ols.md").read_text()
    assert opening in source  # the chapter's first code cell, which the broken copy raises in
    (root / "chapters" / "broken.md").write_text(
        source.replace(opening, 'raise RuntimeError("deliberately broken")', 1)
    )
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "a broken chapter")
    result = make_publish(root)
    assert result.returncode != 0
    assert "chapter 'broken'" in result.stderr
    assert branches(remote) == []


def publish(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bnrates.book.publish", "--root", str(root), "--profile", "quick"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_ENV},
    )


def test_failed_claims_are_not_published(repo: tuple[Path, Path]) -> None:
    root, remote = repo
    saved = root / "_build" / "results" / "quick" / "ols" / "claims.json"  # git-ignored: the tree stays clean
    record = json.loads(saved.read_text())
    record["claims"][0]["status"] = "fail"
    saved.write_text(json.dumps(record))
    result = publish(root)
    assert result.returncode == 1
    assert "claims do not check out" in result.stderr and f"failed: {record['claims'][0]['id']}" in result.stderr
    assert branches(remote) == []


def test_a_book_older_than_its_sources_is_not_published(repo: tuple[Path, Path]) -> None:
    root, remote = repo
    chapter = root / "chapters" / "ols.md"
    chapter.write_text(chapter.read_text() + "\nOne more sentence.\n")
    git(root, "commit", "--quiet", "-am", "edit a chapter without building")
    result = publish(root)
    assert result.returncode == 1
    assert "chapter 'ols' of the quick profile is not the one built from this commit (source changed)" in result.stderr
    assert branches(remote) == []


def check_workflows(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("check-jsonschema")),
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, paths),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_workflows_validate_against_the_github_schema(tmp_path: Path) -> None:
    assert {p.name for p in WORKFLOWS} == {"book.yml", "weekly.yml", "links.yml"}
    result = check_workflows(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"  # the schema check can fail: a step may not both use an action and run
    broken.write_text(
        WORKFLOWS[0]
        .read_text()
        .replace("      - name: Build the book\n", "      - name: Build the book\n        uses: a/b@v1\n")
    )
    assert check_workflows(broken).returncode == 1


def test_workflows_build_test_deploy_reexecute_and_check_links() -> None:
    book, links, weekly = (yaml.safe_load(p.read_text()) for p in WORKFLOWS)
    runs = [step.get("run", "") for step in book["jobs"]["build"]["steps"]]
    assert "make book" in runs and "make test" in runs
    assert runs.index("make book") < runs.index("make test")
    uses = [step.get("uses", "") for job in book["jobs"].values() for step in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    assert book["jobs"]["deploy"]["needs"] == "build"
    assert "schedule" in weekly[True] and "continue-on-error" not in weekly["jobs"]["reexecute"]
    assert any("--force" in step.get("run", "") for step in weekly["jobs"]["reexecute"]["steps"])
    assert any(step.get("if") == "failure()" for step in weekly["jobs"]["reexecute"]["steps"])
    assert links["jobs"]["linkcheck"]["continue-on-error"] is True
    assert any("linkcheck" in step.get("run", "") for step in links["jobs"]["linkcheck"]["steps"])


def test_site_config_adds_sitemap_and_opengraph_only_with_a_baseurl() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert site_config(config) == config
    config["html"]["baseurl"] = "https://example.org/bnrates"
    site = site_config(config)
    assert site["sphinx"]["extra_extensions"][-2:] == ["sphinx_sitemap", "sphinxext.opengraph"]
    assert site["sphinx"]["config"]["ogp_site_url"] == "https://example.org/bnrates/"
    assert "sphinx_sitemap" not in config["sphinx"]["extra_extensions"]  # the input is not changed


def test_a_book_with_a_baseurl_has_a_sitemap_and_opengraph(built: Path, tmp_path: Path) -> None:
    assert not (built / "_build" / "html" / "sitemap.xml").exists()
    assert 'property="og:' not in (built / "_build" / "html" / "chapters" / "ols.html").read_text()
    root = tmp_path / "book"
    shutil.copytree(built, root, symlinks=True)
    config = root / "_config.yml"
    config.write_text(config.read_text().replace("html:\n", "html:\n  baseurl: https://example.org/bnrates/\n", 1))
    result = build(root, *BUILT_ARGS)
    assert result.returncode == 0, result.stdout + result.stderr
    html = root / "_build" / "html"
    sitemap = (html / "sitemap.xml").read_text()
    assert "<loc>https://example.org/bnrates/chapters/ols.html</loc>" in sitemap
    page = (html / "chapters" / "ols.html").read_text()
    assert '<meta property="og:url" content="https://example.org/bnrates/chapters/ols.html"' in page
    assert re.search(r'<meta property="og:title" content="\d+\. Ordinary least squares', page)
    assert '<meta property="og:site_name" content="Batch normalization, decoupled"' in page


def bibtex_entries(text: str) -> dict[str, dict[str, str]]:
    from pybtex.database import parse_string

    data = parse_string(text, "bibtex")
    return {
        key: {
            **{k.lower(): v for k, v in e.fields.items()},
            "author": " and ".join(str(p) for p in e.persons.get("author", [])),
        }
        for key, e in data.entries.items()
    }


def test_cite_block_has_the_paper_as_in_the_bibliography_and_the_book(built: Path) -> None:
    index = (ROOT / "index.md").read_text()
    block = re.search(r"## Cite this book\n.*?```bibtex\n(.*?)```", index, re.DOTALL).group(1)
    entries = bibtex_entries(block)
    assert set(entries) == {"kohler2019exponential", "bnrates2026companion"}
    assert (
        entries["kohler2019exponential"]
        == bibtex_entries((ROOT / "references.bib").read_text())["kohler2019exponential"]
    )
    assert "Cite this book" in (built / "_build" / "html" / "index.html").read_text()


def test_citation_cff_names_the_book_and_prefers_the_paper() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["message"] and cff["authors"]
    assert cff["title"].startswith(yaml.safe_load((ROOT / "_config.yml").read_text())["title"])
    paper = cff["preferred-citation"]
    bib = bibtex_entries((ROOT / "references.bib").read_text())["kohler2019exponential"]
    assert paper["title"] == bib["title"]
    assert [f"{a['family-names']}, {a['given-names']}" for a in paper["authors"]] == bib["author"].split(" and ")
    assert (paper["year"], f"{paper['start']}--{paper['end']}", str(paper["volume"])) == (
        int(bib["year"]),
        bib["pages"],
        bib["volume"],
    )
    assert any(i["value"] == bib["note"] for i in paper["identifiers"])
