"""The package's shape, checked by reading its source (nothing of it is imported).

Three rules from the architecture notes (ARCHITECTURE.md in the shared folder):

* no import cycles between grader's modules, counting imports inside functions (they
  run too, only later) but not those under ``if TYPE_CHECKING:`` (never run);
* no module over :data:`MAX_LINES` lines;
* no module reaches into another's private members: no ``obj._name`` on anything but
  ``self``, ``cls`` or ``super()`` (as ruff's SLF001), and no ``from grader.x import
  _name``. A private module (``grader/reports/_common.py``) is its package's: its
  siblings may import it.

How imports become edges: ``import grader.a.b`` and ``from grader.a import b`` (``b`` a
submodule) give ``-> grader.a.b``; ``from grader.a import name`` gives ``-> grader.a``
(its ``__init__``). Importing a submodule also runs its packages' ``__init__`` first, but
that is not counted as an edge: else a package whose ``__init__`` re-exports from its
own submodules would always be a cycle with them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "grader"
MAX_LINES = 400
# private names any object may have: namedtuple's API, and the standard library's
# documented private functions
ALLOWED_PRIVATE = frozenset(
    {"_replace", "_asdict", "_fields", "_make", "_field_defaults", "_exit", "_getframe"}
)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({_path(self.source)}:{self.line})"


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _path(module: str) -> str:
    return MODULES[module].relative_to(PACKAGE_DIR.parent).as_posix()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node that may run: all of them but the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _package_of(module: str) -> str:
    is_package = MODULES[module].name == "__init__.py"
    return module if is_package else module.rpartition(".")[0]


def _known(name: str) -> str | None:
    """``name`` if it is one of the package's modules, else its closest known parent."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, tree: ast.AST) -> list[Import]:
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [_known(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(module).split(".")
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else _known(base)
                for alias in node.names
            ]
        else:
            continue
        found += [
            Import(module, target, node.lineno)
            for target in targets
            if target is not None and target != module
        ]
    return found


def _trees() -> dict[str, ast.Module]:
    return {
        name: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for name, path in MODULES.items()
    }


TREES = _trees()


def import_graph() -> dict[str, dict[str, Import]]:
    """module -> {imported module: the first import of it}."""
    graph: dict[str, dict[str, Import]] = {name: {} for name in MODULES}
    for name, tree in TREES.items():
        for edge in _imports(name, tree):
            graph[name].setdefault(edge.target, edge)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # recursive: the package has ~100 modules
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def cycles(graph: dict[str, dict[str, Import]]) -> list[list[Import]]:
    """Shortest cycles (as their imports) through each module of each group, once each."""
    found: dict[frozenset[Import], list[Import]] = {}
    for group in strongly_connected(graph):
        for start in group:
            cycle = _cycle_through(start, group, graph)
            found.setdefault(frozenset(cycle), cycle)
    return list(found.values())


def _cycle_through(
    start: str, group: list[str], graph: dict[str, dict[str, Import]]
) -> list[Import]:
    """A shortest cycle through ``start``, a module of ``group`` (breadth first)."""
    members = set(group)
    came_from: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target, edge in sorted(graph[node].items()):
                if target not in members:
                    continue
                if target == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, came_from[path[0].source])
                    return path
                if target not in came_from:
                    came_from[target] = edge
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # each module of a group is on one


def _is_own(value: ast.expr) -> bool:
    """``self``, ``cls`` or ``super()``: an object's own members."""
    return (isinstance(value, ast.Name) and value.id in ("self", "cls")) or (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "super"
    )


def private_accesses(module: str, tree: ast.AST) -> list[str]:
    """``obj._name`` on anything but self/cls, and private names imported from another
    module (a private module only from outside its package)."""
    found = []
    package = _package_of(module)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
            if (
                name.startswith("_")
                and not name.startswith("__")
                and name not in ALLOWED_PRIVATE
                and not _is_own(node.value)
            ):
                found.append(f"{_path(module)}:{node.lineno}: .{name}")
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if not node.module.startswith("grader"):
                continue
            names = [
                alias.name
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
            found += [
                f"{_path(module)}:{node.lineno}: import of {node.module}.{name}"
                for name in names
                if f"{node.module}.{name}" not in MODULES
                or _package_of(f"{node.module}.{name}") != package
            ]
            parts = node.module.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_")]
            if private and not (package + ".").startswith(".".join(parts[: private[0]]) + "."):
                found.append(f"{_path(module)}:{node.lineno}: import from {node.module}")
    return found


# --- the rules ---------------------------------------------------------------------------


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from grader import errors\n"
        "if TYPE_CHECKING:\n"
        "    from grader.results import SubmissionResult\n"
        "else:\n"
        "    import grader.atomic\n"
        "def f():\n"
        "    from grader.sandbox.server import Sandbox\n"
        "    from grader.sandbox import wire\n"
    )
    targets = {edge.target for edge in _imports("grader.resume", tree)}
    assert targets == {
        "grader.errors",
        "grader.atomic",
        "grader.sandbox.server",
        "grader.sandbox.wire",
    }


