"""The batch: submissions -> sandboxed runs -> checks -> scores, and the Python API.

``grade()`` is what the ``grader grade`` command calls. A runner grades the
submissions: :mod:`grader.runners.local` on this machine (worker processes), or
:mod:`grader.runners.dask_cluster` on a Dask cluster. Each worker owns a sandbox (a fork
server with numpy loaded) and only decodes results and compares them with the
reference, which never enters a process that runs student code. With a journal
(:mod:`grader.resume`) a rerun skips what is already graded.
"""
from __future__ import annotations

import contextlib
import os
import platform
import py_compile
import shutil
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import numpy as np

from grader import __version__
from grader.grading import imports, tamper
from grader.authoring.assignment import Assignment, load_release
from grader.assignments import get_kit
from grader.grading.checks import ExercisePlan, call_limit, hung_in_notebook, plan, run_exercise
from grader.errors import GraderError, NotebookReadError, UsageError
from grader.grading.extract import cell_names, code_cells, defined_functions
from grader.grading.locations import assignment_of, find_folder
from grader.grading.notebooks import MAX_NOTEBOOK_BYTES, submission_notebook
from grader.grading.options import (Options, hiding, release_folder, sandbox_isolation,
                            start_sandboxes)
from grader.results import (MISSING, NOT_GRADED, UNREADABLE, BatchResult, Environment,
                            ExerciseResult, SubmissionResult)
from grader.sandbox.server import Sandbox
from grader.sandbox.messages import Callback
from grader.grading.score import explain_missing, grade_submission, score_exercise
from grader.grading.submissions import Submission, content_hash, find_submissions
from grader.terminal import printable

if TYPE_CHECKING:
    from grader.resume import Journal


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


def default_release_dir(assignment: str = "dnn_step_by_step") -> Path:
    """The assignment's release, wherever the working folder is (see grader.grading.locations)."""
    return find_folder(assignment, "release", override="release_dir=...")


def prepare(release_dir: Path, options: Options) -> Context:
    """Read the released assignment and compute every expected value once."""
    release_dir = release_folder(release_dir)
    try:
        assignment, release = load_release(release_dir)
    except GraderError as exc:
        raise UsageError(f"cannot use release folder: {exc}") from None
    kit = get_kit(assignment.name)
    try:  # the hidden cases come from the release's own helper modules
        plans = plan(kit, release_dir)
    except Exception as exc:  # a helper deleted or edited out of shape
        reason = (f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.filename
                  else f"{type(exc).__name__}: {exc}")
        raise UsageError(f"cannot use release folder {release_dir}: {reason}") from None
    workspace = tempfile.TemporaryDirectory(prefix="grader-helpers-")
    helpers = grading_helpers(assignment, release_dir, Path(workspace.name) / "helpers")
    aliases = dict(getattr(kit, "MODULE_ALIASES", {}))
    modules = imports.helper_modules(helpers, aliases, getattr(kit, "MODULE_LOOKALIKES", None))
    return Context(assignment, helpers, plans, kit.reference, aliases, options, workspace,
                   tamper.locked_checksums(release), modules,
                   callback_contract=getattr(kit, "callback_contract", None))


def environment(options: Options, sandbox: str = "") -> Environment:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # numpy builds differ in what they report
        blas_name = "unknown"
    return Environment(grader_version=__version__, python=platform.python_version(),
                       numpy=np.__version__, blas=blas_name, limits=asdict(options.limits),
                       isolation=options.isolation, sandbox=sandbox)


# A runner grades submissions and yields (position in its input, result) as each
# finishes, in any order; it owns its workers and stops them when closed.
Runner = Callable[[Sequence[Submission], Context], Iterator[tuple[int, SubmissionResult]]]


def _ungraded(student: str, submission: str, message: str, digest: str,
              context: Context, status: str = UNREADABLE) -> SubmissionResult:
    return SubmissionResult(student=student, submission=submission, score=0.0,
                            max_score=context.assignment.max_score, status=status,
                            error=message, content_hash=digest)


def _missing(submission: Submission, context: Context) -> SubmissionResult:
    """An nbgrader submission folder with no notebook: scored 0, as an unreadable one.
    The reason is shown to the student: the folder's name only, not the instructor's path."""
    return _ungraded(submission.student, str(submission.path),
                     f"No notebook was submitted (no .ipynb file in {submission.path.name}/).",
                     "", context, MISSING)


