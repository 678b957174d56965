"""A batch of submissions: each graded by a runner, resumed from a journal, collected.

A runner grades the submissions: :mod:`grader.runners.local` on this machine (worker
processes), or :mod:`grader.runners.dask_cluster` on a Dask cluster; each worker owns a
sandbox and runs :func:`grader.grading.pipeline.grade_one`. With a journal
(:mod:`grader.resume`) a rerun skips what is already graded.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

import numpy as np

from grader.grading.options import Options
from grader.grading.pipeline import Context, ungraded
from grader.grading.submissions import Submission
from grader.results import MISSING, BatchResult, Environment, ExerciseResult, SubmissionResult
from grader.version import __version__

if TYPE_CHECKING:
    from grader.resume import Journal
    from grader.runners import Runner


def environment(options: Options, sandbox: str = "") -> Environment:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # numpy builds differ in what they report
        blas_name = "unknown"
    return Environment(
        grader_version=__version__,
        python=platform.python_version(),
        numpy=np.__version__,
        blas=blas_name,
        limits=asdict(options.limits),
        isolation=options.isolation,
        sandbox=sandbox,
    )


def _missing(submission: Submission, context: Context) -> SubmissionResult:
    """An nbgrader submission folder with no notebook: scored 0, as an unreadable one.
    The reason is shown to the student: the folder's name only, not the instructor's path."""
    return ungraded(
        submission.student,
        str(submission.path),
        f"No notebook was submitted (no .ipynb file in {submission.path.name}/).",
        "",
        context,
        MISSING,
    )


def grade_submissions(
    submissions: Sequence[Submission],
    context: Context,
    progress: Callable[[SubmissionResult], None] | None = None,
    *,
    journal: Journal | None = None,
    runner: Runner | None = None,
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
    results = {
        index: _share(result, shared)
        for index, result in (journal.reusable(submissions) if journal else {}).items()
    }
    results.update(
        {
            index: _missing(submission, context)
            for index, submission in enumerate(submissions)
            if submission.missing
        }
    )
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


def _share(
    result: SubmissionResult, seen: dict[ExerciseResult, ExerciseResult]
) -> SubmissionResult:
    """The same result, holding the one copy of each exercise result seen before: a batch
    of 10 000 mostly correct submissions then keeps ~1 KB per submission, not ~20 KB."""
    return replace(result, exercises=tuple(seen.setdefault(e, e) for e in result.exercises))


def finish(context: Context, results: list[SubmissionResult], sandbox: str = "") -> BatchResult:
    return BatchResult(
        assignment=context.assignment.name,
        max_score=context.assignment.max_score,
        environment=environment(context.options, sandbox),
        submissions=tuple(results),
        exercises=tuple(e.name for e in context.assignment.exercises),
    )
