"""Coding exercises that check themselves: ``check(name, function)``.

A student writes one function of the paper's vocabulary in a chapter (the Theorem step on the
Rayleigh quotient, the GDNP direction step with ``h``, backpropagation through BN, ...).
:func:`check` runs it on random instances (seeded by the exercise's name: the same in every run)
next to the book's own implementation and answers in plain words:

* **correct** -- every output agrees with the book's to the exercise's relative tolerance;
* **a known mistake** -- the outputs agree instead with one of the exercise's classic mistakes.
  These are the book's negative controls (the step without the factor 2, the summary form of
  ``h``, the Euclidean projector, BN backward that treats the batch statistics as constants),
  each written as the function a student would have written;
* **wrong** -- neither: the largest relative error is reported;
* **not done yet** -- the function still raises ``NotImplementedError`` (the student edition's
  stub), or **error** if it raises anything else or returns the wrong shape.

Relative error of an output ``y`` against ``y_ref`` is ``||y - y_ref|| / ||y_ref||`` (Frobenius
norms, every output of a tuple compared separately, the worst one counts).
"""

from __future__ import annotations

import difflib
import html
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .algorithms import step_without_factor_two, theorem_step
from .problems import random_spd
from .rayleigh import rayleigh_argmin, rayleigh_terms
from .reparametrization import gradient_wg, matvec, quadratic_form, s_norm
from .validation import check_int

Array = NDArray[np.float64]
Status = Literal["correct", "mistake", "wrong", "not done", "error"]
N_INSTANCES = 6
"""Random instances per check (dimensions and condition numbers vary between them)."""


@dataclass(frozen=True)
class Mistake:
    """A classic wrong answer to an exercise.

    Attributes
    ----------
    name
        Short name, as the verdict prints it (``"the step without the factor 2"``).
    explanation
        One or two sentences: what the mistake is and where the book shows its effect.
    implementation
        The wrong function, with the exercise's signature.
    """

    name: str
    explanation: str
    implementation: Callable[..., Any]


@dataclass(frozen=True)
class Exercise:
    """One self-checking coding exercise.

    Attributes
    ----------
    name
        ``<chapter>.<function>``, the key of :data:`EXERCISES`.
    signature
        The function the student writes, e.g. ``"rayleigh_step(w, S, u, L) -> w_next"``.
    reference
        The book's implementation (built from the module's functions), same signature.
    instance
        ``rng -> tuple of arguments``: one random instance.
    mistakes
        The diagnoses, tried in order.
    rtol
        Relative tolerance of every output.
    """

    name: str
    signature: str
    reference: Callable[..., Any]
    instance: Callable[[np.random.Generator], tuple[Any, ...]]
    mistakes: tuple[Mistake, ...]
    rtol: float = 1e-8


@dataclass(frozen=True)
class Verdict:
    """The answer of :func:`check`.

    Attributes
    ----------
    exercise
        The exercise's name.
    status
        ``correct``, ``mistake``, ``wrong``, ``not done`` or ``error``.
    message
        The answer in plain words.
    mistake
        The diagnosed mistake's name (only when ``status == "mistake"``).
    error
        Largest relative error against the book's implementation over the instances
        (``nan`` if the function did not return comparable outputs).
    """

    exercise: str
    status: Status
    message: str
    mistake: str | None = None
    error: float = float("nan")

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        return self.message

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, str], dict[str, Any]]:
        colour = {"correct": "#1a7f37", "not done": "#57606a"}.get(self.status, "#cf222e")
        text = html.escape(self.message).replace("\n", "<br>")
        body = (
            f'<div class="bnrates-verdict bnrates-verdict-{self.status.replace(" ", "-")}" '
            f'style="border-left: 4px solid {colour}; padding: 0.3em 0.8em">{text}</div>'
        )
        meta = {"bnrates": {"exercise": self.exercise, "status": self.status, "mistake": self.mistake}}
        return {"text/plain": self.message, "text/html": body}, {"text/html": meta, "text/plain": meta}


