"""A submission notebook -> the Python source of its code cells, ready to run.

IPython syntax (line magics, ``!shell`` lines, ``?`` help) is rewritten by
IPython's own transformer into ``get_ipython()`` calls, which the sandbox answers
with no-ops; so ``%matplotlib inline`` or ``!pip install`` never run, but the
cell's other lines do. Cell boundaries are kept: a cell that fails does not
stop the next one. Saved outputs are ignored entirely.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager

# cell magics whose body is ordinary Python worth running (timing or capturing output)
TRANSPARENT_CELL_MAGICS = ("time", "timeit", "capture", "prun")


@dataclass(frozen=True)
class CodeCell:
    index: int  # position among all cells of the notebook, from 0
    source: str  # plain Python
    grade_id: str | None = None


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def to_python(text: str, transformer: TransformerManager | None = None) -> str:
    """Rewrite one cell's IPython syntax into plain Python (syntax errors are left as-is)."""
    transformer = transformer or TransformerManager()
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
        return transformer.transform_cell(text)
    except Exception:  # IPython gives up on some broken input; let Python report it
        return text


# Every line IPython's transformer would rewrite matches this: an escape (% ! ? / , ;)
# or a prompt (>>> ... In [n]:) opening a line, ``x = %magic`` / ``x = !cmd``, ``name?``
# ending one, or leading blank or indented lines. Anything else is left unchanged by
# it (bar a final newline), so its tokenizer, a third of a submission's grader-side
# cost, runs only where it can matter.
_MAYBE_IPYTHON = re.compile(r"^[ \t]*(?:[%!?/,;]|>>>|\.\.\.|In ?\[)|=[ \t]*[%!]|\?[ \t]*$"
                            r"|\A[ \t]*(?:\r?\n|[ \t])", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _shared_transformer() -> TransformerManager:
    return TransformerManager()  # stateless: one serves every cell of every thread


@functools.lru_cache(maxsize=4096)
def _converted(text: str) -> str:
    # most code cells (imports, demos, test calls) are the same in every submission, and
    # IPython's tokenizer is the costly part: convert each distinct text once per process
    return to_python(text, _shared_transformer())


def code_cells(notebook: dict) -> tuple[CodeCell, ...]:
    """Every code cell, in notebook order, converted to plain Python."""
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        cells.append(CodeCell(index, _converted(_cell_text(cell)), grade_id))
    return tuple(cells)


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_DEFINITION = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
NAME_CHARS = 60


@functools.lru_cache(maxsize=4096)
def defined_functions(source: str) -> tuple[str, ...]:
    """Names of the functions a cell defines at its top level (by text: the cell may not
    even compile, and that is exactly when a student needs to be told which one it was)."""
    return tuple(_DEFINITION.findall(source))


@functools.lru_cache(maxsize=4096)
def _last_heading(text: str) -> str | None:
    found = _HEADING.findall(text) if "#" in text else None
    return " ".join(found[-1].split()) if found else None


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
            names[index] = name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"
    return names
