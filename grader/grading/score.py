"""Checks -> an exercise's status and points -> a submission's grade."""

from __future__ import annotations

import re
from dataclasses import replace

from grader.grading.checks import ExerciseRun
from grader.results import (
    ERROR,
    FAILED,
    GRADED,
    MISSING,
    PASSED,
    TIMEOUT,
    ExerciseResult,
    SubmissionResult,
)
from grader.sandbox.messages import OK, CellResult


def exercise_status(run: ExerciseRun) -> str:
    """The most telling status: missing, then timeout, then error, then failed."""
    statuses = set(run.call_statuses)
    if MISSING in statuses:
        return MISSING
    if TIMEOUT in statuses:
        return TIMEOUT
    if statuses & {"error", "died"}:
        return ERROR
    if run.checks and all(check.passed for check in run.checks):
        return PASSED
    return FAILED


def score_exercise(
    name: str, points: float, run: ExerciseRun, all_or_nothing: bool = False
) -> ExerciseResult:
    """Points times the share of passed checks (or all-or-nothing)."""
    status = exercise_status(run)
    total = len(run.checks)
    passed = sum(check.passed for check in run.checks)
    if all_or_nothing:
        score = points if status == PASSED else 0.0
    else:
        score = points * passed / total if total else 0.0
    return ExerciseResult(
        name=name,
        score=round(score, 4),
        max_score=points,
        status=status,
        checks=run.checks,
        error=run.error,
    )


def explain_missing(
    exercise: ExerciseResult, defining_cells: list[tuple[str, CellResult]]
) -> ExerciseResult:
    """A missing function whose cell failed is told by that failure first: a syntax error
    or a failing import at the top of the cell is the cause, "not found" only its effect.

    ``defining_cells``: (label, result) of each cell whose text defines the function."""
    failed = [(label, cell) for label, cell in defining_cells if cell.status != OK]
    if not failed:
        return exercise
    label, cell = failed[-1]  # the definition a top-to-bottom run would have left in place
    line = next(
        (
            found.group(1)
            for text in reversed(cell.traceback)
            for found in [re.search(r'File "<cell \d+>", line (\d+)', text)]
            if found
        ),
        None,
    )
    what = (
        ": ".join(
            part for part in (cell.error_type, (cell.message.splitlines() or [""])[0]) if part
        )
        or cell.status
    )
    at = f" at line {line}" if line else ""
    return replace(
        exercise,
        error=f"{exercise.name} could not be defined: the cell that "
        f"defines it, {label}, stopped{at} with {what}. Fix that error first: "
        "a function exists only once its whole cell has run.",
    )


def grade_submission(
    student: str,
    submission: str,
    exercises: tuple[ExerciseResult, ...],
    content_hash: str,
    cell_errors: tuple[str, ...] = (),
) -> SubmissionResult:
    return SubmissionResult(
        student=student,
        submission=submission,
        score=round(sum(e.score for e in exercises), 4),
        max_score=sum(e.max_score for e in exercises),
        status=GRADED,
        error=None,
        exercises=exercises,
        content_hash=content_hash,
        cell_errors=cell_errors,
    )


__all__ = [
    "exercise_status",
    "explain_missing",
    "score_exercise",
    "grade_submission",
    "ERROR",
    "FAILED",
    "PASSED",
]
