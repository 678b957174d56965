"""``grades.csv``: one row per submission, one column per exercise, for gradebooks and
spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from grader.reports._common import exercise_names as _exercise_names, fmt_number
from grader.results import GRADED, NOT_GRADED, BatchResult

FIXED_COLUMNS = ("student", "submission", "score", "max_score")
# a cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet shows it, never run as a formula (OWASP "CSV injection").

    Student ids and file names come from students: a file named ``=HYPERLINK(...)``
    must not become a live formula in the instructor's gradebook. The quote that
    spreadsheets hide is added only to such cells; every other cell is unchanged.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def iter_grades_csv(
    batch: BatchResult, exercise_names: Sequence[str] | None = None
) -> Iterator[str]:
    """``grades_csv`` in chunks of one row, for writing without holding the whole table.

    The columns are checked here, before the first row: a bad name raises at the call.
    """
    names = list(exercise_names) if exercise_names is not None else _exercise_names(batch)
    clash = set(names) & set(FIXED_COLUMNS)
    if clash or len(set(names)) != len(names):
        raise ValueError(f"exercise names must be unique and differ from {FIXED_COLUMNS}: {names}")
    return _rows(batch, names)


def _rows(batch: BatchResult, names: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def row(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield row([*FIXED_COLUMNS, *names])
    for submission in batch.submissions:
        scores = (
            {e.name: fmt_number(e.score) for e in submission.exercises}
            if submission.status == GRADED
            else {}
        )
        score = submission.score if submission.status == GRADED else 0.0
        yield row(
            [
                spreadsheet_text(submission.student),
                spreadsheet_text(submission.submission),
                "" if submission.status == NOT_GRADED else fmt_number(score),
                fmt_number(submission.max_score),
                *(scores.get(n, "") for n in names),
            ]
        )


def grades_csv(batch: BatchResult, exercise_names: Sequence[str] | None = None) -> str:
    """The grade table as CSV text (RFC 4180 line endings).

    Exercise columns follow assignment order (``exercise_names``, else the batch's
    exercises, then any others the graded submissions hold), whether or not any
    submission was graded. One rule in every report: an unreadable or missing notebook
    scores 0 in total and has no exercise results, so its exercise cells are empty; one
    the grader failed on has no score at all (empty total). Text that a spreadsheet
    would run as a formula is quoted (:func:`spreadsheet_text`).
    """
    return "".join(iter_grades_csv(batch, exercise_names))
