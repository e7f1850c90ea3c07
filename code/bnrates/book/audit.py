"""The sentence audit: every sentence of the book's prose, tagged with where it comes from.

Every page of the table of contents, the README and the errata rows (``bnrates.claims.errata``)
are split into sentences (:func:`sentences`): prose only, so code cells, included code, display
math, directive options, headings and labels are left out, while theorem, exercise, solution and
admonition bodies, figure captions and table rows are read. Each sentence has a row in
``data/audit/<page>.csv`` (:data:`COLUMNS`) with a tag:

``P``
    confirmed from the paper's text; the reason says where (section, equation, algorithm);
``S``
    as public summaries give it; the reason says what;
``D``
    derived and verified here: the claims that verify it, or (for a statement that is not a
    measurement, such as a proof step or a definition of the book's own) the reason;
``none``
    states no fact; the reason starts with its kind (:data:`NO_FACT`): ``signpost:``,
    ``question:``, ``instruction:`` or ``navigation:``.

Tags combine with ``+`` (``S+D``: the summaries' statement, verified here). A ``D`` row without
a claim gives a reason of a kind in :data:`NOT_MEASURED` (``proof:`` a step of a proof the page
gives, ``arithmetic:`` a computation the sentence shows, ``definition:`` the book's own
convention, ``code:`` what the book's code does, ``reading:`` an interpretation of claims the
reason names, ``test:`` a fact about the book's software that a test checks, ``demo:`` a value
the page glues from a run of the reader's own parameters, which no fixed claim can check). A ``proof:`` reason
names the label of the proof's statement or equation, a ``test:`` reason the test function;
both must exist. :func:`problems` lists what the audit does not cover: a sentence with no row, a
row whose sentence is gone or moved (its line), an unknown tag, kind or claim, a ``P`` or ``S``
row without a reason, and above all **a sentence that states a number**
(:func:`states_number`) **tagged** ``D`` **without a registered claim** (in its row or in the
claim ids it glues) unless its number comes from a proof, an arithmetic step or a definition,
or tagged ``none`` unless it asks or instructs. ``python -m bnrates.book audit``
prints them; ``--update`` moves rows to their sentences' new lines, drops rows whose sentence
is gone and adds a row tagged ``?`` (a problem until someone audits it) for each new sentence.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .toc import read_toc

AUDIT_DIR = Path("data") / "audit"
"""Where the tables live, relative to the book root."""
COLUMNS = ("chapter", "line", "tag", "claims", "reason", "sentence")
"""The columns of a table: the page, the sentence's first line (the errata's row number), its tag,
the claim ids (space-separated) that verify it, why it has its tag, and the sentence itself."""
TAGS = frozenset({"P", "S", "D"})
"""The sources a sentence can rest on (combined with ``+``), besides ``none``."""
UNAUDITED = "?"
"""The tag :func:`update` gives a new sentence."""
NO_FACT = ("signpost", "question", "instruction", "navigation")
"""The kinds of sentence tagged ``none``: the first word of the reason, before a colon."""
NOT_MEASURED = ("proof", "arithmetic", "definition", "code", "reading", "test", "demo")
"""The kinds of ``D`` statement a claim need not back: the first word of the reason, before a colon."""
NUMBER_WITHOUT_CLAIM = frozenset({"proof", "arithmetic", "definition", "test", "demo", "question", "instruction"})
"""The kinds whose sentence may state a number without a claim (a question's or task's number is asked,
not asserted)."""
README = "README"
ERRATA_PAGE = "errata-rows"
"""The page names of the README and of the errata registry's rows."""

