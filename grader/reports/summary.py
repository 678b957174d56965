"""A plain-text summary of a batch, for the terminal after a grading run."""
from __future__ import annotations

import statistics

from grader.reports._common import exercise_names, fmt_number
from grader.results import GRADED, MISSING, NOT_GRADED, PASSED, BatchResult


def _table(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    """Rows as aligned columns; columns in ``right`` are right-aligned (numbers)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                      for i, (cell, w) in enumerate(zip(row, widths))).rstrip() for row in rows]


def _printable(text: str) -> str:
    """One line with no control characters: a student id must not move the terminal cursor."""
    return "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))


STUDENT_TABLE_UP_TO = 40  # larger batches: read grades.csv instead
REASON_WIDTH = 70


def shorten(text: str, width: int = REASON_WIDTH) -> str:
    """``text`` in at most ``width`` characters, cut at a word boundary with "...": a
    reason cut mid-word reads as another reason. Only a word longer than the whole
    line (a long path) is cut inside."""
    if len(text) <= width:
        return text
    cut = text[:width - 3]
    if text[width - 3] != " " and " " in cut:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "..."


def _student_rows(batch: BatchResult) -> list[str]:
    """Per student: the score and what went wrong, for batches small enough to read."""
    rows = [("student", "score", "not passed")]
    for submission in batch.submissions:
        if submission.status != GRADED:  # unreadable, missing: 0, as in every report
            rows.append((_printable(submission.student),
                         "-" if submission.status == NOT_GRADED else "0",
                         shorten(_printable(f"{submission.status}: {submission.error or ''}"))))
            continue
        problems = ", ".join(f"{e.name} ({e.status})" for e in submission.exercises
                             if e.status != PASSED)
        if len(problems) > 80:
            statuses = sorted({e.status for e in submission.exercises if e.status != PASSED})
            count = sum(e.status != PASSED for e in submission.exercises)
            problems = f"{count} exercises ({', '.join(statuses)})"
        rows.append((_printable(submission.student), fmt_number(submission.score),
                     _printable(problems) or "-"))
    return _table(rows, right={1})


def summary_text(batch: BatchResult) -> str:
    """Counts, mean and median total (unreadable submissions count as 0, as in the gradebook;
    those the grader failed on have no score), and per exercise the pass rate and mean
    points over the graded submissions."""
    graded = [s for s in batch.submissions if s.status == GRADED]
    failed_on = sum(s.status == NOT_GRADED for s in batch.submissions)
    missing = sum(s.status == MISSING for s in batch.submissions)  # no notebook at all
    totals = [s.score if s.status == GRADED else 0.0 for s in batch.submissions
              if s.status != NOT_GRADED]
    lines = [f"Assignment: {_printable(batch.assignment)}",
             f"Submissions: {len(batch.submissions)} ({len(graded)} graded, "
             f"{len(batch.submissions) - len(graded) - failed_on - missing} unreadable"
             + (f", {missing} missing" if missing else "")
             + (f", {failed_on} not graded: a fault of the grader)" if failed_on else ")")]
    if totals:
        lines.append(f"Score: mean {fmt_number(statistics.fmean(totals))}, "
                     f"median {fmt_number(statistics.median(totals))} "
                     f"(of {fmt_number(batch.max_score)})")
    names = exercise_names(batch)
    if graded and names:  # the students' rows follow even when none is
        rows = [("exercise", "pass rate", "mean points", "max")]
        for name in names:
            results = [e for s in graded for e in s.exercises if e.name == name]
            passed = sum(e.status == PASSED for e in results)
            # a graded submission lacking the exercise counts as not passed, 0 points
            points = sum(e.score for e in results) / len(graded)
            maximum = max((e.max_score for e in results), default=0.0)
            rows.append((_printable(name),
                         f"{100 * passed / len(graded):.0f}% ({passed}/{len(graded)})",
                         fmt_number(points), fmt_number(maximum)))
        lines += ["", *_table(rows, right={1, 2, 3})]
    tampered = [s for s in batch.submissions if s.tampered]
    if tampered:
        lines += ["", f"Locked cells changed in {len(tampered)} submission(s) (not penalised; "
                      "see tampered_cells in grades.json): "
                      + ", ".join(_printable(s.student) for s in tampered[:10])
                      + (" ..." if len(tampered) > 10 else "")]
    if 0 < len(batch.submissions) <= STUDENT_TABLE_UP_TO:
        lines += ["", *_student_rows(batch)]
    return "\n".join(lines) + "\n"
