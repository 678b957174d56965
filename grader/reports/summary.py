"""A plain-text summary of a batch, for the terminal after a grading run."""

from __future__ import annotations

from collections.abc import Sequence

from grader.reports._common import fmt_points
from grader.reports.stats import BatchStats
from grader.results import GRADED, NOT_GRADED, PASSED, BatchResult
from grader.terminal import printable as _printable  # a student id must not move the cursor


def _table(rows: Sequence[tuple[str, ...]], right: set[int]) -> list[str]:
    """Rows as aligned columns; columns in ``right`` are right-aligned (numbers)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]


STUDENT_TABLE_UP_TO = 40  # larger batches: read grades.csv instead
REASON_WIDTH = 70


def shorten(text: str, width: int = REASON_WIDTH) -> str:
    """``text`` in at most ``width`` characters, cut at a word boundary with "...": a
    reason cut mid-word reads as another reason. Only a word longer than the whole
    line (a long path) is cut inside."""
    if len(text) <= width:
        return text
    cut = text[: width - 3]
    if text[width - 3] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "..."


def _student_rows(batch: BatchResult) -> list[str]:
    """Per student: the score and what went wrong, for batches small enough to read."""
    rows = [("student", "score", "not passed")]
    for submission in batch.submissions:
        if submission.status != GRADED:  # unreadable, missing: 0, as in every report
            rows.append(
                (
                    _printable(submission.student),
                    "-" if submission.status == NOT_GRADED else "0",
                    shorten(_printable(f"{submission.status}: {submission.error or ''}")),
                )
            )
            continue
        problems = ", ".join(
            f"{e.name} ({e.status})" for e in submission.exercises if e.status != PASSED
        )
        if len(problems) > 80:
            statuses = sorted({e.status for e in submission.exercises if e.status != PASSED})
            count = sum(e.status != PASSED for e in submission.exercises)
            problems = f"{count} exercises ({', '.join(statuses)})"
        rows.append(
            (
                _printable(submission.student),
                fmt_points(submission.score),
                _printable(problems) or "-",
            )
        )
    return _table(rows, right={1})


def summary_text(batch: BatchResult) -> str:
    """Counts, mean and median total (unreadable submissions count as 0, as in the gradebook;
    those the grader failed on have no score), and per exercise the pass rate and mean
    points over the graded submissions."""
    stats = BatchStats.of(batch.submissions, batch.exercises)
    lines = [
        f"Assignment: {_printable(batch.assignment)}",
        f"Submissions: {stats.submissions} ({stats.graded} graded, "
        f"{stats.unreadable} unreadable"
        + (f", {stats.missing} missing" if stats.missing else "")  # no notebook at all
        + (f", {stats.not_graded} not graded: a fault of the grader)" if stats.not_graded else ")"),
    ]
    mean, median = stats.mean, stats.median
    if mean is not None and median is not None:  # there are totals
        lines.append(
            f"Score: mean {fmt_points(mean)}, median {fmt_points(median)} "
            f"(of {fmt_points(batch.max_score)})"
        )
    if stats.graded and stats.exercises:  # the students' rows follow even when none is
        rows = [("exercise", "pass rate", "mean points", "max")]
        for name, tally in stats.exercises.items():
            rows.append(
                (
                    _printable(name),
                    f"{100 * tally.passed / stats.graded:.0f}% ({tally.passed}/{stats.graded})",
                    fmt_points(stats.mean_points(name)),
                    fmt_points(tally.max_score),
                )
            )
        lines += ["", *_table(rows, right={1, 2, 3})]
    tampered = [s for s in batch.submissions if s.tampered]
    if tampered:
        lines += [
            "",
            f"Locked cells changed in {len(tampered)} "
            f"{'submission' if len(tampered) == 1 else 'submissions'} (not penalised; "
            "see tampered_cells in grades.json): "
            + ", ".join(_printable(s.student) for s in tampered[:10])
            + (" ..." if len(tampered) > 10 else ""),
        ]
    if 0 < len(batch.submissions) <= STUDENT_TABLE_UP_TO:
        lines += ["", *_student_rows(batch)]
    return "\n".join(lines) + "\n"