PROSE_DIRECTIVES = frozenset(
    {
        "admonition",
        "attention",
        "caution",
        "dropdown",
        "epigraph",
        "exercise",
        "figure",
        "glue:figure",
        "hint",
        "important",
        "margin",
        "note",
        "seealso",
        "solution",
        "tip",
        "warning",
    }
)
"""Directives whose body is prose (besides every ``prf:`` directive); any other fence is skipped."""
FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\s*(?:\{(?P<name>[\w:-]+)\}|(?P<lang>\S*))")
ABBREVIATIONS = ("e.g.", "i.e.", "cf.", "vs.", "et al.", "Fig.", "Eq.", "Sec.", "approx.", "resp.", "etc.")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<body>[^`]*)`")
INLINE_MATH = re.compile(r"\$(?P<body>[^$]+)\$")
LINK_TARGET = re.compile(r"\]\([^)]*\)|<https?://[^>]*>")
TEST = re.compile(r"^\s*def (test_\w+)", re.MULTILINE)
STRUCTURAL = re.compile(r"(?<![\w.])[012](?![\d.])")
"""The numerals 0, 1 and 2 standing alone in a formula (``x^2``, ``w_0``, ``1/2``, ``2t``): structure, not data."""


@dataclass(frozen=True)
class Sentence:
    """One sentence of the prose.

    Attributes
    ----------
    chapter
        The page (``ols``, ``README``, ``errata-rows``).
    line
        The line it starts on (1-based; for the errata, the row's number).
    text
        The sentence, its whitespace collapsed to single spaces.
    """

    chapter: str
    line: int
    text: str


@dataclass(frozen=True)
class Row:
    """One row of an audit table (see :data:`COLUMNS`)."""

    chapter: str
    line: int
    tag: str
    claims: tuple[str, ...]
    reason: str
    sentence: str


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines of a MyST page that hold prose, as ``(line number, line)``; ``""`` ends a paragraph.

    Left out: the YAML front matter, headings, targets ``(label)=``, comments, display math
    (``$$`` blocks and the ``math`` directive), directive titles and options, and every fenced
    block that is not prose (code cells, ``literalinclude``, plain code blocks). Table separator
    rows are dropped and every table row or list item starts a paragraph of its own.
    """
    lines = text.splitlines()
    i = 0
    if lines and lines[0].strip() == "---":
        i = next((j + 1 for j in range(1, len(lines)) if lines[j].strip() == "---"), len(lines))
    stack: list[str] = []  # the open prose fences
    skip_until: str | None = None  # the fence that closes a skipped block
    in_math = in_comment = options = False
    for number, line in enumerate(lines[i:], start=i + 1):
        stripped = line.strip()
        if skip_until is not None:
            if stripped == skip_until:
                skip_until = None
            continue
        if in_comment:
            in_comment = "-->" not in stripped
            continue
        if in_math:
            in_math = not stripped.endswith("$$")
            continue
        if stack and stripped == stack[-1]:
            stack.pop()
            options = False
            yield number, ""
            continue
        fence = FENCE.match(stripped)
        if fence:
            name = fence.group("name")
            prose = name is not None and (name in PROSE_DIRECTIVES or name.startswith("prf:"))
            marker = fence.group("fence")
            if prose:
                stack.append(marker)
                options = True
                yield number, ""
            else:
                skip_until = marker
            continue
        if options:
            if stripped.startswith(":") and not stripped.startswith("::"):
                continue
            options = False
        if stripped.startswith("$$"):
            in_math = not (len(stripped) > 2 and stripped.endswith("$$"))
            yield number, ""
            continue
        if stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if (
            not stripped
            or stripped.startswith("#")
            or re.fullmatch(r"\([\w-]+\)=", stripped)
            or (re.fullmatch(r"\|?[\s:|-]+\|?", stripped) and "-" in stripped)
        ):
            yield number, ""
            continue
        if stripped.startswith("|") or re.match(r"^([-*+]|\d+\.)\s", stripped):
            yield number, ""
        yield number, stripped


def _paragraphs(text: str) -> Iterator[list[tuple[int, str]]]:
    """Consecutive prose lines (:func:`prose_lines`), one list per paragraph."""
    paragraph: list[tuple[int, str]] = []
    for number, line in prose_lines(text):
        if line:
            paragraph.append((number, line))
        elif paragraph:
            yield paragraph
            paragraph = []
    if paragraph:
        yield paragraph


def _ends(joined: str) -> Iterator[int]:
    """Offsets just after each sentence end of ``joined`` (outside inline math and code)."""
    quote: str | None = None
    for k, char in enumerate(joined):
        if char in "$`":
            quote = None if quote == char else (quote or char)
            continue
        if quote or char not in ".!?":
            continue
        rest = joined[k + 1 :]
        after = re.match(r"[)\"'*]*\s+(?=[A-Z*({\[$`\"'0-9])", rest)
        if not after:
            continue
        head = joined[: k + 1]
        if re.fullmatch(r"\s*\d+\.", head):  # a numbered list item's marker
            continue
        if head.endswith(ABBREVIATIONS) or re.search(r"(?:^|\s)[A-Z]\.$", head):  # an initial, not "in 3 s."
            continue
        yield k + 1 + len(after.group(0).rstrip())


def _split(chapter: str, paragraph: list[tuple[int, str]]) -> list[Sentence]:
    """The sentences of one paragraph, with the line each starts on."""
    starts, parts = [], []
    offset = 0
    for number, line in paragraph:
        starts.append((offset, number))
        parts.append(line)
        offset += len(line) + 1
    joined = " ".join(parts)

    def line_at(position: int) -> int:
        return max(n for start, n in starts if start <= position)

    found: list[Sentence] = []
    begin = 0
    for end in [*_ends(joined), len(joined)]:
        piece = joined[begin:end].strip()
        if piece:
            lead = begin + len(joined[begin:end]) - len(joined[begin:end].lstrip())
            if found and re.fullmatch(r"\*\*\[[PSD/, ]+\]\*\*\.?", piece):
                found[-1] = Sentence(chapter, found[-1].line, f"{found[-1].text} {piece}")
            else:
                found.append(Sentence(chapter, line_at(lead), " ".join(piece.split())))
        begin = end
    return found


def sentences(text: str, chapter: str) -> list[Sentence]:
    """Every sentence of the prose of a MyST page (:func:`prose_lines`), in order."""
    return [s for paragraph in _paragraphs(text) for s in _split(chapter, paragraph)]


def errata_sentences() -> list[Sentence]:
    """The sentences of the errata registry's rows: each row's topic is its line number's label.

    The statement as given and what holds (the two texts of an
    :class:`~bnrates.claims.errata.Erratum` a reader reads as sentences), one row number each.
    """
    from ..claims.errata import ERRATA

    found: list[Sentence] = []
    for number, erratum in enumerate(ERRATA, start=1):
        for field in (erratum.given, erratum.holds):
            found.extend(Sentence(ERRATA_PAGE, number, s.text) for s in _split(ERRATA_PAGE, [(number, field)]))
    return found


def glued_keys(text: str) -> list[str]:
    """The names a sentence glues (``{glue:text}`ols.rate:.6f``` gives ``ols.rate``)."""
    return [m.group("body").split(":")[0] for m in ROLE.finditer(text) if m.group("role").startswith("glue")]


def glued_claims(text: str, claim_ids: Iterable[str]) -> set[str]:
    """The registered claims whose numbers a sentence glues (``<claim>`` or ``<claim>.<extra>``)."""
    ids = set(claim_ids)
    found = set()
    for key in glued_keys(text):
        parts = key.split(".")
        for k in range(len(parts), 0, -1):
            if ".".join(parts[:k]) in ids:
                found.add(".".join(parts[:k]))
                break
    return found


def states_number(text: str) -> bool:
    """Whether a sentence states a number: a glued value, or a numeral in its words or formulas.

    Roles other than glue (cross-references, citations, code names), link targets and code in
    backticks do not count; in a formula the lone numerals 0, 1 and 2 (exponents, indices,
    halves) are structure and do not count either, while ``10^{-9}``, ``d = 20`` or ``0.95`` do.
    """
    if glued_keys(text):
        return True
    words = LINK_TARGET.sub(" ", ROLE.sub(" ", text))
    words = re.sub(r"`[^`]*`", " ", words)
    formulas = [m.group("body") for m in INLINE_MATH.finditer(words)]
    words = INLINE_MATH.sub(" ", words)
    if re.search(r"\d", words):
        return True
    return any(re.search(r"\d", STRUCTURAL.sub(" ", re.sub(r"\\[A-Za-z]+", " ", f))) for f in formulas)


def pages(root: Path) -> dict[str, Path]:
    """The audited pages by name: every page of the table of contents and the README."""
    found = {chapter.name: root / chapter.path for chapter in read_toc(root)}
    found[README] = root / "README.md"
    return found


def book_sentences(root: Path) -> dict[str, list[Sentence]]:
    """Every audited sentence by page (:func:`pages`, and the errata rows)."""
    found = {name: sentences(path.read_text(encoding="utf-8"), name) for name, path in pages(root).items()}
    found[ERRATA_PAGE] = errata_sentences()
    return found


def read_table(path: Path) -> list[Row]:
    """The rows of one audit table (none if it does not exist)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Row(r["chapter"], int(r["line"]), r["tag"], tuple(r["claims"].split()), r["reason"], r["sentence"])
            for r in csv.DictReader(f)
        ]


