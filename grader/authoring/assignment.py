"""The Assignment model, read from an instructor's source folder.

A source folder holds one notebook plus the helper files students get. The
notebook's metadata names the assignment kit (``metadata.grader.assignment``);
its cells name the exercises (``# GRADED FUNCTION: <name>`` in solution cells)
and their points (nbgrader ``points`` on the test cell that calls
``<name>_test``). Every convention is checked here, so later steps can trust it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from grader.assignments import get_kit
from grader.errors import NotebookReadError, SourceNotebookError, UnknownAssignmentError
from grader.grading.notebooks import read_notebook

GRADED_TAG = re.compile(r"^[ \t]*#[ \t]*GRADED FUNCTION:[ \t]*(\S+)", re.MULTILINE)
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
IGNORED_FILES = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


@dataclass(frozen=True)
class Exercise:
    """One graded function: where it is written, where it is tested, what it is worth."""

    name: str
    points: float
    solution_cell: str
    test_cell: str


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    source_dir: Path
    notebook_name: str
    exercises: tuple[Exercise, ...]
    helper_files: tuple[str, ...]

    @property
    def max_score(self) -> float:
        return sum(exercise.points for exercise in self.exercises)

    def exercise(self, name: str) -> Exercise:
        return next(exercise for exercise in self.exercises if exercise.name == name)


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def cell_label(index: int, cell: NotebookNode) -> str:
    """How errors name a cell: its position and, when it has one, its grade_id."""
    grade_id = nbgrader_meta(cell).get("grade_id")
    return f"#{index + 1}" + (f" ({grade_id})" if grade_id else "")


def graded_name(cell: NotebookNode) -> str | None:
    """The exercise a cell defines, from its ``# GRADED FUNCTION:`` tag."""
    if cell.cell_type != "code":
        return None
    match = GRADED_TAG.search(cell.source)
    return match.group(1) if match else None


def solution_regions(source: str) -> int:
    """Count solution regions; raise ValueError when the markers do not pair up."""
    depth = regions = 0
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN_SOLUTION in line:
            if depth:
                raise ValueError(f"line {number}: '{BEGIN_SOLUTION}' inside another region")
            depth, regions = 1, regions + 1
        elif END_SOLUTION in line:
            if not depth:
                raise ValueError(f"line {number}: '{END_SOLUTION}' without '{BEGIN_SOLUTION}'")
            depth = 0
    if depth:
        raise ValueError(f"'{BEGIN_SOLUTION}' is never closed by '{END_SOLUTION}'")
    return regions


def find_source_notebook(source_dir: Path) -> Path:
    notebooks = sorted(p for p in Path(source_dir).glob("*.ipynb"))
    if len(notebooks) != 1:
        found = ", ".join(p.name for p in notebooks) or "none"
        raise SourceNotebookError(source_dir, f"expected exactly one .ipynb, found {found}")
    return notebooks[0]


def _check_cells(
    path: Path, notebook: NotebookNode, known: tuple[str, ...], require_solutions: bool = True
) -> dict[str, int]:
    """Validate markers and tags; return exercise name -> index of its solution cell."""
    seen_ids: set[str] = set()
    solution_cells: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells):
        label = cell_label(index, cell)
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if grade_id is None and any(meta.get(flag) for flag in ("solution", "grade", "locked")):
            raise SourceNotebookError(path, "nbgrader cell without a grade_id", label)
        if grade_id is not None:
            if grade_id in seen_ids:
                raise SourceNotebookError(path, f"grade_id {grade_id!r} is used twice", label)
            seen_ids.add(grade_id)
        try:
            regions = solution_regions(cell.source)
        except ValueError as exc:
            raise SourceNotebookError(path, f"unbalanced solution markers: {exc}", label) from None
        name = graded_name(cell)
        if name is None:
            if regions:
                raise SourceNotebookError(
                    path, "solution markers outside a '# GRADED FUNCTION:' cell", label
                )
            continue
        if name not in known:
            raise SourceNotebookError(
                path, f"unknown exercise {name!r} (this assignment has: {', '.join(known)})", label
            )
        if name in solution_cells:
            raise SourceNotebookError(path, f"exercise {name!r} is graded twice", label)
        if not nbgrader_meta(cell).get("solution"):
            raise SourceNotebookError(
                path,
                f"graded cell of {name!r} is not an nbgrader "
                "solution cell (metadata.nbgrader.solution)",
                label,
            )
        if require_solutions and not regions:
            raise SourceNotebookError(
                path,
                f"graded cell of {name!r} has no '{BEGIN_SOLUTION}' / '{END_SOLUTION}' markers",
                label,
            )
        if not re.search(rf"^def {re.escape(name)}\(", cell.source, re.MULTILINE):
            raise SourceNotebookError(path, f"graded cell does not define {name}()", label)
        solution_cells[name] = index
    for name in known:
        if name not in solution_cells:
            raise SourceNotebookError(path, f"no '# GRADED FUNCTION: {name}' cell")
    return solution_cells


