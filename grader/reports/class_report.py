"""The class report: ``index.html``, one self-contained page for the instructor.

Counts, mean and median (the rule of ``grader.reports.stats``), a histogram of totals,
the pass rate and the most common problem of each exercise, and a sortable table of
students linking their feedback pages. Aggregates are gathered in one pass; the table
is streamed row by row, so a batch of any size is never held as one string.

Every piece of student-controlled text (ids, file names, messages) reaches the page
through Jinja2's autoescaping, never marked safe. Messages are what the student's own
feedback may show (``CheckResult.shown_message``): never a hidden expected value.
"""

from __future__ import annotations

import functools
import textwrap
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from grader.reports import templating
from grader.reports._common import clean_text, fmt_points
from grader.reports.stats import BatchStats
from grader.results import (
    EXERCISE_STATUSES,
    GRADED,
    NOT_GRADED,
    PASSED,
    SUBMISSION_STATUSES,
    BatchResult,
    ExerciseResult,
    SubmissionResult,
)

MESSAGE_WIDTH = 160  # characters of a problem shown in the page; the rest in its tooltip
TOOLTIP_WIDTH = 1000
MARKS = {
    "passed": "\u2713",
    "failed": "\u2717",
    "error": "!",
    "timeout": "\u25f7",
    "missing": "\u2013",
}


def shorten(text: str, width: int = MESSAGE_WIDTH) -> str:
    """``text`` on one line, at most ``width`` characters, cut between words with '…'."""
    flat = " ".join(clean_text(text).split())
    if len(flat) <= width:
        return flat
    short = textwrap.shorten(flat, width, placeholder=" \u2026")
    # only a first word longer than the width leaves the placeholder alone: cut that word
    return short if short != "\u2026" else flat[: width - 1] + "\u2026"


def problems(exercise: ExerciseResult) -> list[str]:
    """What a student was told went wrong in a not-passed exercise, each message once:
    its failed checks' student-facing messages, else its error (a traceback's last
    line, the exception), else its status."""
    found = dict.fromkeys(
        message
        for check in exercise.checks
        if not check.passed
        for message in [check.shown_message()]
        if message.strip()
    )
    if found:
        return list(found)
    error = exercise.error.strip()
    if error.startswith("Traceback"):
        return [error.splitlines()[-1]]
    return [error or f"status: {exercise.status}"]


@dataclass
class ProblemTally:
    not_passed: int = 0
    # message -> graded submissions told it for this exercise (each counted once)
    messages: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class CommonProblem:
    exercise: str
    not_passed: int
    message: str  # shortened; "" when every graded submission passed
    full: str  # for the tooltip
    count: int
    others: int  # how many other distinct messages


def _tally_problems(tallies: dict[str, ProblemTally], submission: SubmissionResult) -> None:
    if submission.status != GRADED:
        return
    for exercise in submission.exercises:
        if exercise.status == PASSED:
            continue
        tally = tallies.setdefault(exercise.name, ProblemTally())
        tally.not_passed += 1
        tally.messages.update(problems(exercise))


def _common_problems(names: Sequence[str], tallies: dict[str, ProblemTally]) -> list[CommonProblem]:
    """Per exercise the most told message; on a tie, the one seen first."""
    out = []
    for name in names:
        tally = tallies.get(name, ProblemTally())
        message, count = (tally.messages.most_common(1) or [("", 0)])[0]
        out.append(
            CommonProblem(
                name,
                tally.not_passed,
                shorten(message),
                shorten(message, TOOLTIP_WIDTH),
                count,
                max(len(tally.messages) - 1, 0),
            )
        )
    return out


@dataclass(frozen=True)
class Cell:
    status: str  # "" when the submission has no such exercise
    css: str  # from a closed set: a status is never pasted into an attribute raw
    mark: str
    order: int  # sort key: passed first


@dataclass(frozen=True)
class Row:
    student: str
    submission: str
    href: str  # feedback/<stem>.html, the stem made of [A-Za-z0-9._-] only
    score: str
    score_key: float
    status: str
    status_css: str  # from a closed set, as Cell.css
    tampered: bool
    cells: Markup  # the exercise cells, rendered by the template (escaped there)


_NO_CELL = Cell("", "none", "", len(EXERCISE_STATUSES) + 1)


