"""Gradescope autograder ``results.json`` for one submission: one test per exercise."""

from __future__ import annotations

import json
from typing import Any

from grader.reports._common import clean_text
from grader.reports.failures import problem_text, score_text
from grader.results import GRADED, PASSED, SubmissionResult

# Gradescope renders ``output`` as "simple_format" (HTML-ish) unless told otherwise;
# "text" shows student output verbatim, line breaks kept, nothing interpreted.
OUTPUT_FORMAT = "text"


def _test(name: str, score: float, max_score: float, passed: bool, output: str) -> dict[str, Any]:
    return {
        "name": clean_text(name),
        "score": score,
        "max_score": max_score,
        "status": "passed" if passed else "failed",
        "output": clean_text(output),
        "output_format": OUTPUT_FORMAT,
        "visibility": "visible",
    }


def gradescope_results(
    submission: SubmissionResult, execution_time: float | None = None, reveal_expected: bool = False
) -> str:
    """The ``results.json`` Gradescope reads after the autograder ran (indented, newline-ended).

    ``score`` is the submission's total, which equals the sum of the test scores;
    an unreadable notebook gets a single failed test carrying the full max score,
    so the student sees what was at stake and why. Students see this: hidden checks'
    expected values are left out unless ``reveal_expected``.
    """
    if submission.status == GRADED:
        tests = [
            _test(
                e.name, e.score, e.max_score, e.status == PASSED, problem_text(e, reveal_expected)
            )
            for e in submission.exercises
        ]
        output = f"Score: {score_text(submission.score, submission.max_score)}"
        if submission.cell_errors:
            output += "\n\nCells of your notebook that raised an error:\n" + "\n".join(
                submission.cell_errors
            )
        if submission.substitutions:
            output += "\n\nImports the grader resolved:\n" + "\n".join(submission.substitutions)
        if submission.skipped_cells:
            output += "\n\nCells not run while grading:\n" + "\n".join(submission.skipped_cells)
    else:
        error = submission.error or "unreadable notebook"
        tests = [_test("notebook", 0, submission.max_score, False, error)]
        output = f"Your notebook could not be graded: {error}"
    result: dict[str, Any] = {"score": submission.score if submission.status == GRADED else 0}
    if execution_time is not None:
        result["execution_time"] = execution_time
    result.update(
        {
            "output": clean_text(output),
            "output_format": OUTPUT_FORMAT,
            "stdout_visibility": "visible",
            "tests": tests,
        }
    )
    return json.dumps(result, indent=2) + "\n"