def format_table(rows: Iterable[Row]) -> str:
    """An audit table as CSV text (:data:`COLUMNS`), rows in the order given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.chapter, r.line, r.tag, " ".join(r.claims), r.reason, r.sentence])
    return out.getvalue()


def kind(reason: str) -> str:
    """The kind a reason starts with (``"proof: ..."`` gives ``proof``), or ``""``."""
    head, colon, _ = reason.partition(":")
    return head.strip() if colon else ""


@dataclass(frozen=True)
class Known:
    """What rows may name: registered claim ids, the book's labels, the test functions' names."""

    claims: frozenset[str]
    labels: frozenset[str] = frozenset()
    tests: frozenset[str] = frozenset()


def known(root: Path) -> Known:
    """The claim ids of the registry, the labels of ``chapters/`` and the tests of ``code/tests``."""
    from .. import claims

    tests = {m for path in (root / "code" / "tests").glob("test_*.py") for m in TEST.findall(path.read_text("utf-8"))}
    return Known(
        frozenset(c.id for c in claims.registry()),
        frozenset(claims.chapter_labels(root / "chapters")),
        frozenset(tests),
    )


def tag_problem(row: Row, names: Known) -> str | None:
    """What is wrong with one row's tag, claims and reason on their own (``None`` if nothing)."""
    claim_ids = names.claims
    if row.tag == UNAUDITED:
        return "not audited yet (tag ?)"
    parts = row.tag.split("+")
    if row.tag != "none" and (not set(parts) <= TAGS or len(set(parts)) != len(parts)):
        return f"tag must be none or P, S, D joined by +; got {row.tag!r}"
    unknown = [c for c in row.claims if c not in claim_ids]
    if unknown:
        return f"names claims that are not registered: {', '.join(unknown)}"
    cited = set(row.claims) | glued_claims(row.sentence, claim_ids)
    numeric = states_number(row.sentence)
    if row.tag == "none":
        if kind(row.reason) not in NO_FACT:
            return f"tagged none: the reason must start with one of {', '.join(k + ':' for k in NO_FACT)}"
        if numeric and kind(row.reason) not in NUMBER_WITHOUT_CLAIM:
            return f"states a number but is tagged none as a {kind(row.reason)}"
        return None
    if ("P" in parts or "S" in parts) and not row.reason:
        return "tagged P or S without a reason (where in the paper or the summaries)"
    if "D" in parts and not cited:
        if kind(row.reason) not in NOT_MEASURED:
            return (
                f"tagged D with no claim: the reason must start with one of {', '.join(k + ':' for k in NOT_MEASURED)}"
            )
        if numeric and kind(row.reason) not in NUMBER_WITHOUT_CLAIM:
            return "states a number, tagged D, and cites no registered claim"
        words = set(re.findall(r"[\w-]+", row.reason))
        if kind(row.reason) == "proof" and not words & names.labels:
            return "a proof: reason must name the label of the statement or equation proved"
        if kind(row.reason) == "demo" and not glued_keys(row.sentence):
            return "a demo: reason is for values the page glues, and this sentence glues none"
        if kind(row.reason) == "test" and not words & names.tests:
            return "a test: reason must name a test function of code/tests"
    return None


