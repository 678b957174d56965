"""One submission through the pipeline: read -> extract -> run in the sandbox -> check
against the reference -> score.

:func:`prepare` reads the release and computes every expected value once per batch (a
:class:`Context`); :func:`grade_one` then grades a notebook file in a given sandbox. The
reference never enters a process that runs student code: the sandbox runs the student's
cells and calls, this process decodes and compares.
"""

from __future__ import annotations

import py_compile
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.assignments import get_kit
from grader.authoring.assignment import Assignment, load_release, test_modules
from grader.errors import GraderError, NotebookReadError, UsageError
from grader.grading import imports, tamper
from grader.grading.checks import ExercisePlan, call_limit, hung_in_notebook, plan, run_exercise
from grader.grading.demonstrations import demonstrations, described, without_demonstrations
from grader.grading.extract import cell_names, code_cells, defined_functions
from grader.grading.notebooks import MAX_NOTEBOOK_BYTES, submission_notebook
from grader.grading.options import Options, release_folder
from grader.grading.score import explain_missing, grade_submission, score_exercise
from grader.grading.submissions import Submission, content_hash
from grader.results import MISSING, NOT_GRADED, UNREADABLE, SubmissionResult
from grader.sandbox.messages import Callback
from grader.sandbox.server import Sandbox


@dataclass(frozen=True)
class Context:
    """Everything shared by the submissions of one batch; built once."""

    assignment: Assignment
    helper_dir: Path  # what student code may import: the release's helpers, tests stubbed
    plans: dict[str, ExercisePlan]
    reference: object
    aliases: dict[str, str]
    options: Options
    workspace: tempfile.TemporaryDirectory = field(repr=False, compare=False)
    locked_cells: dict[str, str] = field(default_factory=dict)  # grade_id -> nbgrader checksum
    # the helpers as submissions import them, also under other names (grader.grading.imports)
    helper_modules: imports.HelperModules = field(default_factory=imports.HelperModules)
    # the kit's check of a dependency callback's arguments (grader.sandbox.messages.Callback)
    callback_contract: Callable | None = None
    # exercises whose calls in the notebook's own cells are not run (Kit.skip_demonstrations)
    skip_demonstrations: tuple[str, ...] = ()


def grading_helpers(assignment: Assignment, release_dir: Path, target: Path) -> Path:
    """The release's helper modules, with the public tests replaced by no-ops.

    Public tests only print; in a submission they would cost more time than the
    student's code, and their verdict is never evidence. Everything else a notebook
    imports (test cases, activations) is the release's own file.
    """
    target.mkdir(parents=True, exist_ok=True)
    for name in assignment.helper_files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(release_dir / name, target / name)
    stubs = "".join(
        f"def {e.name}_test(target, *args, **kwargs):\n    return None\n\n\n"
        for e in assignment.exercises
    )
    for module in test_modules(release_dir, [e.name for e in assignment.exercises]):
        (target / f"{module}.py").write_text(
            '"""Public tests are not run while grading (their verdict is never evidence)."""'
            "\n\n\n" + stubs.rstrip() + "\n"
        )
    _compile(target)
    return target


def _compile(folder: Path) -> None:
    """Bytecode next to each helper module, written once here: the sandbox's read-only view
    of the folder lets no submission's process cache it, so each would compile them again."""
    for source in folder.rglob("*.py"):
        tag = sys.implementation.cache_tag
        cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        try:
            py_compile.compile(str(source), cfile=str(cached), doraise=True)
        except (py_compile.PyCompileError, OSError, ValueError):
            pass  # a module that does not compile fails in the submission, as it would anyway


def prepare(release_dir: Path, options: Options) -> Context:
    """Read the released assignment and compute every expected value once."""
    release_dir = release_folder(release_dir)
    try:
        assignment, release = load_release(release_dir)
    except GraderError as exc:
        raise UsageError(f"cannot use release folder: {exc}") from None
    kit = get_kit(assignment.name)
    if kit.preload is not None:  # what the workers' sandboxes load before any submission
        options = replace(options, preload=kit.preload)
    try:  # the hidden cases come from the release's own helper modules
        plans = plan(kit, release_dir)
    except Exception as exc:  # a helper deleted or edited out of shape
        reason = (
            f"{exc.strerror}: {exc.filename}"
            if isinstance(exc, OSError) and exc.filename
            else f"{type(exc).__name__}: {exc}"
        )
        raise UsageError(f"cannot use release folder {release_dir}: {reason}") from None
    workspace = tempfile.TemporaryDirectory(prefix="grader-helpers-")
    helpers = grading_helpers(assignment, release_dir, Path(workspace.name) / "helpers")
    aliases = dict(kit.module_aliases)
    modules = imports.helper_modules(helpers, aliases, kit.module_lookalikes)
    return Context(
        assignment,
        helpers,
        plans,
        kit.reference,
        aliases,
        options,
        workspace,
        tamper.locked_checksums(release),
        modules,
        callback_contract=kit.callback_contract,
        skip_demonstrations=tuple(kit.skip_demonstrations),
    )


