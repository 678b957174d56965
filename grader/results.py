"""Result records of grading, and their one serialization (plain JSON-able dicts).

Every report format and the resume cache read these dataclasses; nothing else
defines what a grade looks like.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# exercise statuses
PASSED, FAILED, ERROR, TIMEOUT, MISSING = "passed", "failed", "error", "timeout", "missing"
EXERCISE_STATUSES = (PASSED, FAILED, ERROR, TIMEOUT, MISSING)
# submission statuses. unreadable: the student's file is not a gradable notebook;
# missing (the exercise status's word): an nbgrader submission folder with no notebook;
# both score 0 in total (in every report and the mean) and have no exercise results.
# not_graded: a fault of the grader or of its machine stopped it (no score: a rerun
# grades it again, see grader.resume)
GRADED, UNREADABLE, NOT_GRADED = "graded", "unreadable", "not_graded"
SUBMISSION_STATUSES = (GRADED, UNREADABLE, NOT_GRADED, MISSING)


@dataclass(frozen=True)
class CheckResult:
    """One hidden check of one exercise: a case, or a property such as 'arguments unchanged'."""

    name: str
    passed: bool
    message: str = ""  # everything, for the instructor (grades.json)
    # what a student may see of a failed hidden check: the kind of problem, never the
    # expected values; None when ``message`` shows nothing hidden (a public example)
    student_message: str | None = None

    def shown_message(self, reveal_expected: bool = False) -> str:
        """The message for a student-facing report."""
        if reveal_expected or self.student_message is None:
            return self.message
        return self.student_message


@dataclass(frozen=True)
class ExerciseResult:
    name: str
    score: float
    max_score: float
    status: str
    checks: tuple[CheckResult, ...] = ()
    error: str = ""  # for status error/timeout: what happened, with the student's traceback tail


@dataclass(frozen=True)
class SubmissionResult:
    student: str
    submission: str
    score: float
    max_score: float
    status: str
    error: str | None = None
    exercises: tuple[ExerciseResult, ...] = ()
    content_hash: str = ""
    cell_errors: tuple[str, ...] = ()  # one line per notebook cell that raised
    # tamper evidence, not a penalty: None when the submission has no ids to compare
    tampered: bool | None = None
    tampered_cells: tuple[str, ...] = ()  # grade_ids of locked cells changed or deleted
    # imports of helper modules under other names that the grader resolved, in words
    substitutions: tuple[str, ...] = ()
    # the notebook's demonstration cells not run while grading, in words
    skipped_cells: tuple[str, ...] = ()
    # lateness, for the reports to explain a total below the exercises' points:
    # ``score`` is already after the penalty (the fraction 0..1 taken off the total)
    late_days: int = 0
    penalty: float = 0.0

    @property
    def earned(self) -> float:
        """The exercises' points: the total before any late penalty."""
        return sum(e.score for e in self.exercises)

    def exercise(self, name: str) -> ExerciseResult:
        return next(e for e in self.exercises if e.name == name)


@dataclass(frozen=True)
class Environment:
    grader_version: str
    python: str
    numpy: str
    blas: str
    limits: dict[str, Any] = field(default_factory=dict)
    isolation: bool = True  # graded with the reference's helper functions
    sandbox: str = ""  # how student code was confined, in words (see grader.sandbox.server)


@dataclass(frozen=True)
class BatchResult:
    assignment: str
    max_score: float
    environment: Environment
    submissions: tuple[SubmissionResult, ...]
    # the assignment's exercises in order: every report's columns, even when no
    # submission could be graded (empty: taken from the graded submissions)
    exercises: tuple[str, ...] = ()


def _exercise_to_dict(exercise: ExerciseResult) -> dict[str, Any]:
    return {
        "score": exercise.score,
        "max_score": exercise.max_score,
        "status": exercise.status,
        "error": exercise.error,
        "checks": [
            {
                "name": c.name,
                "passed": c.passed,
                "message": c.message,
                "student_message": c.student_message,
            }
            for c in exercise.checks
        ],
    }


def submission_to_dict(result: SubmissionResult) -> dict[str, Any]:
    """The JSON form of one submission: exercises keyed by name, in assignment order.

    Written out field by field (``dataclasses.asdict`` deep-copies every value: it was
    most of the cost of writing reports and of sending results between processes); a
    test holds the keys equal to the dataclass's fields, in order."""
    return {
        "student": result.student,
        "submission": result.submission,
        "score": result.score,
        "max_score": result.max_score,
        "status": result.status,
        "error": result.error,
        "exercises": {e.name: _exercise_to_dict(e) for e in result.exercises},
        "content_hash": result.content_hash,
        "cell_errors": list(result.cell_errors),
        "tampered": result.tampered,
        "tampered_cells": list(result.tampered_cells),
        "substitutions": list(result.substitutions),
        "skipped_cells": list(result.skipped_cells),
        "late_days": result.late_days,
        "penalty": result.penalty,
    }


def submission_from_dict(data: dict[str, Any]) -> SubmissionResult:
    exercises = tuple(
        ExerciseResult(
            name=name,
            score=item["score"],
            max_score=item["max_score"],
            status=item["status"],
            error=item.get("error", ""),
            checks=tuple(CheckResult(**check) for check in item["checks"]),
        )
        for name, item in data.get("exercises", {}).items()
    )
    return SubmissionResult(
        student=data["student"],
        submission=data["submission"],
        score=data["score"],
        max_score=data["max_score"],
        status=data["status"],
        error=data.get("error"),
        exercises=exercises,
        content_hash=data.get("content_hash", ""),
        cell_errors=tuple(data.get("cell_errors", ())),
        tampered=data.get("tampered"),
        tampered_cells=tuple(data.get("tampered_cells", ())),
        substitutions=tuple(data.get("substitutions", ())),
        skipped_cells=tuple(data.get("skipped_cells", ())),
        late_days=data.get("late_days", 0),  # absent from records older than the fields
        penalty=data.get("penalty", 0.0),
    )


def batch_header_to_dict(batch: BatchResult) -> dict[str, Any]:
    """``grades.json`` up to its last key, "submissions": what a streaming writer
    emits before the submissions, one at a time."""
    return {
        "assignment": batch.assignment,
        "max_score": batch.max_score,
        "exercises": list(batch.exercises),
        "environment": asdict(batch.environment),
    }


def batch_to_dict(batch: BatchResult) -> dict[str, Any]:
    """The whole ``grades.json`` document."""
    return {
        **batch_header_to_dict(batch),
        "submissions": [submission_to_dict(s) for s in batch.submissions],
    }


def batch_from_dict(data: dict[str, Any]) -> BatchResult:
    return BatchResult(
        assignment=data["assignment"],
        max_score=data["max_score"],
        environment=Environment(**data["environment"]),
        submissions=tuple(submission_from_dict(s) for s in data["submissions"]),
        exercises=tuple(data.get("exercises", ())),
    )
