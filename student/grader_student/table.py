"""The plain-text report a notebook cell prints: one row per exercise, then the total.

Under each exercise that did not pass: what stopped it (its error's last lines), how many
of its checks failed, and each failed check's name with the service's message beneath,
wrapped and indented. Plain text reads the same in classic Notebook, JupyterLab, VS Code
and a terminal.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from typing import Any

STATUS_WORDS = {"passed": "passed", "failed": "FAILED", "error": "ERROR", "timeout": "TIMEOUT"}
MAX_CHECKS = 5  # failed checks listed per exercise; the rest are counted
INDENT = "    "
WIDTH = 92  # long prose lines are wrapped to this (a notebook wraps them at its edge, unindented)


def points(value: Any) -> str:
    """10.0 -> '10', 7.5 -> '7.5'."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "?"
    return f"{number:g}"


def _wrapped(text: str, prefix: str) -> list[str]:
    """``text``'s lines under ``prefix``; prose wrapped, layout (an array's rows, a
    traceback's indented lines) kept as the service sent it."""
    lines = []
    for line in str(text).splitlines():
        if not line.strip():
            continue
        line = line.rstrip()
        if line[0].isspace() or line.lstrip()[0] in "[(" or len(prefix) + len(line) <= WIDTH:
            lines.append(prefix + line)
            continue
        lines += textwrap.wrap(
            line,
            WIDTH,
            initial_indent=prefix,
            subsequent_indent=prefix,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _details(exercise: dict[str, Any]) -> list[str]:
    """The lines under a row that did not pass."""
    lines = _wrapped(exercise.get("message") or "", INDENT)
    checks = [c for c in exercise.get("checks") or [] if isinstance(c, dict)]
    failed = [c for c in checks if not c.get("passed")]
    if failed and len(checks) > 1:  # one check alone needs no count
        lines.append(f"{INDENT}{len(failed)} of {_plural(len(checks), 'check')} failed:")
    for check in failed[:MAX_CHECKS]:
        lines.append(f"{INDENT}- {check.get('name') or 'check'}")
        lines += _wrapped(check.get("message") or "", INDENT * 2)
    if len(failed) > MAX_CHECKS:
        lines.append(f"{INDENT}- ... and {len(failed) - MAX_CHECKS} more failed checks")
    return lines


def table(result: dict[str, Any]) -> str:
    """The exercises of ``result`` (the service's student-facing shape) as a table."""
    exercises = result.get("exercises") or {}
    width = max([len("exercise"), *(len(str(name)) for name in exercises)]) + 2
    rows = [f"{'exercise':<{width}}{'status':<9}{'points':>9}", "-" * (width + 18)]
    for name, exercise in exercises.items():
        status = str(exercise.get("status", "?"))
        score = f"{points(exercise.get('score'))}/{points(exercise.get('max_score'))}"
        rows.append(f"{name:<{width}}{STATUS_WORDS.get(status, status):<9}{score:>9}")
        if status != "passed":
            rows += _details(exercise)
    rows.append("-" * (width + 18))
    total = f"{points(result.get('score'))}/{points(result.get('max_score'))}"
    passed = sum(1 for e in exercises.values() if e.get("status") == "passed")
    rows.append(f"{'total':<{width}}{'':<9}{total:>9}  ({passed} of {len(exercises)} passed)")
    if result.get("error"):
        rows.append(f"The notebook could not be graded: {result['error']}")
    cell_errors = [str(line) for line in result.get("cell_errors") or []]
    if cell_errors:
        rows.append("Cells of your notebook that raised an error:")
        for line in cell_errors:
            rows += _wrapped(line, INDENT + "- ")
    return "\n".join(rows)


def moment(text: Any) -> str:
    """An ISO 8601 time from the service as '2030-01-02 03:04:05 UTC' (as sent when it
    cannot be read)."""
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if when.tzinfo is not None else "")


def receipt(result: dict[str, Any]) -> str:
    """What a submission's answer says about its recording: the receipt (id, time, on
    time or late), the service's word on lateness and the score it counts."""
    line = (
        f"Submitted: receipt {result.get('id', '?')}, received {moment(result.get('received_at'))}"
    )
    days = int(result.get("late_days") or 0)
    if result.get("late"):
        line += f", LATE by {_plural(days, 'day')}" if days else ", LATE"
    else:
        line += ", on time"
    lines = [line]
    if result.get("late") and result.get("late_message"):
        lines.append(f"Late: {result['late_message']}")
    penalty = float(result.get("penalty") or 0.0)
    if penalty > 0 and result.get("score_after_penalty") is not None:
        lines.append(
            f"Score after the late penalty ({penalty:.0%} off): "
            f"{points(result['score_after_penalty'])}/{points(result.get('max_score'))} "
            f"(graded {points(result.get('score'))})"
        )
    if result.get("counted") is False:
        lines.append(
            "This submission is not counted for a grade (see the course's late rules): "
            "your latest counted submission stands."
        )
    return "\n".join(lines)
