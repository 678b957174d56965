"""The result a student is sent by the grading service: plain JSON-able data, with the
hidden checks' expected values kept hidden exactly as in the feedback pages.

Pure: a function of the :class:`~grader.results.SubmissionResult` alone, so that the
service's answer and its tests agree with every other student-facing report.
"""

from __future__ import annotations

from typing import Any

from grader.results import PASSED, CheckResult, ExerciseResult, SubmissionResult


def _check(check: CheckResult, reveal_expected: bool) -> dict[str, Any]:
    return {
        "name": check.name,
        "passed": check.passed,
        "message": check.shown_message(reveal_expected),
    }


def _exercise(exercise: ExerciseResult, reveal_expected: bool) -> dict[str, Any]:
    return {
        "status": exercise.status,
        "score": exercise.score,
        "max_score": exercise.max_score,
        # what stopped it (a timeout, a crash), with the student's own traceback tail
        "message": "" if exercise.status == PASSED else exercise.error,
        "checks": [_check(check, reveal_expected) for check in exercise.checks],
    }


def student_result(result: SubmissionResult, reveal_expected: bool = False) -> dict[str, Any]:
    """``{"status", "score", "max_score", "error", "exercises": {name: {"status",
    "score", "max_score", "message", "checks": [{"name", "passed", "message"}]}},
    "cell_errors"}``: exercises in assignment order; a failed hidden check's message is
    :meth:`CheckResult.shown_message` (the kind of problem, never the expected values,
    unless ``reveal_expected``). ``cell_errors``: the student's own cells that raised."""
    return {
        "status": result.status,
        "score": result.score,
        "max_score": result.max_score,
        "error": result.error,
        "exercises": {e.name: _exercise(e, reveal_expected) for e in result.exercises},
        "cell_errors": list(result.cell_errors),
    }
