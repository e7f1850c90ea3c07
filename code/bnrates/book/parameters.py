"""Chapter parameters declared once, with their ranges, in the chapter's ``parameters`` cell.

Every assignment in a chapter's cell tagged ``parameters`` carries its declaration as a trailing
comment, which the reader sees on the page, the pipeline checks before any kernel starts and
this module parses::

    seed = 0  # in [0, 4294967295]: base seed of every random stream
    kappa_demo = 50.0  # in [2, 10000]: condition number of the demo run
    profile = "full"  # one of quick, full: set by the pipeline
    results_dir = "../data/results"  # a folder: set by the pipeline

``in [lo, hi]`` declares a closed range (an integer range if the default is an ``int``, a range
of finite reals if it is a ``float``); ``one of a, b`` a choice of strings; ``a folder`` a path.
The text after the colon says what the parameter is. A size-like parameter always has an upper
bound, so no value can ask for unbounded memory or time.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from dataclasses import dataclass

from ..validation import check_int, check_real

SEED_MAX = 2**32 - 1
"""Largest base seed: streams derived as ``1000 * seed + k`` (int64 arrays) stay far from overflow."""

_RANGE = re.compile(r"^in \[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\]\s*(?::\s*(.*))?$")
_CHOICE = re.compile(r"^one of ([^:]+?)\s*(?::\s*(.*))?$")
_FOLDER = re.compile(r"^a folder\s*(?::\s*(.*))?$")


class ParameterError(ValueError):
    """A parameter value outside its declared range, or a parameter without a declaration."""


@dataclass(frozen=True)
class Declaration:
    """What one chapter parameter may be.

    Attributes
    ----------
    name, default
        The parameter and its default value in the ``parameters`` cell.
    kind
        ``"int"``, ``"real"``, ``"choice"`` or ``"folder"``.
    low, high
        Closed bounds for ``int`` and ``real``.
    choices
        Allowed strings for ``choice``.
    note
        What the parameter is (the comment after the colon).
    """

    name: str
    default: object
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    note: str = ""

    def describe(self) -> str:
        """The allowed values in words: ``an integer in [0, 4294967295]``."""
        if self.kind == "int":
            return f"an integer in [{self.low:d}, {self.high:d}]"
        if self.kind == "real":
            return f"a finite number in [{self.low:g}, {self.high:g}]"
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        return "a folder (a string)"

    def check(self, value: object) -> object:
        """``value`` if it is allowed (an ``int`` is accepted for a real), else :class:`ParameterError`."""
        try:
            if self.kind == "int":
                if self.low is None or self.high is None:
                    raise TypeError("an int parameter has both bounds")
                return check_int(self.name, value, minimum=int(self.low), maximum=int(self.high))
            if self.kind == "real":
                return check_real(self.name, value, minimum=self.low, maximum=self.high)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"{self.name} must be {self.describe()}, got {value!r}") from None
        if self.kind == "choice" and value not in self.choices:
            raise ParameterError(f"{self.name} must be {self.describe()}, got {value!r}")
        if self.kind == "folder" and not (isinstance(value, str) and value):
            raise ParameterError(f"{self.name} must be {self.describe()}, got {value!r}")
        return value


def _bound(text: str, integer: bool) -> float:
    value = ast.literal_eval(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"bound {text!r} is not a finite number")
    if integer and value != int(value):
        raise ParameterError(f"bound {text!r} of an integer parameter is not an integer")
    return int(value) if integer else float(value)


def declare(name: str, default: object, comment: str) -> Declaration:
    """The declaration of ``name = default  # comment`` (the comment without its ``#``)."""
    comment = comment.strip()
    if m := _RANGE.match(comment):
        integer = isinstance(default, int) and not isinstance(default, bool)
        if not integer and not isinstance(default, float):
            raise ParameterError(f"{name}: a range needs an int or float default, got {default!r}")
        low, high = _bound(m[1], integer), _bound(m[2], integer)
        if not low <= high:
            raise ParameterError(f"{name}: empty range [{m[1]}, {m[2]}]")
        declaration = Declaration(name, default, "int" if integer else "real", low, high, note=m[3] or "")
    elif m := _CHOICE.match(comment):
        choices = tuple(c.strip() for c in m[1].split(","))
        declaration = Declaration(name, default, "choice", choices=choices, note=m[2] or "")
    elif m := _FOLDER.match(comment):
        declaration = Declaration(name, default, "folder", note=m[1] or "")
    else:
        raise ParameterError(
            f"parameter {name!r} declares no range: end its line with "
            f"'# in [low, high]: ...', '# one of a, b: ...' or '# a folder: ...'"
        )
    declaration.check(default)
    return declaration


def declarations(source: str) -> dict[str, Declaration]:
    """Every parameter of a ``parameters`` cell's ``source`` with its declaration, in order."""
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string[1:]
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            found[name] = declare(name, ast.literal_eval(node.value), comments.get(node.end_lineno or node.lineno, ""))
    return found