def _cell(status: str) -> Cell:
    if status in MARKS:
        return Cell(status, status, MARKS[status], EXERCISE_STATUSES.index(status))
    return Cell(status, "unknown", "?", len(EXERCISE_STATUSES))


@functools.lru_cache(maxsize=256)
def _exercise_cells(statuses: tuple[str | None, ...]) -> Markup:
    """The cells of one row by the template's macro, once per distinct row of statuses:
    most rows share one (all passed), and rendering each cell was most of the time."""
    module = _environment().get_template("class_report_cells.html.j2").module
    macro = module.exercise_cells  # type: ignore[attr-defined]  # the template's macro
    return macro(tuple(_NO_CELL if status is None else _cell(status) for status in statuses))


def _rows(batch: BatchResult, stems: Sequence[str], names: Sequence[str]) -> Iterator[Row]:
    for submission, stem in zip(batch.submissions, stems):
        statuses = {e.name: e.status for e in submission.exercises}
        cells = _exercise_cells(tuple(statuses.get(name) for name in names))
        # the summary's rule: unreadable and missing score 0, not_graded has no score
        total = submission.score if submission.status == GRADED else 0.0
        counted = submission.status != NOT_GRADED
        yield Row(
            submission.student,
            submission.submission,
            f"feedback/{stem}.html",
            f"{total:.1f}" if counted else "\u2013",
            total if counted else -1.0,
            submission.status,
            submission.status if submission.status in SUBMISSION_STATUSES else "unknown",
            bool(submission.tampered),
            cells,
        )


def _finalize(value: Any) -> Any:
    """As ``templating``'s (controls out of every string, then autoescape), except that what
    a template rendered itself (a macro's ``Markup``) is not escaped twice; student text
    is never ``Markup``."""
    return clean_text(value) if isinstance(value, str) and not isinstance(value, Markup) else value


@functools.cache
def _environment() -> jinja2.Environment:
    """The reports' Jinja2 environment (autoescape, strict), with that one difference."""
    return templating.environment().overlay(finalize=_finalize)


def chart_data(batch: BatchResult) -> dict[str, Any]:
    """What the charts show, as plain data (it may cross to another process)."""
    stats = BatchStats.of(batch.submissions, batch.exercises)
    names = list(stats.exercises)
    return {
        "totals": list(stats.totals),
        "max_score": batch.max_score,
        "names": names,
        "rates": [stats.pass_rate(n) for n in names] if stats.graded else [],
    }


def draw_charts(data: dict[str, Any]) -> list[str]:
    """The histogram of totals and the pass-rate bars, as SVG data URIs ('' when empty)."""
    from grader.reports import charts

    histogram = charts.histogram_svg(data["totals"], data["max_score"]) if data["totals"] else ""
    rates = (
        charts.pass_rate_svg(data["names"], data["rates"])
        if data["rates"] and data["names"]
        else ""
    )
    return [histogram, rates]


def class_report_html(
    batch: BatchResult,
    assignment_title: str,
    stems: Sequence[str],
    drawn: Sequence[str] | None = None,
) -> Iterator[str]:
    """The page as chunks of text. ``stems``: the feedback pages' file stems, one per
    submission in order (``grader.reports.feedback_file_stems``), so links match the pages;
    ``drawn``: the charts, if already drawn (``draw_charts(chart_data(batch))``)."""
    stats, tampered = BatchStats.start(batch.exercises), 0
    tallies: dict[str, ProblemTally] = {}
    for submission in batch.submissions:  # the one pass over the batch for every aggregate
        stats.add(submission)
        _tally_problems(tallies, submission)
        tampered += bool(submission.tampered)
    names = list(stats.exercises)
    histogram, pass_rates = drawn if drawn is not None else draw_charts(chart_data(batch))
    template = _environment().get_template("class_report.html.j2")
    yield from template.generate(
        title=assignment_title,
        assignment=batch.assignment,
        stats=stats,
        tampered=tampered,
        max_score=fmt_points(batch.max_score),
        mean=fmt_points(stats.mean) if stats.mean is not None else "\u2013",
        median=fmt_points(stats.median) if stats.median is not None else "\u2013",
        histogram=histogram,
        pass_rates=pass_rates,
        names=names,
        rates={n: f"{100 * stats.pass_rate(n):.0f}%" for n in names},
        problems=_common_problems(names, tallies),
        marks=MARKS,
        rows=_rows(batch, stems, names),
        has_rows=bool(batch.submissions),
    )
