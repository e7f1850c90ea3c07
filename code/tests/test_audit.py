"""The sentence audit (``bnrates.book.audit``): the parser, the rules, and the committed tables."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT, copy_book

from bnrates.book import audit
from bnrates.book.toc import BookError

NAMES = audit.Known(
    claims=frozenset({"ols.rate", "ols.rate_tight"}),
    labels=frozenset({"thm-ols"}),
    tests=frozenset({"test_ols_rate_matches"}),
)
"""A small registry for the rule tests (independent of the book's)."""


def row(tag: str, sentence: str, reason: str = "", claims: tuple[str, ...] = ()) -> audit.Row:
    return audit.Row("ols", 1, tag, claims, reason, sentence)


def texts(page: str) -> list[tuple[int, str]]:
    return [(s.line, s.text) for s in audit.sentences(page, "p")]


# --- the parser ---


def test_sentences_keep_prose_and_leave_out_code_math_options_and_headings() -> None:
    page = "\n".join(
        [
            "---",  # 1 front matter
            "title: x",
            "---",
            "# A heading. With a stop.",  # 4
            "(sec-x)=",
            "First sentence, e.g. with an",  # 6
            "abbreviation. Second one in $x. Y$ math.",  # 7
            "",
            "```{code-cell} ipython3",  # 9
            "print('Not prose. At all.')",
            "```",
            "$$",  # 12
            "a. B = 1.",
            "$$",
            ":::{prf:theorem} Title",  # 15
            ":label: thm-x",
            "The theorem's body. **[P]**",  # 17
            ":::",
            "1. A numbered item. And more.",  # 19
            "| a row. | Cell |",  # 20
            "|---|---|",
            "<!-- a comment. Not read. -->",
        ]
    )
    assert texts(page) == [
        (6, "First sentence, e.g. with an abbreviation."),
        (7, "Second one in $x. Y$ math."),
        (17, "The theorem's body. **[P]**"),
        (19, "1. A numbered item."),
        (19, "And more."),
        (20, "| a row. | Cell |"),
    ]


def test_an_initial_does_not_end_a_sentence_but_a_unit_does() -> None:
    assert [t for _, t in texts("Shown by A. Smith in 3 s. Then more.")] == ["Shown by A. Smith in 3 s.", "Then more."]


def test_a_sentence_starts_on_its_own_line_within_a_paragraph() -> None:
    page = "One line\ncontinues here. Another\nstarts on line two.\n\nA third on line five."
    assert texts(page) == [
        (1, "One line continues here."),
        (2, "Another starts on line two."),
        (5, "A third on line five."),
    ]


@pytest.mark.parametrize(
    ("sentence", "numeric"),
    [
        ("The gap shrinks by $(1-\\mu/L)^{2t}$ per step.", False),
        ("Each position shows one instance ($d = 20$).", True),
        ("It converges in 37 iterations.", True),
        ("See {numref}`fig-ols-3` and [the code](code/v2.py).", False),
        ("The rate is {glue:text}`ols.rate:.3f`.", True),
        ("A tolerance of $10^{-9}$ holds.", True),
        ("The index `w_2` is code.", False),
    ],
)
def test_states_number_counts_data_not_structure(sentence: str, numeric: bool) -> None:
    assert audit.states_number(sentence) is numeric


def test_glued_claims_recognise_a_claim_and_its_extras_only() -> None:
    sentence = "Rate {glue:text}`ols.rate:.2f`, slope {glue:text}`ols.rate_tight.slope`, other {glue:}`fig-x`."
    assert audit.glued_claims(sentence, NAMES.claims) == {"ols.rate", "ols.rate_tight"}


# --- the rules ---


@pytest.mark.parametrize(
    ("r", "expected"),
    [
        (row("?", "Anything."), "not audited"),
        (row("Q", "Anything.", "x: y"), "tag must be"),
        (row("D", "It converges in 37 iterations.", "reading: what it means"), "cites no registered claim"),
        (row("D", "It converges in 37 iterations.", "", ("ols.nonexistent",)), "not registered"),
        (row("none", "It converges in 37 iterations.", "signpost: what comes"), "tagged none"),
        (row("none", "It converges.", "because"), "must start with one of"),
        (row("P", "The paper says so."), "without a reason"),
        (row("D", "It converges.", "opinion: surely"), "must start with one of"),
        (row("D", "Hence $a = 3b$.", "proof: from the lemma"), "label"),
        (row("D", "The CLI refuses 3 cores.", "test: checked somewhere"), "test function"),
        (row("D", "Your run took 3 s.", "demo: the reader's own run"), "glues none"),
    ],
)
def test_tag_problem_flags_every_unsupported_row(r: audit.Row, expected: str) -> None:
    problem = audit.tag_problem(r, NAMES)
    assert problem is not None and expected in problem


@pytest.mark.parametrize(
    "r",
    [
        row("D", "It converges in 37 iterations.", "", ("ols.rate",)),
        row("D", "It converges at rate {glue:text}`ols.rate:.2f`.", "measured"),
        row("P+D", "The rate is $(1-\\mu/L)^{2}$ **[P]**.", "Theorem 3.1", ("ols.rate",)),
        row("D", "Hence $a = 3b$.", "proof: step of thm-ols"),
        row("D", "The CLI refuses 3 cores.", "test: test_ols_rate_matches"),
        row("none", "Try $d = 40$.", "instruction: the exercise"),
        row("D", "The step is halved.", "code: bnrates.algorithms"),
    ],
)
def test_tag_problem_accepts_a_supported_row(r: audit.Row) -> None:
    assert audit.tag_problem(r, NAMES) is None


def test_problems_report_missing_moved_and_stale_rows_by_page_and_line() -> None:
    said = [audit.Sentence("ols", 3, "Kept."), audit.Sentence("ols", 9, "Moved."), audit.Sentence("ols", 12, "New.")]
    rows = [
        audit.Row("ols", 3, "none", (), "signpost: x", "Kept."),
        audit.Row("ols", 5, "none", (), "signpost: x", "Moved."),
        audit.Row("ols", 7, "none", (), "signpost: x", "Gone."),
    ]
    found = audit.problems({"ols": said}, {"ols": rows, "old": rows[:1]}, NAMES)
    assert found == [
        "ols:9: the row says line 5 -- Moved.",
        "ols:12: no audit row -- New.",
        "ols:7: the row's sentence is not on the page -- Gone.",
        "old: a table for a page that is not audited",
    ]


def test_a_repeated_sentence_needs_a_row_per_occurrence() -> None:
    said = [audit.Sentence("ols", 2, "Same."), audit.Sentence("ols", 8, "Same.")]
    one = [audit.Row("ols", 8, "none", (), "signpost: x", "Same.")]
    assert audit.problems({"ols": said}, {"ols": one}, NAMES) == ["ols:2: no audit row -- Same."]
    both = audit.updated(said, one, NAMES.claims)
    assert [(r.line, r.tag) for r in both] == [(2, "?"), (8, "none")]


def test_update_keeps_tags_moves_lines_and_prefills_glued_claims() -> None:
    rows = [audit.Row("ols", 4, "D", ("ols.rate",), "", "Old sentence.")]
    said = [audit.Sentence("ols", 6, "Old sentence."), audit.Sentence("ols", 9, "At {glue:}`ols.rate_tight`.")]
    assert audit.updated(said, rows, NAMES.claims) == [
        audit.Row("ols", 6, "D", ("ols.rate",), "", "Old sentence."),
        audit.Row("ols", 9, "?", ("ols.rate_tight",), "", "At {glue:}`ols.rate_tight`."),
    ]


def test_table_round_trip_through_csv(tmp_path: Path) -> None:
    rows = [audit.Row("ols", 2, "P+D", ("ols.rate", "ols.rate_tight"), 'Sec. 3, "quoted", comma', "A, b.")]
    path = tmp_path / "ols.csv"
    path.write_text(audit.format_table(rows), encoding="utf-8")
    assert audit.read_table(path) == rows


# --- the committed tables and the book ---


def test_every_sentence_of_the_book_is_audited() -> None:
    assert "no problem" in audit.audit(ROOT)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A copy of the book with its README, audit tables and tests (the names rows cite)."""
    root = copy_book(tmp_path / "book")
    shutil.copy2(ROOT / "README.md", root / "README.md")
    shutil.copytree(ROOT / audit.AUDIT_DIR, root / audit.AUDIT_DIR)
    shutil.copytree(ROOT / "code" / "tests", root / "code" / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_a_new_sentence_with_a_number_fails_the_audit_by_page_and_line(book: Path) -> None:
    chapter = book / "chapters" / "ols.md"
    lines = chapter.read_text(encoding="utf-8").splitlines()
    lines += ["", "With momentum it needs 37 times fewer iterations."]
    chapter.write_text("\n".join(lines) + "\n", encoding="utf-8")
    new = len(lines)
    with pytest.raises(BookError, match=f"ols:{new}: not audited yet"):
        audit.audit(book, update=True, only=["ols"])
    table = book / audit.AUDIT_DIR / "ols.csv"
    rows = audit.read_table(table)
    assert rows[-1].line == new and rows[-1].tag == "?"
    retagged = [*rows[:-1], replace(rows[-1], tag="D", reason="reading: plausible")]
    table.write_text(audit.format_table(retagged), encoding="utf-8")
    with pytest.raises(BookError, match=f"ols:{new}: states a number, tagged D, and cites no registered claim"):
        audit.audit(book, only=["ols"])
    cited = [*rows[:-1], replace(rows[-1], tag="D", claims=("ols.same_order_as_gd",))]
    table.write_text(audit.format_table(cited), encoding="utf-8")
    assert "no problem" in audit.audit(book, only=["ols"])


def test_an_edited_sentence_leaves_a_stale_row(book: Path) -> None:
    chapter = book / "chapters" / "ols.md"
    text = chapter.read_text(encoding="utf-8")
    first = audit.sentences(text, "ols")[0].text.split()[0]
    chapter.write_text(text.replace(first, first + "ly", 1), encoding="utf-8")
    with pytest.raises(BookError, match="the row's sentence is not on the page"):
        audit.audit(book, only=["ols"])


def test_the_cli_names_the_pages_when_page_is_wrong() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bnrates.book", "audit", "--page", "nosuch", "--root", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "--page must name an audited page" in done.stderr and "ols" in done.stderr and "nosuch" in done.stderr
