"""A submission notebook -> the Python source of its code cells, ready to run.

IPython syntax (line magics, ``!shell`` lines, ``?`` help) is rewritten by
IPython's own transformer into ``get_ipython()`` calls, which the sandbox answers
with no-ops; so ``%matplotlib inline`` or ``!pip install`` never run, but the
cell's other lines do. Cell boundaries are kept: a cell that fails does not
stop the next one. Saved outputs are ignored entirely.

That transformer runs in the grader, outside every limit of the sandbox, and it
tokenizes the whole cell again after each line it rewrites: a cell of 600 magics
in 4600 lines took it 58 s. So it gets a budget per cell and per notebook
(:func:`ipython_cost`); past it, :mod:`grader.grading.magic_lines` rewrites the same lines
in one pass.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from IPython.core.inputtransformer2 import TransformerManager

from grader.grading.magic_lines import rewrite_lines

# cell magics whose body is ordinary Python worth running (timing or capturing output)
TRANSPARENT_CELL_MAGICS = ("time", "timeit", "capture", "prun")
# IPython's work on a cell, in characters tokenized: (lines it may rewrite + 1) x the
# cell's length, ~2.4-4.4 us each on a 2-core VM (a cell of 3 magics in 500 characters:
# 2 000). Within these, IPython's own transformer; past them, the one-pass rewrite.
CELL_BUDGET = 100_000  # ~0.25-0.45 s
NOTEBOOK_BUDGET = 400_000  # all the cells of one notebook that get IPython's transformer
# characters of one notebook's cells that the one-pass rewrite takes (~0.7 s a MiB of
# short lines); cells past it are left as they are: Python reports the IPython syntax
REWRITE_BUDGET = 4 << 20
HELP_CHARS = 200  # IPython's ``name?`` pattern is quadratic in the length of its line
CACHED_CHARS = 1 << 16  # larger cells are converted each time, never kept in memory


@dataclass(frozen=True)
class CodeCell:
    index: int  # position among all cells of the notebook, from 0
    source: str  # plain Python
    grade_id: str | None = None


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part if isinstance(part, str) else str(part) for part in source)
    return source if isinstance(source, str) else str(source)


def grade_id(cell: dict) -> str | None:
    """The cell's nbgrader ``grade_id``; None when the metadata holds none, or holds a
    value of another type (a submission's metadata is the student's to write)."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    found = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return found if isinstance(found, str) else None


def to_python(
    text: str,
    transformer: TransformerManager | None = None,
    *,
    budget: int = CELL_BUDGET,
    rewrite: bool = True,
) -> str:
    """Rewrite one cell's IPython syntax into plain Python (syntax errors are left as-is).

    IPython's transformer does it when the cell's :func:`ipython_cost` is within
    ``budget``; otherwise :func:`grader.grading.magic_lines.rewrite_lines`, in one pass (or,
    with ``rewrite=False``, nothing)."""
    way = "ipython" if ipython_cost(text, budget) <= budget else "lines" if rewrite else "as is"
    return _convert(text, transformer or TransformerManager(), way)


