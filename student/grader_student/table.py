"""The plain-text report a notebook cell prints: one row per exercise, then the total.

Under each exercise that did not pass: its message (the error's last line) and each
failed check's message, indented. Plain text reads the same in classic Notebook,
JupyterLab, VS Code and a terminal.
"""

from __future__ import annotations

from typing import Any

STATUS_WORDS = {"passed": "passed", "failed": "FAILED", "error": "ERROR", "timeout": "TIMEOUT"}
MAX_CHECKS = 5  # failed checks listed per exercise; the rest are counted
INDENT = "    "


def points(value: Any) -> str:
    """10.0 -> '10', 7.5 -> '7.5'."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "?"
    return f"{number:g}"


def _indented(text: str, prefix: str) -> list[str]:
    lines = [line.rstrip() for line in str(text).splitlines() if line.strip()]
    follow = " " * len(prefix)
    return [(prefix if i == 0 else follow) + line for i, line in enumerate(lines)]


def _details(exercise: dict[str, Any]) -> list[str]:
    """The lines under a row that did not pass."""
    lines = _indented(exercise.get("message") or "", INDENT)
    failed = [
        c for c in exercise.get("checks") or [] if isinstance(c, dict) and not c.get("passed")
    ]
    for check in failed[:MAX_CHECKS]:
        name, message = check.get("name") or "check", check.get("message") or ""
        lines += _indented(f"{name}: {message}" if message else name, INDENT + "- ")
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
    return "\n".join(rows)


def receipt(result: dict[str, Any]) -> str:
    """What a submission's answer says about its recording, in one or two lines."""
    line = f"Submitted: receipt {result.get('id', '?')}, received {result.get('received_at', '?')}"
    if result.get("late"):
        days = result.get("late_days") or 0
        line += f", LATE by {days} day{'s' if days != 1 else ''}" if days else ", LATE"
    else:
        line += ", on time"
    lines = [line]
    if result.get("counted") is False:
        lines.append("This submission is not counted for a grade (see the course's late rules).")
    return "\n".join(lines)