def ungraded(
    student: str,
    submission: str,
    message: str,
    digest: str,
    context: Context,
    status: str = UNREADABLE,
) -> SubmissionResult:
    """The result of a submission that could not be graded: 0 points, and why."""
    return SubmissionResult(
        student=student,
        submission=submission,
        score=0.0,
        max_score=context.assignment.max_score,
        status=status,
        error=message,
        content_hash=digest,
    )


def _callbacks(context: Context, exercise: ExercisePlan) -> dict[str, Callable]:
    if not context.options.isolation:
        return {}
    return {
        name: Callback(getattr(context.reference, name), context.callback_contract)
        for name in exercise.dependencies
    }


def grade_bytes(
    student: str, submission: str, data: bytes, sandbox: Sandbox, context: Context
) -> SubmissionResult:
    """Grade one notebook's bytes (``submission`` is only recorded: where it came from)."""
    digest = content_hash(data)
    try:
        try:
            notebook = submission_notebook(data, Path(submission).name)
        except NotebookReadError as exc:  # anything the bytes can do (MemoryError aside)
            return ungraded(student, submission, str(exc), digest, context)
        return _grade_notebook(student, submission, notebook, digest, sandbox, context)
    except Exception as exc:  # a fault of the grader's must not stop the whole batch
        # nor count against the student: no score, not kept for resuming (e.g. a fork
        # refused for lack of processes grades fine on the next run)
        return ungraded(
            student,
            submission,
            "not graded because of a fault of the grader "
            f"or of its machine ({type(exc).__name__}: {exc}); the next run "
            "grades it again",
            digest,
            context,
            NOT_GRADED,
        )


def _grade_notebook(
    student: str, submission: str, notebook: dict, digest: str, sandbox: Sandbox, context: Context
) -> SubmissionResult:
    exercises = []
    code = code_cells(notebook)
    names = cell_names(notebook, tuple(e.name for e in context.assignment.exercises))
    sources = [cell.source for cell in code]
    resolved = imports.resolve(sources, context.helper_modules)
    skipped = demonstrations(sources, context.skip_demonstrations)
    with sandbox.open(
        without_demonstrations(sources, skipped),
        context.helper_dir,
        resolved.aliases,
        numbers=[cell.index + 1 for cell in code],
        names=[names.get(cell.index, "") for cell in code],
    ) as session:
        for exercise in context.assignment.exercises:
            exercise_plan = context.plans[exercise.name]
            limit = call_limit(
                exercise_plan.reference_seconds,
                session.limits.call_timeout,
                session.limits.relative_timeout,
            )
            run = (
                hung_in_notebook(exercise_plan, limit)
                if exercise.name in session.hung
                else run_exercise(
                    exercise_plan, session.calls, _callbacks(context, exercise_plan), limit
                )
            )
            scored = score_exercise(
                exercise.name, exercise.points, run, context.options.all_or_nothing
            )
            if scored.status == MISSING:
                scored = explain_missing(
                    scored,
                    [
                        (session.cell_label(i), result)
                        for i, result in enumerate(session.cell_results)
                        if exercise.name in defined_functions(sources[i])
                    ],
                )
            exercises.append(scored)
        cell_errors = tuple(session.cell_errors())
        left_out = tuple(described(d, session.cell_label(d.index)) for d in skipped)
    evidence = tamper.check(notebook, context.locked_cells)
    result = grade_submission(student, submission, tuple(exercises), digest, cell_errors)
    return replace(
        result,
        tampered=evidence.changed_cells != () if evidence.checked else None,
        tampered_cells=evidence.changed_cells,
        substitutions=resolved.substitutions,
        skipped_cells=left_out,
    )


def read_submission(submission: Submission, context: Context) -> bytes | SubmissionResult:
    """The file's bytes, or its result when it cannot be read (a result, not an error).
    At most one byte more than a notebook may have is read, however large the file."""
    try:
        with open(submission.path, "rb") as file:
            return file.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        return ungraded(
            submission.student,
            str(submission.path),
            f"cannot read file: {exc.strerror}",
            "",
            context,
        )


def grade_one(submission: Submission, sandbox: Sandbox, context: Context) -> SubmissionResult:
    """Grade one notebook file; unreadable input becomes a recorded result, not an error."""
    data = read_submission(submission, context)
    if isinstance(data, SubmissionResult):
        return data
    return grade_bytes(submission.student, str(submission.path), data, sandbox, context)
