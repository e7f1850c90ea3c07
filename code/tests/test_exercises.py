"""Self-checking coding exercises (bnrates.exercises) and the student edition's notebooks (bnrates.book.edition)."""

from __future__ import annotations

import ast
from typing import Any

import jupytext
import numpy as np
import pytest
from conftest import ROOT

from bnrates.book import edition
from bnrates.exercises import EXERCISES, Verdict, check, get_exercise, relative_error

THEOREM_CHAPTERS = ("reparametrization", "ols", "halfspace", "mlp", "experiments")
DIAGNOSES = [(name, mistake.name) for name, ex in EXERCISES.items() for mistake in ex.mistakes]


def run_cells(sources: list[str]) -> list[Any]:
    """Execute cell sources in one namespace; the value of each cell's last expression (or None)."""
    namespace: dict[str, Any] = {}
    values = []
    for source in sources:
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<cell>", "exec"), namespace)
        values.append(None if last is None else eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace))
    return values


def chapter_exercise_verdicts(nb: Any) -> list[Verdict]:
    values = run_cells([nb.cells[i].source for i in edition.exercise_cells(nb)])
    return [v for v in values if isinstance(v, Verdict)]


@pytest.mark.parametrize("chapter", THEOREM_CHAPTERS)
def test_every_official_solution_passes_its_check(chapter: str) -> None:
    verdicts = chapter_exercise_verdicts(jupytext.read(ROOT / "chapters" / f"{chapter}.md"))
    assert verdicts, f"chapter {chapter} has no coding exercise"
    for verdict in verdicts:
        assert verdict.status == "correct", verdict.message
        assert verdict.exercise.startswith(f"{chapter}.")


@pytest.mark.parametrize("chapter", THEOREM_CHAPTERS)
def test_student_stubs_are_not_done_yet(chapter: str) -> None:
    student = edition.student_notebook(jupytext.read(ROOT / "chapters" / f"{chapter}.md"))
    verdicts = chapter_exercise_verdicts(student)
    assert verdicts and all(v.status == "not done" for v in verdicts)
    assert all("not done yet" in v.message for v in verdicts)


@pytest.mark.parametrize(("name", "mistake"), DIAGNOSES, ids=[f"{n}: {m}" for n, m in DIAGNOSES])
def test_each_classic_mistake_is_named(name: str, mistake: str) -> None:
    wrong = next(m for m in get_exercise(name).mistakes if m.name == mistake).implementation
    verdict = check(name, wrong)
    assert verdict.status == "mistake" and verdict.mistake == mistake, verdict.message
    assert f"It looks like {mistake}." in verdict.message
    assert verdict.error > get_exercise(name).rtol


def perturbed(name: str, scale: float) -> Any:
    """The book's answer plus random noise of relative size ``scale`` (a wrong answer of the right shape)."""
    reference = get_exercise(name).reference
    rng = np.random.default_rng(7)

    def answer(*args: Any) -> Any:
        value = reference(*args)
        items = value if isinstance(value, tuple) else (value,)
        noisy = tuple(np.asarray(v) * (1 + scale * rng.standard_normal(np.shape(v))) for v in items)
        return noisy if isinstance(value, tuple) else (float(noisy[0]) if np.ndim(value) == 0 else noisy[0])

    return answer


@pytest.mark.parametrize("name", list(EXERCISES))
@pytest.mark.parametrize("scale", [1e-3, 0.5])
def test_a_random_wrong_answer_fails_without_a_false_diagnosis(name: str, scale: float) -> None:
    verdict = check(name, perturbed(name, scale))
    assert verdict.status == "wrong" and verdict.mistake is None, verdict.message
    assert "not one of the classic mistakes" in verdict.message


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_reference_passes_and_tiny_noise_is_tolerated(name: str) -> None:
    assert check(name, get_exercise(name).reference).correct
    assert check(name, perturbed(name, 1e-12)).correct


def test_errors_wrong_shapes_and_unknown_names_are_explained() -> None:
    def broken(*args: Any) -> Any:
        raise ZeroDivisionError("oops")

    verdict = check("ols.rayleigh_step", broken)
    assert verdict.status == "error" and "raised ZeroDivisionError: oops" in verdict.message
    verdict = check("ols.rayleigh_step", lambda w, S, u, L: w[:-1])
    assert verdict.status == "error" and "must return shape" in verdict.message
    with pytest.raises(KeyError, match=r"unknown exercise 'ols.nope'\. The exercises are: .*ols.rayleigh_step"):
        get_exercise("ols.nope")
    with pytest.raises(ValueError, match="n_instances"):
        check("ols.rayleigh_step", broken, n_instances=0)