# ---------------------------------------------------------------------------------- instances


def _seeds(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))


def _spd(rng: np.random.Generator, d: int) -> Array:
    return random_spd(d, float(10 ** rng.uniform(0.5, 2.5)), [_seeds(rng)])[0]


def _dim(rng: np.random.Generator) -> int:
    return int(rng.integers(3, 9))


def _reparam_instance(rng: np.random.Generator) -> tuple[Array, Array, float, Array]:
    d = _dim(rng)
    return rng.standard_normal(d), rng.standard_normal(d), float(rng.uniform(0.5, 3.0)), _spd(rng, d)


def _ols_instance(rng: np.random.Generator) -> tuple[Array, Array, Array, float]:
    d = _dim(rng)
    S = _spd(rng, d)
    return rng.standard_normal(d), S, rng.standard_normal(d) / np.sqrt(d), float(np.linalg.eigvalsh(S)[-1])


def _gdnp_instance(rng: np.random.Generator) -> tuple[Array, float, Array, Array, float, float, float]:
    w, S, u, L = _ols_instance(rng)
    # g far from +-||w||_S: there the summary form of h coincides with the Stein form
    g = float(s_norm(w, S) * rng.uniform(0.3, 0.7) * rng.choice([-1.0, 1.0]))
    return w, g, S, u, float(rng.uniform(0.2, 1.0)), float(-rng.uniform(0.05, 0.3)), L


def _alignment_instance(rng: np.random.Generator) -> tuple[Array, Array, Array]:
    w, S, u, _ = _ols_instance(rng)
    return w, S, u


def _bn_instance(rng: np.random.Generator) -> tuple[Array, Array, Array, Array]:
    n, m = int(rng.integers(4, 17)), int(rng.integers(2, 6))
    H = rng.standard_normal((n, m)) * rng.uniform(0.5, 2.0, m) + rng.standard_normal(m)
    inv_std = 1.0 / np.sqrt(H.var(axis=0) + 1e-5)
    return rng.standard_normal((n, m)), rng.uniform(0.5, 2.0, m), (H - H.mean(axis=0)) * inv_std, inv_std


# ------------------------------------------------------------- references and classic mistakes


def _euclidean_projector_gradient(grad_wt: Array, w: Array, g: float, S: Array) -> tuple[Array, Array]:
    norm = s_norm(w, S)
    grad_w = g / norm * (grad_wt - w * (w @ grad_wt) / (w @ w))
    return grad_w, (w @ grad_wt) / norm


def _gradient_without_length_factor(grad_wt: Array, w: Array, g: float, S: Array) -> tuple[Array, Array]:
    norm = s_norm(w, S)
    grad_w = grad_wt - matvec(S, w) * (w @ grad_wt) / norm**2
    return grad_w, (w @ grad_wt) / norm


def _rayleigh_step(step: Callable[[Array, Array, Array], Array]) -> Callable[..., Array]:
    def rayleigh_step(w: Array, S: Array, u: Array, L: float) -> Array:
        norm_sq, rho, grad = rayleigh_terms(w, S, u)
        return w - step(norm_sq, rho, np.asarray(L)) * grad

    return rayleigh_step


def _euclidean_step(w: Array, S: Array, u: Array, L: float) -> Array:
    _, rho, grad = rayleigh_terms(w, S, u)
    return w - (w @ w) / (2 * L * abs(rho)) * grad


def _gdnp_step(h_form: str, projector: str = "S") -> Callable[..., Array]:
    def gdnp_direction_step(w: Array, g: float, S: Array, u: Array, c1: float, c2: float, L: float) -> Array:
        wt = g * w / s_norm(w, S)
        grad_wt = c1 * u + c2 * matvec(S, wt)
        grad_w = (
            gradient_wg(grad_wt, w, g, S) if projector == "S" else _euclidean_projector_gradient(grad_wt, w, g, S)
        )[0]
        uw = u @ w
        h = c1 * uw if h_form == "stein" else (c1 + c2 * (u @ wt)) * uw - c2 * uw**2
        return w + s_norm(w, S) ** 3 / (L * g * h) * grad_w

    return gdnp_direction_step


