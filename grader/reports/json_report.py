"""``grades.json``: the full machine-readable record, plus a JSON Schema documenting its shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from grader.results import (
    EXERCISE_STATUSES,
    SUBMISSION_STATUSES,
    BatchResult,
    batch_from_dict,
    batch_header_to_dict,
    submission_to_dict,
)

INDENT = 2


def iter_grades_json(batch: BatchResult) -> Iterator[str]:
    """``grades_json(batch)`` in chunks, one submission each, so that writing ``grades.json``
    never holds more than one submission's dict and text (10 000 at once: hundreds of MiB).

    The document's frame is written by hand, each submission by ``json.dumps`` and
    re-indented one level deeper (safe: ``json.dumps`` escapes every newline inside a
    string, so each newline it emits is its own indentation).
    """
    header = json.dumps(batch_header_to_dict(batch), indent=INDENT)
    assert header.endswith("\n}")
    yield header[:-2] + ",\n" + " " * INDENT + '"submissions": '
    if not batch.submissions:
        yield "[]\n}\n"
        return
    inner = "\n" + " " * (2 * INDENT)
    separator = "[" + inner
    for submission in batch.submissions:
        text = json.dumps(submission_to_dict(submission), indent=INDENT)
        yield separator + text.replace("\n", inner)
        separator = "," + inner
    yield "\n" + " " * INDENT + "]\n}\n"


def grades_json(batch: BatchResult) -> str:
    """``batch_to_dict`` as indented JSON; :func:`read_grades_json` reads it back unchanged."""
    return "".join(iter_grades_json(batch))


def read_grades_json(text: str) -> BatchResult:
    """The batch a ``grades.json`` holds (what :func:`grades_json` wrote), for commands that
    start from a grading run's output folder rather than grade again.

    The file may come from anywhere (edited, truncated, another program's): what is
    wrong is a ``ValueError`` of one line, never a ``KeyError`` from deep inside, and
    every total is checked to be a number, since gradebooks are made of them.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError("not a grades.json: not a JSON object")
    absent = [key for key in GRADES_SCHEMA["required"] if key not in data]
    if absent:
        raise ValueError(f"not a grades.json: no {', '.join(map(repr, absent))}")
    if isinstance(data["max_score"], bool) or not isinstance(data["max_score"], int | float):
        raise ValueError("not a grades.json: 'max_score' is not a number")
    submissions = data["submissions"]
    if not isinstance(submissions, list) or not all(isinstance(s, dict) for s in submissions):
        raise ValueError("not a grades.json: 'submissions' is not a list of objects")
    for index, item in enumerate(submissions):
        problem = _submission_problem(item)
        if problem:
            raise ValueError(f"not a grades.json: submission {index + 1} {problem}")
    try:
        return batch_from_dict(data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a grades.json: {type(exc).__name__} {exc}") from None


def _submission_problem(item: dict[str, Any]) -> str:
    """What makes one submission's dict unusable for a gradebook ('' when nothing)."""
    if not isinstance(item.get("student"), str):
        return "has no student id"
    for key in ("score", "max_score"):
        value = item.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"({item['student']!r}) has no number {key!r}"
    if item.get("status") not in SUBMISSION_STATUSES:
        return f"({item['student']!r}) has an unknown status {item.get('status')!r}"
    # lateness is absent from files older than it: on time
    late_days, penalty = item.get("late_days", 0), item.get("penalty", 0.0)
    if isinstance(late_days, bool) or not isinstance(late_days, int) or late_days < 0:
        return f"({item['student']!r}) has a 'late_days' that is no count of days"
    if isinstance(penalty, bool) or not isinstance(penalty, int | float) or not 0 <= penalty <= 1:
        return f"({item['student']!r}) has a 'penalty' that is no fraction between 0 and 1"
    return ""


_NUMBER = {"type": "number"}
_STRING = {"type": "string"}

_CHECK = {
    "type": "object",
    "description": (
        "One hidden check of an exercise: a case, or a property such as 'arguments unchanged'."
    ),
    "required": ["name", "passed", "message", "student_message"],
    "additionalProperties": False,
    "properties": {
        "name": _STRING,
        "passed": {"type": "boolean"},
        "message": _STRING,
        "student_message": {
            "type": ["string", "null"],
            "description": "What students see of a failed hidden check (no expected "
            "values); null when the message hides nothing.",
        },
    },
}

_EXERCISE = {
    "type": "object",
    "required": ["score", "max_score", "status", "error", "checks"],
    "additionalProperties": False,
    "properties": {
        "score": _NUMBER,
        "max_score": _NUMBER,
        "status": {"enum": list(EXERCISE_STATUSES)},
        "error": {
            **_STRING,
            "description": "For error/timeout: what happened, with the traceback tail.",
        },
        "checks": {"type": "array", "items": _CHECK},
    },
}

_SUBMISSION = {
    "type": "object",
    "required": [
        "student",
        "submission",
        "score",
        "max_score",
        "status",
        "error",
        "exercises",
        "content_hash",
        "cell_errors",
        "tampered",
        "tampered_cells",
        "substitutions",
        "skipped_cells",
        "late_days",
        "penalty",
    ],
    "additionalProperties": False,
    "properties": {
        "student": _STRING,
        "submission": _STRING,
        "score": _NUMBER,
        "max_score": _NUMBER,
        "status": {
            "enum": list(SUBMISSION_STATUSES),
            "description": "unreadable: not a gradable notebook; missing: an "
            "nbgrader submission folder with no notebook (both score "
            "0); not_graded: a fault of the grader or its machine (no "
            "score; a rerun grades it again).",
        },
        "error": {"type": ["string", "null"], "description": "Why a submission was not graded."},
        "exercises": {
            "type": "object",
            "description": "Keyed by exercise name, in assignment order.",
            "additionalProperties": _EXERCISE,
        },
        "content_hash": _STRING,
        "cell_errors": {
            "type": "array",
            "items": _STRING,
            "description": "One line per notebook cell that raised.",
        },
        "tampered": {
            "type": ["boolean", "null"],
            "description": "Locked cells differ from the release (null: not checkable).",
        },
        "tampered_cells": {
            "type": "array",
            "items": _STRING,
            "description": "grade_ids of locked cells changed or deleted.",
        },
        "substitutions": {
            "type": "array",
            "items": _STRING,
            "description": "Helper modules imported under another name, and "
            "the release's module used instead.",
        },
        "skipped_cells": {
            "type": "array",
            "items": _STRING,
            "description": "The notebook's demonstration cells not run while "
            "grading (e.g. long training runs), and why.",
        },
        "late_days": {
            "type": "number",
            "multipleOf": 1,  # a whole number, as "integer" would say
            "minimum": 0,
            "description": "Days after the deadline (grading service; 0: on time).",
        },
        "penalty": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "The fraction taken off the total for lateness: 'score' is "
            "after it, the exercises keep the points they earned.",
        },
    },
}

GRADES_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "grades.json",
    "description": "Results of grading one batch of submissions of one assignment.",
    "type": "object",
    "required": ["assignment", "max_score", "exercises", "environment", "submissions"],
    "additionalProperties": False,
    "properties": {
        "assignment": _STRING,
        "max_score": _NUMBER,
        "exercises": {
            "type": "array",
            "items": _STRING,
            "description": "The assignment's exercises, in order.",
        },
        "environment": {
            "type": "object",
            "description": (
                "What graded the batch, so that a regrade can be compared like for like."
            ),
            "required": [
                "grader_version",
                "python",
                "numpy",
                "blas",
                "limits",
                "isolation",
                "sandbox",
            ],
            "additionalProperties": False,
            "properties": {
                "grader_version": _STRING,
                "python": _STRING,
                "numpy": _STRING,
                "blas": _STRING,
                "limits": {"type": "object"},
                "isolation": {
                    "type": "boolean",
                    "description": "Dependencies answered by the reference.",
                },
                "sandbox": {**_STRING, "description": "How student code was confined."},
            },
        },
        "submissions": {"type": "array", "items": _SUBMISSION},
    },
}