def _pair(said: list[Sentence], rows: Iterable[Row]) -> tuple[list[Row | None], list[Row]]:
    """Each sentence's row (``None`` if it has none), and the rows left over.

    A row belongs to the sentence with its text; a text repeated on a page first pairs rows and
    sentences on the same line, then the rest in order.
    """
    left: dict[str, list[Row]] = {}
    for r in rows:
        left.setdefault(r.sentence, []).append(r)
    paired: list[Row | None] = [None] * len(said)
    for exact in (True, False):
        for k, s in enumerate(said):
            same = left.get(s.text, [])
            match = next((r for r in same if r.line == s.line or not exact), None)
            if paired[k] is None and match is not None:
                paired[k] = match
                same.remove(match)
    return paired, [r for rest in left.values() for r in rest]


def problems(current: Mapping[str, list[Sentence]], tables: Mapping[str, list[Row]], names: Known) -> list[str]:
    """Everything the audit tables do not cover, as ``page:line: problem -- sentence`` lines."""
    found = []
    for page, said in current.items():
        paired, stale = _pair(said, tables.get(page, []))
        for s, row in zip(said, paired, strict=True):
            if row is None:
                found.append(f"{page}:{s.line}: no audit row -- {s.text}")
                continue
            if row.line != s.line:
                found.append(f"{page}:{s.line}: the row says line {row.line} -- {s.text}")
            problem = tag_problem(row, names)
            if problem:
                found.append(f"{page}:{s.line}: {problem} -- {s.text}")
        found.extend(f"{page}:{r.line}: the row's sentence is not on the page -- {r.sentence}" for r in stale)
    found.extend(
        f"{page}: a table for a page that is not audited" for page in tables if page not in current and tables[page]
    )
    return found