def _s_alignment(w: Array, S: Array, u: Array) -> float:
    target = rayleigh_argmin(S, u)
    return float(abs(quadratic_form(w, S, target)) / (s_norm(w, S) * s_norm(target, S)))


def _euclidean_alignment(w: Array, S: Array, u: Array) -> float:
    target = rayleigh_argmin(S, u)
    return float(abs(w @ target) / (np.linalg.norm(w) * np.linalg.norm(target)))


def _alignment_with_u(w: Array, S: Array, u: Array) -> float:
    return float(abs(w @ u) / (np.linalg.norm(w) * np.linalg.norm(u)))


def _bn_backward(through_statistics: bool) -> Callable[..., tuple[Array, Array, Array]]:
    def bn_backward_exercise(dout: Array, gamma: Array, xhat: Array, inv_std: Array) -> tuple[Array, Array, Array]:
        from .bn_network import bn_backward  # imported here: only the experiments chapter depends on it

        return bn_backward(dout, gamma, (xhat, inv_std), through_statistics=through_statistics)

    return bn_backward_exercise


def _bn_backward_without_variance(dout: Array, gamma: Array, xhat: Array, inv_std: Array) -> tuple[Array, ...]:
    dxhat = dout * gamma
    return inv_std * (dxhat - dxhat.mean(axis=0)), np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in (
        Exercise(
            "reparametrization.gradient_wg",
            "gradient_wg(grad_wt, w, g, S) -> (grad_w, grad_g)",
            gradient_wg,
            _reparam_instance,
            (
                Mistake(
                    "the Euclidean projector",
                    "You projected with I - w w^T / ||w||^2. The direction gradient needs the S-projector "
                    "P_w = I - S w w^T / ||w||_S^2, because the length is measured in the S-norm "
                    "(the Euclidean split fails, as the negative control of this chapter shows).",
                    _euclidean_projector_gradient,
                ),
                Mistake(
                    "the factor g / ||w||_S left out",
                    "Your grad_w has the right direction but not the chain rule's factor g / ||w||_S.",
                    _gradient_without_length_factor,
                ),
            ),
        ),
        Exercise(
            "ols.rayleigh_step",
            "rayleigh_step(w, S, u, L) -> w_next",
            _rayleigh_step(theorem_step),
            _ols_instance,
            (
                Mistake(
                    "the step without the factor 2",
                    "Your step is ||w||_S^2 / (L |rho(w)|), twice the theorem's ||w||_S^2 / (2 L |rho(w)|). "
                    "It doubles the disguised gradient step from 1/L to 2/L, and the per-step bound "
                    "(1 - mu/L)^2 then fails (the remark on the factor 2 in this chapter).",
                    _rayleigh_step(step_without_factor_two),
                ),
                Mistake(
                    "the Euclidean norm in the step",
                    "Your step uses ||w||^2 where the theorem has ||w||_S^2 = w^T S w.",
                    _euclidean_step,
                ),
            ),
        ),
        Exercise(
            "halfspace.gdnp_direction_step",
            "gdnp_direction_step(w, g, S, u, c1, c2, L) -> w_next",
            _gdnp_step("stein"),
            _gdnp_instance,
            (
                Mistake(
                    "the summary form of h",
                    "You used h = E[phi'] u^T w - E[phi''] (u^T w)^2 with E[phi'] = c1 + c2 u^T w~. It equals "
                    "the Stein form h = c1 u^T w only when g = ||w||_S; elsewhere the iterates leave "
                    "Rayleigh gradient descent (the negative control of this chapter).",
                    _gdnp_step("summary"),
                ),
                Mistake(
                    "the Euclidean projector",
                    "Your grad_w f projects with I - w w^T / ||w||^2 instead of P_w = I - S w w^T / ||w||_S^2.",
                    _gdnp_step("stein", projector="euclidean"),
                ),
            ),
        ),
        Exercise(
            "mlp.s_alignment",
            "s_alignment(w, S, u) -> float",
            _s_alignment,
            _alignment_instance,
            (
                Mistake(
                    "the Euclidean cosine",
                    "You measured the cosine between w and S^-1 u in the Euclidean inner product. Alignment "
                    "is |cos| in the S inner product, which depends on the instance only through u^T S^-1 u.",
                    _euclidean_alignment,
                ),
                Mistake(
                    "alignment with u instead of S^-1 u",
                    "You compared w with u. The aligned direction is the least-squares ray S^-1 u.",
                    _alignment_with_u,
                ),
            ),
        ),
        Exercise(
            "experiments.bn_backward",
            "bn_backward(dout, gamma, xhat, inv_std) -> (dH, dgamma, dbeta)",
            _bn_backward(True),
            _bn_instance,
            (
                Mistake(
                    "the batch statistics treated as constants",
                    "Your dH is inv_std * dout * gamma: it ignores that moving one example moves the batch "
                    "mean and variance for all (the negative control of the gradient check).",
                    _bn_backward(False),
                ),
                Mistake(
                    "the variance's term left out",
                    "Your dH keeps the mean's term but drops - xhat * mean(dxhat * xhat), the term that "
                    "comes from the batch variance.",
                    _bn_backward_without_variance,
                ),
            ),
        ),
    )
}


