"""Source folder -> student release + executed solved notebook.

One function per product, each pure up to the notebook execution: the release is
the source with solutions replaced by stubs (nbgrader's ClearSolutions) and outputs
cleared; the solutions are the source without markers, executed next to the
release's files. :func:`write` and :func:`stale_files` are the only side effects.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from nbconvert.preprocessors import ClearOutputPreprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearSolutions, ComputeChecksums
from traitlets.config import Config

from grader import atomic
from grader.assignments import get_kit
from grader.assignments.kit import Kit
from grader.authoring import reference
from grader.authoring.assignment import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    Assignment,
    cell_label,
    load_assignment,
)
from grader.authoring.execute import run_notebook
from grader.errors import GenerationError, GraderError, SourceNotebookError, UsageError
from grader.grading.notebooks import notebook_bytes, read_notebook

# metadata.grader.inputs of executed solutions: the digest of what they were executed from
INPUTS_KEY = "inputs"
STUB = (
    "# YOUR CODE STARTS HERE\n"
    "\n"
    "# YOUR CODE ENDS HERE\n"
    'raise NotImplementedError("Not done yet: write your code between the YOUR CODE '
    'lines above, then delete this line.")'
)


@dataclass(frozen=True)
class Generated:
    """Everything generated for one assignment, as relative path -> bytes."""

    assignment: Assignment
    release: dict[str, bytes]
    solutions: dict[str, bytes]
    # the kit's generated/ folder (a reference taken from the notebook), and its files
    kit_folder: Path | None = None
    kit_files: dict[str, bytes] = field(default_factory=dict)


def _clear_outputs(notebook: NotebookNode) -> NotebookNode:
    cleared, _ = ClearOutputPreprocessor().preprocess(copy.deepcopy(notebook), {})
    for cell in cleared.cells:
        cell.metadata.pop("execution", None)
    return cleared


def student_notebook(assignment: Assignment, source: NotebookNode) -> NotebookNode:
    """Solutions replaced by an empty region and a failing stub; nbgrader checksums kept."""
    config = Config()
    config.ClearSolutions.code_stub = {"python": STUB}
    config.ClearSolutions.begin_solution_delimeter = BEGIN_SOLUTION
    config.ClearSolutions.end_solution_delimeter = END_SOLUTION
    notebook = _clear_outputs(source)
    try:
        notebook, _ = ClearSolutions(config=config).preprocess(notebook, {})
    except (RuntimeError, ValueError) as exc:
        path = assignment.source_dir / assignment.notebook_name
        raise SourceNotebookError(path, f"cannot clear solutions: {exc}") from None
    notebook, _ = ComputeChecksums().preprocess(notebook, {})
    return notebook


def solved_notebook(source: NotebookNode) -> NotebookNode:
    """The source with its marker lines removed, outputs cleared (not yet executed)."""
    notebook = _clear_outputs(source)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            lines = cell.source.split("\n")
            cell.source = "\n".join(
                line for line in lines if BEGIN_SOLUTION not in line and END_SOLUTION not in line
            )
    return notebook


def build(source_dir: Path, solutions_dir: Path | None = None) -> Generated:
    """Generate the release and the executed solutions of one source folder, in memory.

    ``solutions_dir``: the assignment's solutions written last time; its executed notebook
    is reused when it was executed from the same inputs (see :func:`inputs_digest`)."""
    assignment, source = load_assignment(source_dir)
    if assignment.source_dir.name != assignment.name:  # grading looks for release/<name>
        raise SourceNotebookError(
            assignment.source_dir / assignment.notebook_name,
            f"the folder is named {assignment.source_dir.name!r} but "
            f"the notebook's grader.assignment is {assignment.name!r}: "
            "name the folder after the assignment",
        )
    kit = get_kit(assignment.name)
    previous = None if solutions_dir is None else Path(solutions_dir) / assignment.notebook_name
    # modules the kit generates for the release (a helper module made from another
    # assignment's reference) may be what the solutions import; a reference taken from
    # the notebook cannot make them before it exists
    modules = (
        {}
        if isinstance(kit.reference, reference.SolutionReference)
        else {
            name: data
            for name, data in kit.generated_files(assignment.source_dir).items()
            if name.endswith(".py") and "/" not in name
        }
    )
    extracted = reference.generated_files(assignment, source, modules)
    with tempfile.TemporaryDirectory(prefix="grader-reference-") as folder:
        atomic.replace_tree(Path(folder), extracted)
        if isinstance(kit.reference, reference.SolutionReference):
            with kit.reference.pinned(Path(folder)):  # the one about to be written
                _check_cases(assignment, kit, kit.reference)
                generated = _build(assignment, source, kit, previous)
            return replace(generated, kit_folder=kit.reference.folder, kit_files=extracted)
        cases = _check_cases(assignment, kit, kit.reference)
        # first: the public tests' expected values come from the hand-written module
        _check_agreement(assignment, kit, reference.load(Path(folder)), cases)
        return _build(assignment, source, kit, previous)


def _check_cases(assignment: Assignment, kit: Kit, model: object) -> Mapping[str, Sequence]:
    """Every hidden case must run with the reference: a broken case is the instructor's
    to fix now, not a failure for every student at grading time."""
    path = assignment.source_dir / assignment.notebook_name
    try:
        cases = kit.hidden_cases(assignment.source_dir)
    except Exception as exc:
        raise GenerationError(
            f"{path}: the kit's hidden cases cannot be made: {type(exc).__name__}: {exc}"
        ) from None
    for name in kit.exercises:
        if not cases.get(name):
            raise GenerationError(f"{path}: the kit has no hidden case for {name}")
        for number, case in enumerate(cases[name], start=1):
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # a model may print
                    getattr(model, name)(*copy.deepcopy(case.args))
            except Exception as exc:
                raise GenerationError(
                    f"{path}: hidden case {number} of {name} ({case.label}) "
                    f"fails with the reference: {type(exc).__name__}: "
                    f"{exc}"
                ) from None
    return cases


def _check_agreement(
    assignment: Assignment, kit: Kit, extracted: dict, cases: Mapping[str, Sequence]
) -> None:
    """A hand-written reference must give the notebook's solutions' results on the
    hidden cases (made once, by :func:`_check_cases`)."""
    found = reference.disagreements(kit.reference, extracted, kit.exercises, cases, kit.signatures)
    if found:
        path = assignment.source_dir / assignment.notebook_name
        raise GenerationError(
            f"{path}: the solution cells and the kit's reference module disagree: {found[0]}"
        )


def _build(
    assignment: Assignment, source: NotebookNode, kit: Kit, previous: Path | None
) -> Generated:
    release = {
        name: (assignment.source_dir / name).read_bytes() for name in assignment.helper_files
    }
    release.update(kit.generated_files(assignment.source_dir))
    release[assignment.notebook_name] = notebook_bytes(student_notebook(assignment, source))
    solved = solved_notebook(source)
    helpers = {name: data for name, data in release.items() if name != assignment.notebook_name}
    return Generated(
        assignment,
        dict(sorted(release.items())),
        {assignment.notebook_name: _executed(assignment, solved, helpers, previous)},
    )


def inputs_digest(solved: NotebookNode, helpers: Mapping[str, bytes]) -> str:
    """What the executed solutions depend on: the solved notebook and the student files."""
    digest = hashlib.sha256(notebook_bytes(solved))
    for name in sorted(helpers):
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(helpers[name]).digest())
    return digest.hexdigest()


def _executed(
    assignment: Assignment,
    solved: NotebookNode,
    helpers: Mapping[str, bytes],
    previous: Path | None,
) -> bytes:
    """The solved notebook, executed; or, when ``previous`` (the solutions written last
    time) was executed from the same inputs, its bytes: a notebook that trains models for
    minutes is executed once per change of its source, not once per release."""
    digest = inputs_digest(solved, helpers)
    if previous is not None and previous.is_file():
        try:
            recorded = read_notebook(previous).metadata.get("grader", {}).get(INPUTS_KEY)
        except GraderError:
            recorded = None
        if recorded == digest:
            return previous.read_bytes()
    try:
        executed = run_notebook(solved, helpers)
    except GenerationError as exc:
        path = assignment.source_dir / assignment.notebook_name
        raise GenerationError(f"{path}: the solved notebook fails in {exc}") from None
    _check_tests_passed(assignment, executed)
    executed.metadata.setdefault("grader", {})[INPUTS_KEY] = digest
    return notebook_bytes(executed)


def _check_tests_passed(assignment: Assignment, executed: NotebookNode) -> None:
    """Every test cell of the solved notebook must have printed the pass line."""
    by_id = {
        cell.metadata.get("nbgrader", {}).get("grade_id"): (index, cell)
        for index, cell in enumerate(executed.cells)
    }
    for exercise in assignment.exercises:
        index, cell = by_id[exercise.test_cell]
        text = "".join(
            out.get("text", "")
            for out in cell.get("outputs", [])
            if out.get("output_type") == "stream"
        )
        if "All tests passed." not in text:
            raise GenerationError(
                f"{assignment.source_dir}: the solution of {exercise.name} "
                f"does not pass its public test (cell {cell_label(index, cell)})"
            )


def source_folders(source_root: Path, names: list[str] | None = None) -> list[Path]:
    """The assignment folders under ``source_root`` (those holding a notebook)."""
    source_root = Path(source_root)
    if not source_root.is_dir():
        raise UsageError(f"source folder {source_root} does not exist")
    folders = sorted(p for p in source_root.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    if names:
        unknown = sorted(set(names) - {p.name for p in folders})
        if unknown:
            raise UsageError(f"no source folder for {', '.join(unknown)} in {source_root}")
        folders = [p for p in folders if p.name in names]
    if not folders:
        raise UsageError(f"no assignment folders (with a notebook) in {source_root}")
    return folders


def write(results: list[Generated], release_root: Path, solutions_root: Path) -> None:
    """Replace each assignment's release and solutions folder atomically."""
    for result in results:
        folder = result.assignment.source_dir.name
        atomic.replace_tree(Path(release_root) / folder, result.release)
        atomic.replace_tree(Path(solutions_root) / folder, result.solutions)
        if result.kit_folder is not None:
            atomic.replace_tree(result.kit_folder, result.kit_files)


def stale_files(results: list[Generated], release_root: Path, solutions_root: Path) -> list[str]:
    """Paths (relative to the roots' parent) whose committed bytes differ from generated."""
    stale = []
    for result in results:
        folder = result.assignment.source_dir.name
        trees = [
            (Path(release_root) / folder, result.release),
            (Path(solutions_root) / folder, result.solutions),
        ]
        if result.kit_folder is not None:
            trees.append((result.kit_folder, result.kit_files))
        for tree, wanted in trees:
            present = atomic.read_tree(tree)
            for name in sorted(set(wanted) | set(present)):
                if wanted.get(name) != present.get(name):
                    state = (
                        "missing"
                        if name not in present
                        else "unexpected"
                        if name not in wanted
                        else "differs"
                    )
                    stale.append(f"{tree / name} ({state})")
    return stale