def _convert(text: str, transformer: TransformerManager, way: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("%%"):
        first, _, body = stripped.partition("\n")
        magic = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if magic not in TRANSPARENT_CELL_MAGICS:
            return f"# cell magic %%{magic} not run by the grader\n"
        text = body
    if not _MAYBE_IPYTHON.search(text):
        return text if text.endswith("\n") else text + "\n"  # what IPython would return
    try:
        if way == "ipython":
            return transformer.transform_cell(text)
        return rewrite_lines(text, transformer) if way == "lines" else text
    except Exception:  # IPython gives up on some broken input; let Python report it
        return text


# Every line IPython's transformer would rewrite matches this: an escape (% ! ? / , ;)
# or a prompt (>>> ... In [n]:) opening a line, ``x = %magic`` / ``x = !cmd``, ``name?``
# ending one, or leading blank or indented lines. Anything else is left unchanged by
# it (bar a final newline), so its tokenizer, a third of a submission's grader-side
# cost, runs only where it can matter.
_MAYBE_IPYTHON = re.compile(
    r"^[ \t]*(?:[%!?/,;]|>>>|\.\.\.|In ?\[)|=[ \t]*[%!]|\?[ \t]*$"
    r"|\A[ \t]*(?:\r?\n|[ \t])",
    re.MULTILINE,
)
# a long line that may end in a ``?`` token (\r and \f are not tokens either)
_LONG_HELP_LINE = re.compile(rf"^[^\n]{{{HELP_CHARS},}}\?[ \t\f\r]*$", re.MULTILINE)
_OVER = 1 << 62


def ipython_cost(text: str, limit: int = CELL_BUDGET) -> int:
    """What IPython's transformer would cost on the cell ``text``, in characters
    tokenized (see ``CELL_BUDGET``); 0 when it would not change it. Counted only as far
    as it takes to tell that it is over ``limit``: linear in the text, and for a cell
    too long for any budget, a single search."""
    found = 0
    for found, _match in enumerate(_MAYBE_IPYTHON.finditer(text), start=1):
        if (found + 1) * len(text) > limit:
            return (found + 1) * len(text)
    if not found:
        return 0
    if _LONG_HELP_LINE.search(text):
        return _OVER  # IPython's ``name?`` pattern would be quadratic in that line
    return (found + 1) * len(text)


@functools.lru_cache(maxsize=1)
def _shared_transformer() -> TransformerManager:
    return TransformerManager()  # stateless: one serves every cell of every thread


def _small_cache(function):
    """``functools.lru_cache`` for cell texts of up to ``CACHED_CHARS``: a larger one is
    worked on each time and never kept (4096 kept cells of 60 MB would be the grader's
    memory, for cells that no two submissions share anyway)."""
    cached = functools.lru_cache(maxsize=4096)(function)

    @functools.wraps(function)
    def call(text: str):
        return cached(text) if len(text) <= CACHED_CHARS else function(text)

    return call


@functools.lru_cache(maxsize=4096)
def _known(text: str) -> list:
    # most code cells (imports, demos, test calls) are the same in every submission, and
    # IPython's tokenizer is the costly part: per distinct text, once per process, its
    # cost and (made when first needed) its conversion by IPython's transformer
    return [ipython_cost(text), None]


def code_cells(notebook: dict) -> tuple[CodeCell, ...]:
    """Every code cell, in notebook order, converted to plain Python.

    IPython's transformer is given the cells, in order, while their costs add up to
    at most ``NOTEBOOK_BUDGET``: many cells each just within ``CELL_BUDGET`` would
    otherwise add up to hours. The others take the one-pass rewrite, while their
    lengths add up to at most ``REWRITE_BUDGET``; the rest are left as they are."""
    cells, left, rewrite_left = [], NOTEBOOK_BUDGET, REWRITE_BUDGET
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        text = _cell_text(cell)
        known: list[Any] = _known(text) if len(text) <= CACHED_CHARS else [ipython_cost(text), None]
        cost: int = known[0]
        if cost <= min(CELL_BUDGET, left):
            left -= cost
            if known[1] is None:
                known[1] = _convert(text, _shared_transformer(), "ipython")
            source = str(known[1])
        elif len(text) <= rewrite_left:
            rewrite_left -= len(text)
            source = _convert(text, _shared_transformer(), "lines")
        else:
            source = _convert(text, _shared_transformer(), "as is")
        cells.append(CodeCell(index, source, grade_id(cell)))
    return tuple(cells)


# an ATX heading line; its closing #s are cut in Python (a pattern that cut them
# backtracked cubically on a heading with a long run of spaces: minutes for 4 KB)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+)$", re.MULTILINE)
_DEFINITION = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
NAME_CHARS = 60


@_small_cache
def defined_functions(source: str) -> tuple[str, ...]:
    """Names of the functions a cell defines at its top level (by text: the cell may not
    even compile, and that is exactly when a student needs to be told which one it was)."""
    return tuple(_DEFINITION.findall(source))


@_small_cache
def _last_heading(text: str) -> str | None:
    found = _HEADING.findall(text) if "#" in text else None
    if not found:
        return None
    title = found[-1].strip()  # less its closing #s, if that leaves something
    return " ".join((title.rstrip("#").rstrip() or title).split())


def cell_names(notebook: dict, exercises: tuple[str, ...] = ()) -> dict[int, str]:
    """How a student finds each code cell (keyed by its position among all cells): the
    graded function it defines, or else the heading of the section it sits in.

    Per distinct cell text the work is done once per process: most cells are the same
    in every submission of a batch."""
    names: dict[int, str] = {}
    heading = ""
    for index, cell in enumerate(notebook.get("cells", [])):
        kind = cell.get("cell_type")
        if kind == "markdown":
            heading = _last_heading(_cell_text(cell)) or heading
        elif kind == "code":
            graded = [n for n in defined_functions(_cell_text(cell)) if n in exercises]
            name = graded[0] if graded and graded[0] not in heading else heading
            names[index] = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
    return names