def _callbacks(context: Context, exercise: ExercisePlan) -> dict[str, Callable]:
    if not context.options.isolation:
        return {}
    return {name: Callback(getattr(context.reference, name), context.callback_contract)
            for name in exercise.dependencies}


def grade_bytes(student: str, submission: str, data: bytes, sandbox: Sandbox,
                context: Context) -> SubmissionResult:
    """Grade one notebook's bytes (``submission`` is only recorded: where it came from)."""
    digest = content_hash(data)
    try:
        try:
            notebook = submission_notebook(data, Path(submission).name)
        except NotebookReadError as exc:  # anything the bytes can do (MemoryError aside)
            return _ungraded(student, submission, str(exc), digest, context)
        return _grade_notebook(student, submission, notebook, digest, sandbox, context)
    except Exception as exc:  # a fault of the grader's must not stop the whole batch
        # nor count against the student: no score, not kept for resuming (e.g. a fork
        # refused for lack of processes grades fine on the next run)
        return _ungraded(student, submission, "not graded because of a fault of the grader "
                         f"or of its machine ({type(exc).__name__}: {exc}); the next run "
                         "grades it again", digest, context, NOT_GRADED)


def _grade_notebook(student: str, submission: str, notebook: dict, digest: str,
                    sandbox: Sandbox,
                    context: Context) -> SubmissionResult:
    exercises = []
    code = code_cells(notebook)
    names = cell_names(notebook, tuple(e.name for e in context.assignment.exercises))
    sources = [cell.source for cell in code]
    resolved = imports.resolve(sources, context.helper_modules)
    with sandbox.open(sources, context.helper_dir, resolved.aliases,
                      numbers=[cell.index + 1 for cell in code],
                      names=[names.get(cell.index, "") for cell in code]) as session:
        for exercise in context.assignment.exercises:
            exercise_plan = context.plans[exercise.name]
            limit = call_limit(exercise_plan.reference_seconds, session.limits.call_timeout,
                               session.limits.relative_timeout)
            run = (hung_in_notebook(exercise_plan, limit) if exercise.name in session.hung else
                   run_exercise(exercise_plan, session.calls, _callbacks(context, exercise_plan),
                                limit))
            scored = score_exercise(exercise.name, exercise.points, run,
                                    context.options.all_or_nothing)
            if scored.status == MISSING:
                scored = explain_missing(scored, [
                    (session.cell_label(i), result) for i, result in
                    enumerate(session.cell_results)
                    if exercise.name in defined_functions(sources[i])])
            exercises.append(scored)
        cell_errors = tuple(session.cell_errors())
    evidence = tamper.check(notebook, context.locked_cells)
    result = grade_submission(student, submission, tuple(exercises), digest, cell_errors)
    return replace(result, tampered=evidence.changed_cells != () if evidence.checked else None,
                   tampered_cells=evidence.changed_cells, substitutions=resolved.substitutions)


def read_submission(submission: Submission, context: Context) -> bytes | SubmissionResult:
    """The file's bytes, or its result when it cannot be read (a result, not an error).
    At most one byte more than a notebook may have is read, however large the file."""
    try:
        with open(submission.path, "rb") as file:
            return file.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        return _ungraded(submission.student, str(submission.path),
                         f"cannot read file: {exc.strerror}", "", context)


def grade_one(submission: Submission, sandbox: Sandbox, context: Context) -> SubmissionResult:
    """Grade one notebook file; unreadable input becomes a recorded result, not an error."""
    data = read_submission(submission, context)
    if isinstance(data, SubmissionResult):
        return data
    return grade_bytes(submission.student, str(submission.path), data, sandbox, context)


