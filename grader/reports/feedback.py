"""Per-student feedback pages, in Markdown and in self-contained HTML.

Check messages and errors carry the student's own output, so every piece of
student-derived text is escaped: ``html.escape`` in HTML, fenced code blocks
(or backslash escapes, inline) in Markdown. Nothing a student prints can
become markup on the page their instructor or classmates open.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable

from grader.reports._common import clean_text, fmt_number
from grader.results import EXERCISE_STATUSES, GRADED, PASSED, ExerciseResult, SubmissionResult

# Inline characters that can start markup (emphasis, links, HTML, entities, table cells,
# headings' closing #, math); inline text never starts a line, so '.', '-', '+' are safe.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&!~()#$])")


# ---------------------------------------------------------------- Markdown

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


def _score(submission_or_exercise: SubmissionResult | ExerciseResult) -> str:
    item = submission_or_exercise
    return f"{fmt_number(item.score)} / {fmt_number(item.max_score)}"


# Said for an exercise that did not pass, before its details: the status alone is jargon.
STATUS_EXPLANATIONS = {
    "failed": "Some hidden checks failed.",
    "error": "Your code raised an error while it was checked.",
    "timeout": "Your code ran past the time limit while it was checked.",
    "missing": "This exercise was not found in your notebook (was the function renamed or deleted?).",
}


def _explanation(status: str, escape: Callable[[str], str]) -> str:
    """Our own sentence for a known status; an unknown status is student-facing data, so escaped."""
    return STATUS_EXPLANATIONS.get(status) or escape(f"Status: {status}.")


def _not_passed(submission: SubmissionResult) -> list[ExerciseResult]:
    return [e for e in submission.exercises if e.status != PASSED]


def feedback_markdown(submission: SubmissionResult, assignment_title: str) -> str:
    """The feedback page for one submission as Markdown."""
    lines = [f"# {md_inline(assignment_title)}: feedback for {md_inline(submission.student)}", "",
             f"Submission: {md_inline(submission.submission)}", "",
             f"**Total score: {_score(submission)}**", ""]
    if submission.status != GRADED:
        lines += ["The notebook could not be graded:", "", md_fenced(submission.error or "unknown error"), ""]
    if submission.exercises:
        lines += ["| Exercise | Status | Score |", "| --- | --- | ---: |"]
        lines += [f"| {md_inline(e.name)} | {md_inline(e.status)} | {_score(e)} |"
                  for e in submission.exercises]
        lines.append("")
    for exercise in _not_passed(submission):
        lines += [f"## {md_inline(exercise.name)}: {md_inline(exercise.status)}", "",
                  _explanation(exercise.status, md_inline), ""]
        for check in exercise.checks:
            if not check.passed:
                lines += [f"- Failed check: {md_inline(check.name)}", "",
                          md_fenced(check.message or "(no message)"), ""]
        if exercise.error:
            lines += ["Error:", "", md_fenced(exercise.error), ""]
    if submission.cell_errors:
        lines += ["## Cells of your notebook that raised an error", ""]
        lines += [md_fenced("\n".join(submission.cell_errors)), ""]
    if submission.tampered:
        lines += ["## Locked cells that were changed", "", TAMPER_NOTE, "",
                  md_fenced("\n".join(submission.tampered_cells)), ""]
    return "\n".join(lines)


TAMPER_NOTE = ("These cells differ from the released notebook although they are locked. "
               "This does not change your score; your instructor may look at them.")


# ---------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .7rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .6rem; overflow-x: auto;
      white-space: pre-wrap; word-break: break-word; }
.total { font-size: 1.15rem; font-weight: bold; }
.passed { color: #176f2c; } .failed { color: #a33; } .error, .timeout, .missing { color: #8a4b00; }
""".strip()


def _e(text: str | None) -> str:
    return html.escape(clean_text(text), quote=True)


def _pre(text: str) -> str:
    return f"<pre>{_e(text)}</pre>"


def _status_class(status: str) -> str:
    """A CSS class from a closed set: a status string is never pasted into an attribute raw."""
    return status if status in EXERCISE_STATUSES else "unknown"


def feedback_html(submission: SubmissionResult, assignment_title: str) -> str:
    """The feedback page for one submission as one self-contained HTML file (inline CSS, no JS)."""
    title = f"{assignment_title}: feedback for {submission.student}"
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}</title>", f"<style>\n{_CSS}\n</style>", "</head>", "<body>",
           f"<h1>{_e(title)}</h1>", f"<p>Submission: <code>{_e(submission.submission)}</code></p>",
           f'<p class="total">Total score: {_e(_score(submission))}</p>']
    if submission.status != GRADED:
        out += ["<p>The notebook could not be graded:</p>", _pre(submission.error or "unknown error")]
    anchors = {i: f"exercise-{i}" for i, e in enumerate(submission.exercises, 1) if e.status != PASSED}
    if submission.exercises:
        out += ["<table>", "<thead><tr><th>Exercise</th><th>Status</th><th>Score</th></tr></thead>",
                "<tbody>"]
        for i, exercise in enumerate(submission.exercises, 1):
            name = _e(exercise.name)
            if i in anchors:
                name = f'<a href="#{anchors[i]}">{name}</a>'
            out.append(f'<tr><td>{name}</td><td class="{_status_class(exercise.status)}">'
                       f'{_e(exercise.status)}</td><td class="num">{_e(_score(exercise))}</td></tr>')
        out += ["</tbody>", "</table>"]
    for i, anchor in anchors.items():
        exercise = submission.exercises[i - 1]
        out += [f'<section id="{anchor}">',
                f'<h2>{_e(exercise.name)}: <span class="{_status_class(exercise.status)}">'
                f"{_e(exercise.status)}</span></h2>", f"<p>{_explanation(exercise.status, _e)}</p>"]
        for check in exercise.checks:
            if not check.passed:
                out += [f"<h3>Failed check: {_e(check.name)}</h3>", _pre(check.message or "(no message)")]
        if exercise.error:
            out += ["<h3>Error</h3>", _pre(exercise.error)]
        out.append("</section>")
    if submission.cell_errors:
        out += ["<h2>Cells of your notebook that raised an error</h2>", "<ul>"]
        out += [f"<li><code>{_e(line)}</code></li>" for line in submission.cell_errors]
        out.append("</ul>")
    if submission.tampered:
        out += ["<h2>Locked cells that were changed</h2>", f"<p>{_e(TAMPER_NOTE)}</p>", "<ul>"]
        out += [f"<li><code>{_e(cell)}</code></li>" for cell in submission.tampered_cells]
        out.append("</ul>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