def test_each_checker_message_names_what_the_student_did() -> None:
    """The student forgot ``return``, returned a list, a NaN, or misspelled the exercise's name."""
    reference = get_exercise("ols.rayleigh_step").reference

    def no_return(w: np.ndarray, S: np.ndarray, u: np.ndarray, L: float) -> None:
        reference(w, S, u, L)

    verdict = check("ols.rayleigh_step", no_return)
    assert verdict.status == "error" and "your function returned None: it has no return statement" in verdict.message
    assert "shape" not in verdict.message
    verdict = check("ols.rayleigh_step", lambda w, S, u, L: list(reference(w, S, u, L)))
    assert verdict.status == "error" and "returned a Python list of" in verdict.message
    assert "np.asarray" in verdict.message and "output" not in verdict.message
    verdict = check("ols.rayleigh_step", lambda w, S, u, L: reference(w, S, u, L) * np.nan)
    assert verdict.status == "error" and "returned NaN (from 0/0" in verdict.message
    assert "inf" not in verdict.message.split("(")[0]
    verdict = check("ols.rayleigh_step", lambda w, S, u, L: (reference(w, S, u, L), 1.0))
    assert verdict.status == "error" and "returned 2 outputs; it must return 1" in verdict.message
    verdict = check("ols.rayleigh_stp", reference)
    assert verdict.status == "error" and verdict.exercise == "ols.rayleigh_stp"
    assert "unknown exercise 'ols.rayleigh_stp'. Did you mean 'ols.rayleigh_step'?" in verdict.message
    assert all(name in verdict.message for name in EXERCISES)


def test_a_several_output_answer_names_the_output_at_fault() -> None:
    rng = np.random.default_rng(0)
    name = next(n for n, e in EXERCISES.items() if isinstance(e.reference(*e.instance(rng)), tuple))
    reference = get_exercise(name).reference

    def nan_in_second(*args: Any) -> tuple:
        first, second, *rest = reference(*args)
        return (first, np.full_like(second, np.nan), *rest)

    verdict = check(name, nan_in_second)
    assert verdict.status == "error" and "returned NaN in output 2" in verdict.message, verdict.message
    assert "a tuple of them" in check(name, lambda *args: list(reference(*args))).message


def test_other_seeds_give_other_instances_and_the_same_verdict() -> None:
    seen = []

    def spy(w: np.ndarray, S: np.ndarray, u: np.ndarray, L: float) -> np.ndarray:
        seen.append(w.copy())
        return get_exercise("ols.rayleigh_step").reference(w, S, u, L)

    assert check("ols.rayleigh_step", spy, seed=1).correct and check("ols.rayleigh_step", spy, seed=2).correct
    assert not np.array_equal(seen[0], seen[len(seen) // 2])


def test_the_student_cannot_change_the_instances_in_place() -> None:
    def vandal(w: np.ndarray, S: np.ndarray, u: np.ndarray, L: float) -> np.ndarray:
        out = get_exercise("ols.rayleigh_step").reference(w, S, u, L)
        S[:] = 0.0
        return out

    assert check("ols.rayleigh_step", vandal).correct


def test_relative_error_compares_every_output() -> None:
    assert relative_error((np.ones(3), 2.0), (np.ones(3), 2.0)) == 0.0
    assert relative_error((np.ones(3), 2.2), (np.ones(3), 2.0)) == pytest.approx(0.1)
    assert relative_error(np.ones(3), np.ones(4)) == float("inf")


def test_verdicts_show_as_html_with_their_status() -> None:
    data, meta = check("ols.rayleigh_step", get_exercise("ols.rayleigh_step").reference)._repr_mimebundle_()
    assert "bnrates-verdict-correct" in data["text/html"]
    assert data["text/plain"].startswith("ols.rayleigh_step: correct")
    assert meta["text/html"]["bnrates"]["status"] == "correct"


# ----------------------------------------------------------------------------- the student edition

SOLUTION_CELL = '''import numpy as np


def f(x):
    """Doc."""
    # BEGIN SOLUTION
    y = 2 * x
    return y
    # END SOLUTION
'''


def test_stub_replaces_the_solution_and_keeps_the_rest() -> None:
    stub = edition.stub_source(SOLUTION_CELL)
    assert "y = 2 * x" not in stub and "BEGIN SOLUTION" not in stub
    assert '    """Doc."""\n    raise NotImplementedError("your code here")' in stub
    assert edition.solution_bodies(SOLUTION_CELL) == ["    y = 2 * x\n    return y"]
    namespace: dict[str, Any] = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    for bad in ("def f():\n    # BEGIN SOLUTION\n    pass\n", "def f():\n    pass\n"):
        with pytest.raises(edition.EditionError):
            edition.stub_source(bad)


def test_solution_directives_are_removed_with_their_content() -> None:
    text = (
        "Before.\n\n````{exercise}\n:label: e\n\nDo it.\n````\n\n````{solution} e\n:class: dropdown\n\n"
        "Secret ```code``` inside.\n````\n\n:::{solution} e\nAlso secret.\n:::\nAfter."
    )
    out = edition.strip_solution_directives(text)
    assert "secret" not in out.lower() and "Do it." in out and "Before." in out and "After." in out
    with pytest.raises(edition.EditionError, match="not closed"):
        edition.strip_solution_directives("````{solution} e\nnever closed\n")


@pytest.mark.parametrize("chapter", THEOREM_CHAPTERS)
def test_student_notebook_has_no_solution_text_or_code(chapter: str) -> None:
    nb = jupytext.read(ROOT / "chapters" / f"{chapter}.md")
    bodies = edition.official_solutions([nb])
    assert bodies
    student = "\n".join(c.source for c in edition.student_notebook(nb).cells)
    for body in bodies:
        for line in body.splitlines():
            assert line.strip() not in student, f"solution line {line!r} left in the student {chapter}"
    assert "{solution}" not in student and "BEGIN SOLUTION" not in student
    assert "{exercise}" in student and "exercise-check" in str(edition.student_notebook(nb).cells)
