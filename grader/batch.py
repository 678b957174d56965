"""The batch: submissions -> sandboxed runs -> checks -> scores, and the Python API.

``grade()`` is what the ``grader grade`` command calls. Each worker thread owns a
sandbox (a fork server with numpy loaded); the grader's own process only decodes
results and compares them with the reference, which never leaves this process.
"""
from __future__ import annotations

import os
import platform
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from grader import __version__, tamper
from grader.assignment import Assignment, load_release
from grader.assignments import get_kit
from grader.checks import ExercisePlan, plan, run_exercise
from grader.errors import GraderError, NotebookReadError, UsageError
from grader.extract import code_cells
from grader.notebooks import parse_notebook
from grader.results import UNREADABLE, BatchResult, Environment, SubmissionResult
from grader.sandbox import Limits, Sandbox
from grader.score import grade_submission, score_exercise
from grader.submissions import Submission, content_hash, find_submissions


@dataclass(frozen=True)
class Options:
    limits: Limits = field(default_factory=Limits)
    isolation: bool = True
    all_or_nothing: bool = False
    jobs: int = 0  # 0: one per core


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
    stubs = "".join(f"def {e.name}_test(target, *args, **kwargs):\n    return None\n\n\n"
                    for e in assignment.exercises)
    (target / "public_tests.py").write_text(
        '"""Public tests are not run while grading (their verdict is never evidence)."""\n\n\n'
        + stubs.rstrip() + "\n")
    return target


def default_release_dir(assignment: str = "dnn_step_by_step") -> Path:
    return Path("release") / assignment


def prepare(release_dir: Path, options: Options) -> Context:
    """Read the released assignment and compute every expected value once."""
    release_dir = Path(release_dir)
    if not release_dir.is_dir():
        raise UsageError(f"release folder {release_dir} does not exist "
                         "(run `grader release` first, or pass --release)")
    try:
        assignment, release = load_release(release_dir)
    except GraderError as exc:
        raise UsageError(f"cannot use release folder: {exc}") from None
    kit = get_kit(assignment.name)
    workspace = tempfile.TemporaryDirectory(prefix="grader-helpers-")
    helpers = grading_helpers(assignment, release_dir, Path(workspace.name) / "helpers")
    return Context(assignment, helpers, plan(kit, release_dir), kit.reference,
                   dict(getattr(kit, "MODULE_ALIASES", {})), options, workspace,
                   tamper.locked_checksums(release))


def environment(options: Options) -> Environment:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # numpy builds differ in what they report
        blas_name = "unknown"
    return Environment(grader_version=__version__, python=platform.python_version(),
                       numpy=np.__version__, blas=blas_name, limits=asdict(options.limits),
                       isolation=options.isolation)


def _unreadable(submission: Submission, message: str, digest: str,
                context: Context) -> SubmissionResult:
    return SubmissionResult(student=submission.student, submission=str(submission.path),
                            score=0.0, max_score=context.assignment.max_score,
                            status=UNREADABLE, error=message, content_hash=digest)


def _callbacks(context: Context, exercise: ExercisePlan) -> dict[str, Callable]:
    if not context.options.isolation:
        return {}
    return {name: getattr(context.reference, name) for name in exercise.dependencies}


def grade_one(submission: Submission, sandbox: Sandbox, context: Context) -> SubmissionResult:
    """Grade one notebook file; unreadable input becomes a recorded result, not an error."""
    try:
        data = submission.path.read_bytes()
    except OSError as exc:
        return _unreadable(submission, f"cannot read file: {exc.strerror}", "", context)
    digest = content_hash(data)
    try:
        notebook = parse_notebook(data, submission.path.name)
    except NotebookReadError as exc:
        return _unreadable(submission, str(exc), digest, context)
    cells = [cell.source for cell in code_cells(notebook)]
    exercises = []
    with sandbox.open(cells, context.helper_dir, context.aliases) as session:
        for exercise in context.assignment.exercises:
            exercise_plan = context.plans[exercise.name]
            run = run_exercise(exercise_plan, session.call, _callbacks(context, exercise_plan))
            exercises.append(score_exercise(exercise.name, exercise.points, run,
                                            context.options.all_or_nothing))
        cell_errors = tuple(session.cell_errors())
    evidence = tamper.check(notebook, context.locked_cells)
    result = grade_submission(submission.student, str(submission.path), tuple(exercises),
                              digest, cell_errors)
    return replace(result, tampered=evidence.changed_cells != () if evidence.checked else None,
                   tampered_cells=evidence.changed_cells)


def grade_submissions(submissions: list[Submission], context: Context,
                      progress: Callable[[SubmissionResult], None] | None = None
                      ) -> list[SubmissionResult]:
    """Grade in parallel threads, one sandbox per thread; results in input order."""
    jobs = context.options.jobs or os.cpu_count() or 1
    local = threading.local()
    sandboxes: list[Sandbox] = []
    lock = threading.Lock()

    def work(submission: Submission) -> SubmissionResult:
        if not hasattr(local, "sandbox"):
            local.sandbox = Sandbox(context.options.limits)
            with lock:
                sandboxes.append(local.sandbox)
        result = grade_one(submission, local.sandbox, context)
        if progress is not None:
            progress(result)
        return result

    try:
        with ThreadPoolExecutor(max_workers=min(jobs, max(1, len(submissions)))) as pool:
            return list(pool.map(work, submissions))
    finally:
        for sandbox in sandboxes:
            sandbox.close()


def finish(context: Context, results: list[SubmissionResult]) -> BatchResult:
    return BatchResult(assignment=context.assignment.name,
                       max_score=context.assignment.max_score,
                       environment=environment(context.options), submissions=tuple(results))


def grade(paths: Iterable[Path | str], *, release_dir: Path | None = None,
          options: Options | None = None,
          progress: Callable[[SubmissionResult], None] | None = None) -> BatchResult:
    """Grade notebooks (files, folders, nbgrader trees) against the released assignment."""
    options = options or Options()
    context = prepare(release_dir or default_release_dir(), options)
    submissions = find_submissions(paths)
    return finish(context, grade_submissions(submissions, context, progress))
