"""The package's layout holds by test: the mathematics never loads the machinery, and the map is complete."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bnrates

PACKAGE = Path(bnrates.__file__).parent
LAYERS = ("bnrates.book", "bnrates.bench", "bnrates.claims", "bnrates.plotting")
"""Packages no top-level module may load: the pipeline, the benchmarks, the claims, the figures."""


def top_level_modules() -> list[str]:
    """Every top-level module of ``bnrates`` (subpackages and ``__main__`` excluded)."""
    return sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]) if not m.ispkg and m.name != "__main__")


def loaded_layers(module: str) -> list[str]:
    """The modules of :data:`LAYERS` in ``sys.modules`` after importing ``bnrates.<module>`` in a fresh interpreter."""
    code = (
        f"import json, sys\nimport bnrates.{module}\nlayers = {LAYERS!r}\n"
        "print(json.dumps(sorted(n for n in sys.modules if any(n == p or n.startswith(p + '.') for p in layers))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_top_level_holds_the_mathematics() -> None:
    modules = top_level_modules()
    assert {"reparametrization", "rayleigh", "gdnp", "halfspace"} <= set(modules)
    assert not {"book", "bench", "provenance", "browsercheck", "sphinxext"} & set(modules)
    assert not {"errata", "seeds", "explorers", "experiments"} & set(modules), "claims, figures or a chapter's name"


@pytest.mark.parametrize("module", top_level_modules())
def test_a_mathematical_module_loads_no_machinery(module: str) -> None:
    assert loaded_layers(module) == []


def test_the_layering_check_can_fail() -> None:
    assert "bnrates.claims" in loaded_layers("claims.errata")  # the errata read the claims: caught


def import_graph() -> dict[str, set[str]]:
    """Every module of ``bnrates`` and the modules of ``bnrates`` it imports, read from its source.

    Every import statement counts, wherever it is: a function's lazy import and a type-only one
    (``if TYPE_CHECKING``) close a loop as much as one at the top of the file.
    """
    files = {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }
    graph = {}
    for name, path in files.items():
        base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                parent = base[: len(base) - node.level + 1] if node.level else []
                module = ".".join([*parent, *([node.module] if node.module else [])])
                found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def import_loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The loops of ``graph``: its strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                loops.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return loops


def test_no_module_imports_the_command_line() -> None:
    """``bnrates.__main__`` is the top: what a command shares with the claims lives in ``bnrates.claims.core``."""
    assert [name for name, imported in import_graph().items() if "bnrates.__main__" in imported] == []


def test_no_two_modules_import_each_other() -> None:
    """No loop, however long: a data source (``datasets``) sits below the problems that use it (``halfspace``)."""
    assert import_loops(import_graph()) == []


def test_the_loop_check_can_fail() -> None:
    graph = {**import_graph(), "bnrates.datasets": {"bnrates.halfspace"}}
    assert ["bnrates.datasets", "bnrates.empirical", "bnrates.halfspace"] in import_loops(graph)
    assert import_loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


MAP_ENTRY = re.compile(r":mod:`(bnrates(?:\.\w+)*)`")


def package_map() -> list[str]:
    """The modules the package docstring's map names, in order."""
    return MAP_ENTRY.findall(bnrates.__doc__ or "")


def module_files() -> list[str]:
    """Every module and subpackage of ``bnrates``, as dotted names (``__main__`` excluded)."""
    return sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE)], "bnrates.") if not m.name.endswith("__main__"))


def test_every_module_in_the_map_exists_and_is_documented() -> None:
    named = package_map()
    assert len(named) == len(set(named)), "a module is named twice in the map"
    for name in named:
        module = importlib.import_module(name)
        assert (module.__doc__ or "").strip(), f"{name} has no module docstring"


def test_every_module_is_in_the_map() -> None:
    """Each top-level module and subpackage is named; so is each module of a subpackage whose modules are listed."""
    named = set(package_map())
    listed_packages = {n.rsplit(".", 1)[0] for n in named if n.count(".") == 2}
    missing = [
        m for m in module_files() if m.count(".") == 1 or m.rsplit(".", 1)[0] in listed_packages if m not in named
    ]
    assert missing == [], f"modules missing from the map in bnrates/__init__.py: {missing}"


def test_the_claims_chapters_come_from_their_files_in_the_order_of_the_table_of_contents() -> None:
    """Adding a chapter touches no list in code: its claims module is found and ordered by ``_toc.yml``."""
    from bnrates import claims
    from bnrates.book.toc import read_toc

    files = {p.stem for p in (PACKAGE / "claims").glob("*.py")} - {"__init__", "core", "errata", "seeds"}
    toc = [c.name for c in read_toc(PACKAGE.parents[1])]  # parsed as YAML, independently of the claims' reader
    assert claims.CHAPTERS == tuple(name for name in toc if name in files)
    assert set(claims.CHAPTERS) == files
