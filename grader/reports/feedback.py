"""Per-student feedback pages, in Markdown and in self-contained HTML.

Both are drawn from one :class:`FeedbackView`, a plain description of what the student
is told. Check messages and errors carry the student's own output, so every piece of
student-derived text is escaped: by Jinja2's autoescaping in HTML, by fenced code blocks
(or backslash escapes, inline) in Markdown. Nothing a student prints can become markup
on the page their instructor or classmates open. Hidden checks' expected values are
left out unless ``reveal_expected``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from grader.reports._common import clean_text, fmt_points
from grader.reports.failures import FailureGroup, explanation, score_text, shown_groups
from grader.reports.templating import render
from grader.results import (
    EXERCISE_STATUSES,
    GRADED,
    MISSING,
    PASSED,
    ExerciseResult,
    SubmissionResult,
)

TAMPER_NOTE = (
    "These cells differ from the released notebook although they are locked. "
    "This does not change your score; your instructor may look at them."
)
SKIPPED_NOTE = (
    "These cells only show what your functions do (they train for a long time "
    "when you run them); your score does not depend on them."
)
SUBSTITUTION_NOTE = (
    "Your notebook imports modules under names this assignment does not "
    "ship; the grader used the release's own modules instead:"
)


@dataclass(frozen=True)
class ExerciseView:
    name: str
    status: str
    status_class: str  # a CSS class from a closed set, never the raw status
    score: str
    explanation: str
    failures: tuple[FailureGroup, ...]
    error: str
    anchor: str  # "" when the exercise passed: nothing to jump to


@dataclass(frozen=True)
class FeedbackView:
    title: str
    student: str
    file_name: str  # never the instructor's path
    score: str
    graded: bool
    reason: str  # why it was not graded
    reason_heading: str
    exercises: tuple[ExerciseView, ...]
    cell_errors: tuple[str, ...]
    substitutions: tuple[str, ...]
    tampered_cells: tuple[str, ...]
    skipped_cells: tuple[str, ...] = ()
    late_note: str = ""  # why the total is below the exercises' points; "" when none

    @property
    def problems(self) -> tuple[ExerciseView, ...]:
        return tuple(e for e in self.exercises if e.anchor)


def _status_class(status: str) -> str:
    return status if status in EXERCISE_STATUSES else "unknown"


def _exercise_view(number: int, exercise: ExerciseResult, reveal_expected: bool) -> ExerciseView:
    passed = exercise.status == PASSED
    return ExerciseView(
        exercise.name,
        exercise.status,
        _status_class(exercise.status),
        score_text(exercise.score, exercise.max_score),
        explanation(exercise),
        () if passed else shown_groups(exercise, reveal_expected),
        "" if passed else exercise.error,
        "" if passed else f"exercise-{number}",
    )


def late_note(submission: SubmissionResult) -> str:
    """One line explaining a late penalty ('' when none): the exercises keep the points
    they earned, the total is after the penalty, and without this line they disagree."""
    if submission.status != GRADED or submission.penalty <= 0:
        return ""
    days = submission.late_days
    when = f"{days} day{'' if days == 1 else 's'} late" if days > 0 else "late"
    percent = f"{round(submission.penalty * 100, 2):g}%"
    return (
        f"Submitted {when}: {percent} taken off the total (earned "
        f"{fmt_points(submission.earned)} of {fmt_points(submission.max_score)}, "
        f"counted {fmt_points(submission.score)})"
    )


def feedback_view(
    submission: SubmissionResult, assignment_title: str, reveal_expected: bool = False
) -> FeedbackView:
    """What one student is told, as plain data."""
    return FeedbackView(
        title=f"{assignment_title}: feedback for {submission.student}",
        student=submission.student,
        file_name=PurePath(submission.submission.replace("\\", "/")).name,
        score=score_text(submission.score, submission.max_score),
        graded=submission.status == GRADED,
        reason="" if submission.status == GRADED else (submission.error or "unknown error"),
        reason_heading=(
            "Nothing was graded:"
            if submission.status == MISSING
            else "The notebook could not be graded:"
        ),
        exercises=tuple(
            _exercise_view(number, exercise, reveal_expected)
            for number, exercise in enumerate(submission.exercises, 1)
        ),
        cell_errors=submission.cell_errors,
        substitutions=submission.substitutions,
        tampered_cells=submission.tampered_cells if submission.tampered else (),
        skipped_cells=submission.skipped_cells,
        late_note=late_note(submission),
    )


# ---------------------------------------------------------------- Markdown

# Inline characters that can start markup (emphasis, links, HTML, entities, table cells,
# headings' closing #, math); inline text never starts a line, so '.', '-', '+' are safe.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&!~()#$])")


def md_inline(text: str) -> str:
    """``text`` as literal inline Markdown on one line: markup characters backslash-escaped."""
    flat = " ".join(clean_text(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_fenced(text: str) -> str:
    """``text`` in a fenced code block whose fence is longer than any backtick run inside it."""
    body = clean_text(text).replace("\r\n", "\n").replace("\r", "\n")
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body.rstrip(chr(10))}\n{fence}"


def feedback_markdown(
    submission: SubmissionResult, assignment_title: str, reveal_expected: bool = False
) -> str:
    """The feedback page for one submission as Markdown."""
    view = feedback_view(submission, assignment_title, reveal_expected)
    lines = [
        f"# {md_inline(view.title)}",
        "",
        f"Notebook: {md_inline(view.file_name)}",
        "",
        f"**Total score: {view.score}**",
        "",
    ]
    if view.late_note:
        lines += [view.late_note, ""]  # numbers and fixed words only: nothing to escape
    if not view.graded:
        lines += [view.reason_heading, "", md_fenced(view.reason), ""]
    if view.exercises:
        lines += ["| Exercise | Status | Score |", "| --- | --- | ---: |"]
        lines += [
            f"| {md_inline(e.name)} | {md_inline(e.status)} | {e.score} |" for e in view.exercises
        ]
        lines.append("")
    for exercise in view.problems:
        lines += [
            f"## {md_inline(exercise.name)}: {md_inline(exercise.status)}",
            "",
            md_inline(exercise.explanation),
            "",
        ]
        for group in exercise.failures:
            lines += [f"- {md_inline(group.heading)}", "", md_fenced(group.message), ""]
        if exercise.error:
            lines += ["Error:", "", md_fenced(exercise.error), ""]
    if view.cell_errors:
        lines += [
            "## Cells of your notebook that raised an error",
            "",
            md_fenced("\n".join(view.cell_errors)),
            "",
        ]
    if view.skipped_cells:
        lines += ["## Cells not run while grading", "", SKIPPED_NOTE, ""]
        lines += [f"- {md_inline(line)}" for line in view.skipped_cells] + [""]
    if view.substitutions:
        lines += ["## Imports the grader resolved", "", SUBSTITUTION_NOTE, ""]
        lines += [f"- {md_inline(line)}" for line in view.substitutions] + [""]
    if view.tampered_cells:
        lines += [
            "## Locked cells that were changed",
            "",
            TAMPER_NOTE,
            "",
            md_fenced("\n".join(view.tampered_cells)),
            "",
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML


def feedback_html(
    submission: SubmissionResult, assignment_title: str, reveal_expected: bool = False
) -> str:
    """The feedback page for one submission as one self-contained HTML file (inline CSS, no JS)."""
    return render(
        "feedback.html.j2",
        view=feedback_view(submission, assignment_title, reveal_expected),
        tamper_note=TAMPER_NOTE,
        substitution_note=SUBSTITUTION_NOTE,
        skipped_note=SKIPPED_NOTE,
    )
