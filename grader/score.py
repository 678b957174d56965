"""Checks -> an exercise's status and points -> a submission's grade."""
from __future__ import annotations

from grader.checks import ExerciseRun
from grader.results import (ERROR, FAILED, MISSING, PASSED, TIMEOUT, ExerciseResult,
                            SubmissionResult, GRADED)


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


def score_exercise(name: str, points: float, run: ExerciseRun,
                   all_or_nothing: bool = False) -> ExerciseResult:
    """Points times the share of passed checks (or all-or-nothing)."""
    status = exercise_status(run)
    total = len(run.checks)
    passed = sum(check.passed for check in run.checks)
    if all_or_nothing:
        score = points if status == PASSED else 0.0
    else:
        score = points * passed / total if total else 0.0
    return ExerciseResult(name=name, score=round(score, 4), max_score=points, status=status,
                          checks=run.checks, error=run.error)


def grade_submission(student: str, submission: str, exercises: tuple[ExerciseResult, ...],
                     content_hash: str, cell_errors: tuple[str, ...] = ()) -> SubmissionResult:
    return SubmissionResult(
        student=student, submission=submission,
        score=round(sum(e.score for e in exercises), 4),
        max_score=sum(e.max_score for e in exercises), status=GRADED, error=None,
        exercises=exercises, content_hash=content_hash, cell_errors=cell_errors)


__all__ = ["exercise_status", "score_exercise", "grade_submission", "ERROR", "FAILED",
           "PASSED"]
