"""Demonstration cells: the notebook's own calls of graded functions, left out of grading.

Some notebooks train a model for minutes in their own cells (thousands of iterations on
the full dataset) to show the student a cost curve. Grading needs none of that: the
hidden checks call the same functions on small inputs. A kit names such exercises
(``Kit.skip_demonstrations``); a cell that calls one of them and defines nothing, and
any later cell that needs what such a cell computed, is not run while grading. A cell
that defines a function or class, or imports, always runs: what the student's
definitions are never changes. The feedback lists what was left out.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Sequence
from dataclasses import dataclass

PLACEHOLDER = "pass  # a demonstration: not run while grading\n"
_DEFINES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Import,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
)


@dataclass(frozen=True)
class Demonstration:
    """A cell left out: its position among the code cells, and why."""

    index: int
    calls: tuple[str, ...]  # the graded functions it calls; () when it uses their results


def _tree(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # runs, and fails, as is
        return None


def _reads(tree: ast.Module) -> set[str]:
    """Names a cell reads before it sets them itself (statement by statement)."""
    reads: set[str] = set()
    stored: set[str] = set()
    for statement in tree.body:
        names = [node for node in ast.walk(statement) if isinstance(node, ast.Name)]
        reads |= {n.id for n in names if isinstance(n.ctx, ast.Load)} - stored
        stored |= {n.id for n in names if not isinstance(n.ctx, ast.Load)}
    return reads


def demonstrations(sources: Sequence[str], exercises: Collection[str]) -> list[Demonstration]:
    """The cells of ``sources`` (plain Python, in order) not to run while grading."""
    if not exercises:
        return []
    found: list[Demonstration] = []
    computed: set[str] = set()  # names only skipped cells have set
    for index, source in enumerate(sources):
        tree = _tree(source)
        if tree is None:
            continue
        nodes = list(ast.walk(tree))
        stored = {
            node.id
            for node in nodes
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del))
        }
        if any(isinstance(node, _DEFINES) for node in nodes):
            computed -= stored
            continue
        calls = sorted(
            {
                node.func.id
                for node in nodes
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in exercises
            }
        )
        if calls or _reads(tree) & computed:
            found.append(Demonstration(index, tuple(calls)))
            computed |= stored
        else:
            computed -= stored
    return found


def without_demonstrations(sources: Sequence[str], skipped: Sequence[Demonstration]) -> list[str]:
    """``sources`` with each skipped cell replaced by a placeholder (cell numbers stay)."""
    left_out = {demonstration.index for demonstration in skipped}
    return [PLACEHOLDER if index in left_out else source for index, source in enumerate(sources)]


def described(demonstration: Demonstration, label: str) -> str:
    """One line for the student's feedback."""
    if demonstration.calls:
        names = ", ".join(demonstration.calls)
        return (
            f"{label}: not run while grading (it calls {names}, which the hidden "
            "checks test on small inputs instead)"
        )
    return f"{label}: not run while grading (it uses the results of a cell left out)"