# ---------------------------------------------------------------------------------- checking


def _outputs(value: Any) -> list[Array]:
    items = value if isinstance(value, tuple | list) else (value,)
    return [np.asarray(v, dtype=np.float64) for v in items]


def relative_error(value: Any, reference: Any) -> float:
    """Largest ``||y - y_ref|| / ||y_ref||`` over the outputs of a tuple (``inf`` on a shape mismatch)."""
    ys, refs = _outputs(value), _outputs(reference)
    if len(ys) != len(refs) or any(y.shape != r.shape for y, r in zip(ys, refs, strict=True)):
        return float("inf")
    worst = 0.0
    for y, r in zip(ys, refs, strict=True):
        scale = np.linalg.norm(r)
        err = np.linalg.norm(y - r) / scale if scale > 0 else np.linalg.norm(y)
        worst = max(worst, float(err) if np.isfinite(err) else float("inf"))
    return worst


def answer_problem(answer: Any, reference: Any) -> str | None:
    """What is wrong with the form of one answer, in the words of what the student did.

    ``None`` if ``answer`` can be compared with ``reference``: as many outputs (a tuple for
    several), each of the reference's shape and finite. Otherwise a phrase that completes
    "your function ...", e.g. ``"returned None: ..."``.
    """
    if answer is None:
        return "returned None: it has no return statement, or one path through it returns nothing"
    several = isinstance(reference, tuple)
    if isinstance(answer, list):
        return f"returned a Python list of {len(answer)} items; return a numpy array (np.asarray(...))" + (
            ", or a tuple of them for the several outputs" if several else ""
        )
    want = len(reference) if several else 1
    got = len(answer) if isinstance(answer, tuple) else 1
    if got != want:
        return f"returned {got} output{'s' if got != 1 else ''}; it must return {want}"
    try:
        outputs = _outputs(answer)
    except (TypeError, ValueError):
        return f"returned a {type(answer).__name__}, not numbers"
    for k, (y, r) in enumerate(zip(outputs, _outputs(reference), strict=True)):
        where = f" in output {k + 1}" if several else ""
        if y.shape != r.shape:
            return f"returned shape {y.shape}{where}; it must return shape {r.shape}"
        if np.isnan(y).any():
            return f"returned NaN{where} (from 0/0, inf - inf, or the square root of a negative number)"
        if np.isinf(y).any():
            return f"returned inf{where} (a division by zero, or an overflow)"
    return None


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``; a ``KeyError`` lists the known ones."""
    if name not in EXERCISES:
        raise KeyError(unknown_exercise(name))
    return EXERCISES[name]


def unknown_exercise(name: str) -> str:
    """The message for a name that is not an exercise: the closest names, then every name."""
    close = difflib.get_close_matches(name, list(EXERCISES), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown exercise {name!r}.{hint} The exercises are: {', '.join(EXERCISES)}."


def default_seed(name: str) -> int:
    """The seed of an exercise's instances: derived from its name (the same for every build)."""
    return zlib.crc32(name.encode())