def _test_cell(path: Path, notebook: NotebookNode, name: str, after: int) -> tuple[int, float]:
    call = re.compile(rf"^\s*{re.escape(name)}_test\(", re.MULTILINE)
    for index in range(after + 1, len(notebook.cells)):
        cell = notebook.cells[index]
        if cell.cell_type == "code" and call.search(cell.source):
            meta = nbgrader_meta(cell)
            if not (meta.get("grade") and meta.get("locked")):
                raise SourceNotebookError(
                    path,
                    f"test cell of {name!r} must be an nbgrader grade cell and locked",
                    cell_label(index, cell),
                )
            points = meta.get("points")
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
                raise SourceNotebookError(
                    path, f"test cell of {name!r} has no valid points", cell_label(index, cell)
                )
            return index, float(points)
    raise SourceNotebookError(path, f"no test cell calls {name}_test() after the graded cell")


def test_modules(source_dir: Path, exercises: Sequence[str]) -> set[str]:
    """The source folder's modules that hold public tests (they define ``<exercise>_test``):
    the reference never imports them."""
    wanted = {f"{name}_test" for name in exercises}
    found = set()
    for path in Path(source_dir).glob("*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        defined |= {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        if defined & wanted:
            found.add(path.stem)
    return found


def helper_files(folder: Path, notebook_name: str) -> tuple[str, ...]:
    """Every file students get besides the notebook (subfolders too), as relative paths."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (
            not path.is_file()
            or relative.as_posix() == notebook_name
            or any(part.startswith(".") or part in IGNORED_FILES for part in relative.parts)
        ):
            continue
        found.append(relative.as_posix())
    return tuple(found)


def _read_folder(folder: Path, require_solutions: bool) -> tuple[Assignment, NotebookNode]:
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceNotebookError(folder, "folder does not exist")
    path = find_source_notebook(folder)
    try:
        notebook = read_notebook(path)
    except NotebookReadError as exc:
        raise SourceNotebookError(path, str(exc).split(": ", 1)[-1]) from None
    meta = notebook.metadata.get("grader", {})
    if not meta.get("assignment"):
        raise SourceNotebookError(path, "notebook metadata has no grader.assignment")
    try:
        kit = get_kit(meta["assignment"])
    except UnknownAssignmentError as exc:
        raise SourceNotebookError(path, str(exc)) from None
    solution_cells = _check_cells(path, notebook, kit.exercises, require_solutions)
    exercises = []
    for name in kit.exercises:
        test_index, points = _test_cell(path, notebook, name, solution_cells[name])
        if kit.points is not None and kit.points.get(name) != points:
            raise SourceNotebookError(
                path,
                f"test cell of {name!r} gives {points:g} points, the kit {kit.points.get(name)}",
                cell_label(test_index, notebook.cells[test_index]),
            )
        exercises.append(
            Exercise(
                name=name,
                points=points,
                solution_cell=nbgrader_meta(notebook.cells[solution_cells[name]]).get(
                    "grade_id", ""
                ),
                test_cell=nbgrader_meta(notebook.cells[test_index]).get("grade_id", ""),
            )
        )
    helpers = helper_files(folder, path.name)
    assignment = Assignment(
        name=meta["assignment"],
        title=meta.get("title", meta["assignment"]),
        source_dir=folder,
        notebook_name=path.name,
        exercises=tuple(exercises),
        helper_files=helpers,
    )
    return assignment, notebook


def load_assignment(source_dir: Path) -> tuple[Assignment, NotebookNode]:
    """Read and validate an instructor's source folder (solution markers required)."""
    return _read_folder(source_dir, require_solutions=True)


def load_release(release_dir: Path) -> tuple[Assignment, NotebookNode]:
    """Read a generated student folder: same model, points from its locked test cells."""
    return _read_folder(release_dir, require_solutions=False)