def suggest(s: Sentence, claim_ids: Iterable[str]) -> Row:
    """A new sentence's row: tagged ``?``, with the claims it glues (the auditor sets the tag)."""
    return Row(s.chapter, s.line, UNAUDITED, tuple(sorted(glued_claims(s.text, claim_ids))), "", s.text)


def updated(said: list[Sentence], rows: list[Row], claim_ids: Iterable[str]) -> list[Row]:
    """One page's table after an edit: kept rows at their sentences' lines, new sentences tagged ``?``."""
    ids = set(claim_ids)
    paired, _ = _pair(said, rows)
    return [
        suggest(s, ids) if old is None else Row(s.chapter, s.line, old.tag, old.claims, old.reason, old.sentence)
        for s, old in zip(said, paired, strict=True)
    ]


def load(root: Path) -> tuple[dict[str, list[Sentence]], dict[str, list[Row]]]:
    """The book's sentences and its audit tables (one per page, and any stray table found)."""
    current = book_sentences(root)
    folder = root / AUDIT_DIR
    names = set(current) | {p.stem for p in folder.glob("*.csv")}
    return current, {name: read_table(folder / f"{name}.csv") for name in sorted(names)}


def audit(root: Path, update: bool = False, only: Iterable[str] = ()) -> str:
    """Check (with ``update``, first refresh) the audit tables; the summary line, or ``BookError``.

    ``only`` restricts both to those pages (names as in :func:`pages`, or ``errata-rows``).
    """
    from .toc import BookError

    names = known(root)
    ids = names.claims
    current, tables = load(root)
    chosen = set(only)
    unknown = sorted(chosen - set(current))
    if unknown:
        raise BookError(f"--page must name an audited page ({', '.join(current)}); got {', '.join(unknown)}")
    if chosen:
        current = {p: s for p, s in current.items() if p in chosen}
        tables = {p: r for p, r in tables.items() if p in chosen}
    if update:
        folder = root / AUDIT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for page, said in current.items():
            text = format_table(updated(said, tables.get(page, []), ids))
            target = folder / f"{page}.csv"
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                partial = target.with_suffix(".csv.partial")
                partial.write_text(text, encoding="utf-8")
                partial.replace(target)
        fresh = load(root)[1]
        tables = {p: fresh[p] for p in tables}
    found = problems(current, tables, names)
    if found:
        raise BookError(f"{len(found)} audit problem(s) in {AUDIT_DIR}:\n" + "\n".join(found))
    total = sum(len(s) for s in current.values())
    numbered = sum(states_number(s.text) for said in current.values() for s in said)
    return f"audited {total} sentences on {len(current)} pages ({numbered} state a number): no problem"
