"""The service's grades as a batch: what ``grader grade`` would report, from the store.

Each student's grade is their newest counted submission, with its total after the late
penalty (its exercises keep the points they earned: the penalty is on the total, and the
row carries ``late_days`` and ``penalty`` so that feedback pages can say so); every
student on the roster who has none gets a ``missing`` row, so the instructor's
``grades.csv`` lists the whole class. The batch goes to the same report writers as a
``grader grade`` run's (:func:`grader.reports.write_reports`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from grader.results import (
    GRADED,
    MISSING,
    NOT_GRADED,
    BatchResult,
    Environment,
    SubmissionResult,
)
from grader.service.store import Store, StoredSubmission

NO_SUBMISSION = "No submission was received."
NONE_COUNTED = "No counted submission was received (the ones received were not counted)."
NOT_YET = "Received, not graded yet: the grading service grades it when it runs."


def batch_from_store(
    store: Store,
    assignment: str,
    environment: Environment | None = None,
    *,
    exercises: Sequence[str] | None = None,
    max_score: float | None = None,
) -> BatchResult:
    """The grades of ``assignment``: one row per student, ordered by student.

    ``exercises`` (the report columns, in assignment order) and ``max_score`` default to
    what the stored results say; ``environment`` to this machine's with default options.
    A newest submission the service accepted but has not graded yet is ``not_graded``
    (no score), as a submission the grader failed on: it is the one that counts.
    """
    latest = store.submissions(assignment, latest=True)
    results = [row.result for row in latest if row.result is not None]
    if max_score is None:
        known = [r.max_score for r in results] + [
            row.max_score for row in latest if row.max_score is not None
        ]
        max_score = known[0] if known else 0.0
    if exercises is None:
        names: dict[str, None] = {}
        for result in results:
            if result.status == GRADED:
                names.update(dict.fromkeys(e.name for e in result.exercises))
        exercises = tuple(names)
    if environment is None:
        from grader.grading.batch import environment as current_environment
        from grader.grading.options import Options

        environment = current_environment(Options())
    rows = [_graded(row, max_score) for row in latest]
    rows += _missing(store, assignment, {row.user for row in latest}, max_score)
    rows.sort(key=lambda result: result.student)
    return BatchResult(
        assignment=assignment,
        max_score=max_score,
        environment=environment,
        submissions=tuple(rows),
        exercises=tuple(exercises),
    )


def _graded(row: StoredSubmission, max_score: float) -> SubmissionResult:
    """A stored submission as a report row: its result, with the penalized total."""
    if row.result is None:
        return SubmissionResult(
            student=row.user,
            submission=f"submission {row.id}",
            score=0.0,
            max_score=max_score,
            status=NOT_GRADED,
            error=NOT_YET,
        )
    score = row.result.score if row.score is None else row.score
    return replace(
        row.result,
        student=row.user,
        score=score,
        late_days=row.late_days,
        penalty=row.penalty,
    )


def _missing(
    store: Store, assignment: str, present: set[str], max_score: float
) -> list[SubmissionResult]:
    """A ``missing`` row for each student on the roster without a counted submission."""
    absent = [user for user, role in store.roster() if role == "student" and user not in present]
    if not absent:
        return []
    uncounted = {
        row.user for row in store.submissions(assignment, with_results=False) if not row.counted
    }
    return [
        SubmissionResult(
            student=user,
            submission="",
            score=0.0,
            max_score=max_score,
            status=MISSING,
            error=NONE_COUNTED if user in uncounted else NO_SUBMISSION,
        )
        for user in absent
    ]
