"""Helper modules imported under other names: which release module a submission meant.

Real notebooks import the helpers under the names of other course versions or of the
follow-up assignment (``from dnn_app_utils_v3 import sigmoid``, ``import public_tests1``).
In Jupyter such an import fails only because the student's folder named the file
differently, so the grader gives the release's module that defines what the import
asks for, and says so in the submission's result. An import that no release module can
answer (names it does not define, a module that does not look like a helper) is left
alone: it fails as it would in Jupyter.

Pure functions of the cells' text; each distinct cell is parsed once per process, and
only when it mentions ``import``, so a batch of similar notebooks pays for it once. A cell
longer than ``PARSED_CHARS`` is not parsed whole (Python's parser takes ~370 bytes of
memory per byte of source, in the grader): its import lines are.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


@dataclass(frozen=True)
class HelperModules:
    """The release's helper modules as a submission may import them; built once per batch."""

    defines: Mapping[str, frozenset[str]] = field(default_factory=dict)  # module -> names
    # a name starting with one of these prefixes looks like that release module
    lookalikes: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, str] = field(default_factory=dict)  # the kit's aliases, always on


class Resolution(NamedTuple):
    aliases: dict[str, str]  # for the sandbox: imported name -> release module
    substitutions: tuple[str, ...]  # each alias this submission used, in words


class _Import(NamedTuple):
    module: str
    bound: str | None  # ``import m as bound``; None for ``from m import ...``
    names: tuple[str, ...] | None  # ``from m import a, b``; None for ``*`` or ``import m``


def defined_names(source: str) -> frozenset[str]:
    """Top-level names a module defines (functions, classes, assignments, imports)."""
    names: set[str] = set()
    pending = list(ast.parse(source).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            # definitions under ``if``/``try`` at module level are still top-level names
            for part in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(getattr(node, part, []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)
    return frozenset(names)


def helper_modules(
    helper_dir: Path,
    fixed: Mapping[str, str] | None = None,
    lookalikes: Mapping[str, str] | None = None,
) -> HelperModules:
    """Parse the helper folder's modules once. ``lookalikes`` (prefix -> module) defaults
    to each module's own name: ``testCases_v2`` looks like ``testCases``."""
    defines = {}
    for path in sorted(Path(helper_dir).glob("*.py")):
        try:
            defines[path.stem] = defined_names(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, OSError, UnicodeDecodeError):
            continue  # a broken helper fails in the submission as it would in Jupyter
    prefixes = dict(lookalikes) if lookalikes is not None else {m: m for m in defines}
    return HelperModules(
        defines, {p: m for p, m in prefixes.items() if m in defines}, dict(fixed or {})
    )


PARSED_CHARS = 1 << 16  # the cells parsed whole (and remembered); the sandbox's own bound
IMPORT_LINES = 1000  # of a longer cell, the import statements read (no cell has more)
# an import statement's first line, in a cell too long to parse (``(`` may open more lines)
_IMPORT_LINE = re.compile(r"^[ \t]*(?:import|from)[ \t][^\n]*", re.MULTILINE)
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)  # deep nesting too


def _imports(text: str) -> tuple[_Import, ...]:
    if "import" not in text:
        return ()
    if len(text) <= PARSED_CHARS:
        return _parsed_imports(text)
    found: list[_Import] = []
    for line, _ in zip(_IMPORT_LINE.finditer(text), range(IMPORT_LINES)):
        statement = line.group().strip()
        if "(" in statement and ")" not in statement:  # ``from m import (a,\n b)``
            close = text.find(")", line.end(), line.end() + 4096)
            statement += text[line.end() : close + 1] if close >= 0 else ""
        found += _parsed_imports(statement) if len(statement) <= PARSED_CHARS else ()
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def _parsed_imports(text: str) -> tuple[_Import, ...]:
    try:
        tree = ast.parse(text)
    except _PARSE_ERRORS:
        return ()  # the cell fails in the sandbox and says why
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            star = any(alias.name == "*" for alias in node.names)
            found.append(
                _Import(node.module, None, None if star else tuple(a.name for a in node.names))
            )
        elif isinstance(node, ast.Import):
            found += [_Import(a.name, a.asname or a.name, None) for a in node.names]
    return tuple(i for i in found if "." not in i.module)  # a helper is never a package


def _attributes(text: str, name: str) -> frozenset[str]:
    """``name.attr`` uses in one cell: what ``import name`` is asked for (in a cell too
    long to parse, found in its text, comments and strings included)."""
    if f"{name}." not in text:
        return frozenset()
    if len(text) <= PARSED_CHARS:
        return _parsed_attributes(text, name)
    pattern = rf"(?<![\w.]){re.escape(name)}[ \t]*\.[ \t]*([A-Za-z_]\w*)"
    return frozenset(re.findall(pattern, text))


@functools.lru_cache(maxsize=4096)
def _parsed_attributes(text: str, name: str) -> frozenset[str]:
    try:
        tree = ast.parse(text)
    except _PARSE_ERRORS:
        return frozenset()
    return frozenset(
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
    )


def _looks_like(module: str, helpers: HelperModules) -> str | None:
    matches = [prefix for prefix in helpers.lookalikes if module.startswith(prefix)]
    return helpers.lookalikes[max(matches, key=len)] if matches else None


def _choose(module: str, names: Sequence[str] | None, helpers: HelperModules) -> str | None:
    """The release module that answers an import of ``module`` asking for ``names``
    (None: ``*``): the one it looks like when that defines them all, else another that
    does; None when none does or the name looks like no helper."""
    family = _looks_like(module, helpers)
    if family is None:
        return None
    if names is None:
        return family
    holders = [m for m, defined in helpers.defines.items() if defined.issuperset(names)]
    return family if family in holders else (holders[0] if holders else None)


def _wording(module: str, target: str, names: Sequence[str] | None, helpers: HelperModules) -> str:
    text = f"`{module}` is not part of this assignment: the release's `{target}` was used instead"
    if names and helpers.defines.get(target, frozenset()).issuperset(names):
        text += f" (it defines {', '.join(names)})"
    return text


def _requests(cells: Sequence[str], helpers: HelperModules) -> dict[str, list[str] | None]:
    """Per imported module that is not a release module: the names asked of it, in
    first-use order (None once some import takes ``*``)."""
    asked: dict[str, list[str] | None] = {}
    for text in cells:
        for item in _imports(text):
            if item.module in helpers.defines:
                continue
            if item.module not in helpers.fixed and _looks_like(item.module, helpers) is None:
                continue
            if item.names is None and item.bound is not None:  # ``import m [as u]``
                wanted: Iterable[str] | None = sorted(
                    set().union(*(_attributes(t, item.bound) for t in cells))
                )
            else:
                wanted = item.names
            so_far = asked.setdefault(item.module, [])
            if wanted is None or so_far is None:
                asked[item.module] = None
            else:
                so_far += [n for n in wanted if n not in so_far]
    return asked


def resolve(cells: Sequence[str], helpers: HelperModules) -> Resolution:
    """Aliases for one submission (the kit's fixed ones plus those its imports need), and
    each one it used, in words."""
    aliases, substitutions = dict(helpers.fixed), []
    for module, names in _requests(cells, helpers).items():
        target = helpers.fixed.get(module) or _choose(module, names, helpers)
        if target is None:
            continue  # fails as it would in Jupyter
        aliases[module] = target
        substitutions.append(_wording(module, target, names, helpers))
    return Resolution(aliases, tuple(substitutions))