def grade_submissions(submissions: Sequence[Submission], context: Context,
                      progress: Callable[[SubmissionResult], None] | None = None, *,
                      journal: Journal | None = None, runner: Runner | None = None
                      ) -> list[SubmissionResult]:
    """Grade every submission; results in input order.

    ``runner`` defaults to ``jobs.local_runner(options.jobs)``. With a ``journal``,
    submissions it already holds (same file, content and options) are not graded
    again, and each new result is recorded the moment it exists, before
    ``progress`` sees it, so an interrupted batch loses nothing already graded.
    ``progress`` gets every result: first those taken from the journal and the
    missing submissions (no notebook: nothing to run, nothing to journal), then each
    one as it is graded.
    """
    shared: dict[ExerciseResult, ExerciseResult] = {}
    results = {index: _share(result, shared) for index, result in
               (journal.reusable(submissions) if journal else {}).items()}
    results.update({index: _missing(submission, context)
                    for index, submission in enumerate(submissions) if submission.missing})
    if progress is not None:
        for result in results.values():
            progress(result)
    todo = [index for index in range(len(submissions)) if index not in results]
    if todo:
        if runner is None:
            from grader.runners.local import local_runner

            runner = local_runner(context.options.jobs)
        with contextlib.closing(runner([submissions[i] for i in todo], context)) as stream:
            for position, result in stream:
                results[todo[position]] = result = _share(result, shared)
                if journal is not None:
                    journal.record(result)
                if progress is not None:
                    progress(result)
    ordered = [results[index] for index in range(len(submissions))]
    if journal is not None:
        journal.completed(ordered)
    return ordered


def _share(result: SubmissionResult, seen: dict[ExerciseResult, ExerciseResult]
           ) -> SubmissionResult:
    """The same result, holding the one copy of each exercise result seen before: a batch
    of 10 000 mostly correct submissions then keeps ~1 KB per submission, not ~20 KB."""
    return replace(result, exercises=tuple(seen.setdefault(e, e) for e in result.exercises))


def finish(context: Context, results: list[SubmissionResult], sandbox: str = "") -> BatchResult:
    return BatchResult(assignment=context.assignment.name,
                       max_score=context.assignment.max_score,
                       environment=environment(context.options, sandbox),
                       submissions=tuple(results),
                       exercises=tuple(e.name for e in context.assignment.exercises))


def grade(paths: Path | str | Iterable[Path | str], *, release_dir: Path | str | None = None,
          options: Options | None = None,
          progress: Callable[[SubmissionResult], None] | None = None,
          journal: Path | str | None = None, fresh: bool = False,
          runner: Runner | None = None) -> BatchResult:
    """Grade notebooks (files, folders, nbgrader trees) against the released assignment.

    ``paths``: one path or several. ``release_dir``: default, the release of the
    submissions' assignment found by :mod:`grader.grading.locations` (the checkout's
    ``release/``, the working folder's, or ``$GRADER_RELEASE_ROOT``). ``journal``: a
    file to resume from and record to (see :mod:`grader.resume`); ``fresh`` ignores what
    it holds. ``runner``: e.g. a :class:`grader.runners.dask_cluster.DaskRunner`; default: worker
    processes here. Paths without a notebook give an empty batch. What the command
    prints as warnings (several notebooks in one nbgrader folder) is issued as
    :class:`UserWarning`; errors are :class:`grader.errors.GraderError`.
    """
    options = options or Options()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    submissions = find_submissions(paths)
    for submission in submissions:
        if submission.warning:
            # names files of students': no escape sequence reaches a terminal
            warnings.warn(printable(submission.warning), UserWarning, stacklevel=2)
    options = hiding(options, submissions)
    release_dir = _release_argument(release_dir, submissions)
    notebooks = sum(not s.missing for s in submissions)
    with contextlib.ExitStack() as stack:
        # the workers' sandboxes load numpy while the reference values are computed
        started = [] if runner is not None else start_sandboxes(options, notebooks, stack)
        context = prepare(release_dir, options)
        isolation, _strong = sandbox_isolation(options, started)
        if runner is None:
            from grader.runners.local import local_runner

            runner = local_runner(options.jobs, sandboxes=started)
        opened = None
        if journal is not None:
            from grader.resume import Journal, fingerprint

            opened = stack.enter_context(Journal(Path(journal), fingerprint(context),
                                                 fresh=fresh))
        results = grade_submissions(submissions, context, progress, journal=opened,
                                    runner=runner)
    return finish(context, results, isolation)


def _release_argument(release_dir: Path | str | None, submissions: Sequence[Submission]
                      ) -> Path:
    """``grade``'s ``release_dir``, found or checked, with errors that name the argument
    (the command's own say ``--release``)."""
    if release_dir is None:
        override = "release_dir=..."
        return find_folder(assignment_of(submissions, override), "release", override)
    return release_folder(release_dir, "release_dir")