def test_cycles_are_found_and_shown_as_a_path():
    def edge(source: str, target: str) -> Import:
        return Import(source, target, 1)

    graph = {
        "grader.errors": {"grader.results": edge("grader.errors", "grader.results")},
        "grader.results": {"grader.resume": edge("grader.results", "grader.resume")},
        "grader.resume": {"grader.errors": edge("grader.resume", "grader.errors")},
        "grader.atomic": {"grader.errors": edge("grader.atomic", "grader.errors")},
    }
    assert strongly_connected(graph) == [["grader.errors", "grader.results", "grader.resume"]]
    [cycle] = cycles(graph)  # the same one through each of its modules
    assert [(e.source, e.target) for e in cycle] == [
        ("grader.errors", "grader.results"),
        ("grader.results", "grader.resume"),
        ("grader.resume", "grader.errors"),
    ]


def test_no_import_cycles():
    found = cycles(import_graph())
    if found:
        shown = "\n\n".join("\n".join(f"  {edge}" for edge in cycle) for cycle in found)
        pytest.fail(
            f"{len(found)} import cycles between grader's modules (each shown as "
            f"its imports; removing one import of a cycle breaks it):\n{shown}",
            pytrace=False,
        )


def test_no_module_is_over_the_line_limit():
    long = {
        _path(name): count
        for name, path in MODULES.items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    if long:
        pytest.fail(f"modules over {MAX_LINES} lines: {long}", pytrace=False)


def test_the_private_rule_is_seen():
    tree = ast.parse(
        "import grader.results as r\n"
        "from grader.sandbox.messages import _cut, CUT\n"
        "from grader.reports._common import fmt_points\n"
        "r._share(self._x, cls._y, t._replace(), other.__dict__, super()._z)\n"
    )
    assert [line.split(": ", 1)[1] for line in private_accesses("grader.resume", tree)] == [
        "import of grader.sandbox.messages._cut",
        "import from grader.reports._common",
        "._share",
    ]
    assert (
        private_accesses(
            "grader.reports.feedback", ast.parse("from grader.reports._common import fmt_points\n")
        )
        == []
    )


def test_no_module_reaches_into_private_members():
    found = [line for name, tree in TREES.items() for line in private_accesses(name, tree)]
    if found:
        pytest.fail("private members used from outside:\n" + "\n".join(found), pytrace=False)


# what names an assignment: the kits' names and their course's module names
ASSIGNMENT_WORDS = (
    "dnn_step_by_step",
    "dnn_application",
    "testCases",
    "dnn_utils",
    "dnn_app_utils",
    "public_tests",
    "two_layer_model",
    "L_layer_model",
    "initialize_parameters",
    "linear_forward",
    "catvnoncat",
)


def _code_strings_and_names(tree: ast.Module) -> list[tuple[int, str]]:
    """Every string constant (docstrings left out: examples may name a course) and
    every identifier, with its line."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, node.attr))
    return found


def test_nothing_outside_a_kit_names_an_assignment():
    """Assignments are plug-ins: the engine, the command and the reports know none."""
    kits = PACKAGE_DIR / "assignments"
    named = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.parent != kits and kits in path.parents:
            continue  # a kit's own folder
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, text in _code_strings_and_names(tree):
            for word in ASSIGNMENT_WORDS:
                if word in text:
                    named.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{line}: {word}")
    for path in sorted(PACKAGE_DIR.rglob("*.j2")):
        text = path.read_text(encoding="utf-8")
        named += [
            f"{path.relative_to(PACKAGE_DIR.parent)}: {word}"
            for word in ASSIGNMENT_WORDS
            if word in text
        ]
    assert named == []