def check(name: str, function: Callable[..., Any], n_instances: int = N_INSTANCES, seed: int | None = None) -> Verdict:
    """Run a student's ``function`` against the book's implementation of exercise ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`EXERCISES`, e.g. ``"ols.rayleigh_step"``.
    function : callable
        The student's answer, with the exercise's signature.
    n_instances : int
        Random instances to try (dimension, condition number and data vary).
    seed : int, optional
        Seed of the instances; default :func:`default_seed` of the name. Pass another to try
        instances the book never showed.

    Returns
    -------
    Verdict
        ``correct`` if every output is within the exercise's relative tolerance of the book's;
        ``mistake`` (naming it) if every output is within it of one classic mistake's;
        ``wrong``, ``not done`` (``NotImplementedError``) or ``error`` otherwise.
    """
    if name not in EXERCISES:
        return Verdict(name, "error", unknown_exercise(name))
    exercise = EXERCISES[name]
    n_instances = check_int("n_instances", n_instances, minimum=1, maximum=1000)
    rng = np.random.default_rng([default_seed(name) if seed is None else check_int("seed", seed, minimum=0), 17])
    instances = [exercise.instance(rng) for _ in range(n_instances)]
    answers = []
    for args in instances:
        try:
            answers.append(function(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args)))
        except NotImplementedError:
            return Verdict(
                name,
                "not done",
                f"{name}: not done yet. Write {exercise.signature} in the cell "
                "above (replace the raise NotImplementedError) and run this cell again.",
            )
        except Exception as error:  # the student's code: any error is an answer to report
            return Verdict(name, "error", f"{name}: your function raised {type(error).__name__}: {error}")
    references = [exercise.reference(*args) for args in instances]
    pairs = list(zip(answers, references, strict=True))
    for i, (answer, reference) in enumerate(pairs):
        problem = answer_problem(answer, reference)
        if problem is not None:
            return Verdict(
                name,
                "error",
                f"{name}: your function {problem} (instance {i + 1} of {n_instances}; "
                f"the exercise is {exercise.signature}).",
            )
    errors = [relative_error(a, r) for a, r in pairs]
    worst = max(errors)
    tol = exercise.rtol
    if worst <= tol:
        return Verdict(
            name,
            "correct",
            f"{name}: correct. On {n_instances} random instances your function agrees "
            f"with the book's to a relative {worst:.1e} (tolerance {tol:.0e}).",
            error=worst,
        )
    for mistake in exercise.mistakes:
        diagnosed = (relative_error(a, mistake.implementation(*x)) for a, x in zip(answers, instances, strict=True))
        if all(e <= tol for e in diagnosed):
            return Verdict(
                name,
                "mistake",
                f"{name}: not yet right. It looks like {mistake.name}. {mistake.explanation}",
                mistake=mistake.name,
                error=worst,
            )
    return Verdict(
        name,
        "wrong",
        f"{name}: not right, and not one of the classic mistakes "
        f"({'; '.join(m.name for m in exercise.mistakes)}). The largest relative error against the "
        f"book's implementation is {worst:.2e} (tolerance {tol:.0e}); "
        f"{sum(e > tol for e in errors)} of {n_instances} instances are off.",
        error=worst,
    )


def verdicts(outputs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``bnrates`` metadata of every :class:`Verdict` among a notebook cell's outputs."""
    found = []
    for output in outputs:
        meta = output.get("metadata", {}).get("text/html", {}).get("bnrates")
        if meta and "exercise" in meta:
            found.append(dict(meta))
    return found
