"""A graded batch as the dashboard shows it: the grade table's rows, the histogram of
totals and the pass rate per exercise, as plain JSON data.

The numbers are the class report's (:class:`grader.reports.stats.BatchStats`: the same
rule for what counts in a total and in a pass rate) and the histogram's bins are those
of its chart (:func:`grader.reports.charts.histogram_svg`), so that the dashboard and
``index.html`` never disagree; the browser only draws them.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from grader.reports import feedback_file_stems
from grader.reports.stats import BatchStats
from grader.results import BatchResult, SubmissionResult

HISTOGRAM_BINS = 10  # as the class report's chart


def histogram(totals: Sequence[float], max_score: float, bins: int = HISTOGRAM_BINS) -> list[dict]:
    """Counts of ``totals`` in ``bins`` equal ranges from 0 to ``max_score``, each range
    closed on the left and the last one on both sides (as ``numpy.histogram``); totals
    outside are counted in the nearest range."""
    top = max_score if max_score > 0 else 1.0
    edges = [index * (top / bins) for index in range(bins)] + [top]  # numpy.linspace's
    counts = [0] * bins
    for total in totals:
        clipped = min(max(float(total), 0.0), top)
        counts[min(bisect.bisect_right(edges, clipped) - 1, bins - 1)] += 1
    return [
        {"low": edges[index], "high": edges[index + 1], "count": count}
        for index, count in enumerate(counts)
    ]


def _row(submission: SubmissionResult, stem: str) -> dict[str, Any]:
    return {
        "student": submission.student,
        "submission": submission.submission,
        "status": submission.status,
        "score": submission.score,
        "max_score": submission.max_score,
        "error": submission.error,
        "tampered": submission.tampered,
        "feedback": stem,  # the page feedback/<stem>.html
        "exercises": {
            exercise.name: {
                "score": exercise.score,
                "max_score": exercise.max_score,
                "status": exercise.status,
            }
            for exercise in submission.exercises
        },
    }


def summarize(batch: BatchResult, title: str, out: str) -> dict[str, Any]:
    """Everything the dashboard shows of ``batch``, whose reports are in ``out``."""
    stats = BatchStats.of(batch.submissions, batch.exercises)
    names = list(stats.exercises)
    stems = feedback_file_stems(batch.submissions)
    return {
        "assignment": batch.assignment,
        "title": title,
        "out": out,
        "max_score": batch.max_score,
        "exercises": names,
        "rows": [_row(submission, stem) for submission, stem in zip(batch.submissions, stems)],
        "histogram": histogram(stats.totals, batch.max_score),
        "pass_rates": [
            {
                "exercise": name,
                "rate": stats.pass_rate(name),
                "passed": stats.exercises[name].passed,
                "mean_points": stats.mean_points(name),
                "max_score": stats.exercises[name].max_score,
            }
            for name in names
        ]
        if stats.graded
        else [],
        "stats": overview(stats),
    }


def overview(stats: BatchStats) -> dict[str, Any]:
    """The counts and the mean and median of the totals (the terminal summary's)."""
    return {
        "submissions": stats.submissions,
        "graded": stats.graded,
        "unreadable": stats.unreadable,
        "missing": stats.missing,
        "not_graded": stats.not_graded,
        "mean": stats.mean,
        "median": stats.median,
    }
