"""Helpers shared by the report formats: number formatting, text cleaning, exercise order."""

from __future__ import annotations

import re

from grader.results import GRADED, BatchResult

# Everything XML 1.0 forbids (C0 controls except tab/newline/CR, lone surrogates, U+FFFE/F).
# Student output can contain any of these; one of them makes a whole XML report unparsable.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fmt_points(value: float) -> str:
    """A score for people: one decimal, none when whole (95.4545 -> '95.5', 10.0 -> '10').
    Files read by programs (grades.csv, junit.xml) keep :func:`fmt_number`'s four."""
    text = f"{value:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def fmt_number(value: float) -> str:
    """At most 4 decimals and no trailing zeros, so 6.666666 -> '6.6667' and 10.0 -> '10'."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def clean_text(text: str | None) -> str:
    """``text`` without characters that XML 1.0 (and UTF-8 encoding) cannot carry."""
    return _ILLEGAL_XML.sub("", text or "")


def exercise_names(batch: BatchResult) -> list[str]:
    """Exercise names in assignment order: the batch's own list (so that a batch with no
    gradable submission still has its columns), then any others the graded submissions hold.

    Every graded submission normally holds every exercise; the union only guards
    against silently dropping a column when one does not.
    """
    graded = [s for s in batch.submissions if s.status == GRADED]
    names: dict[str, None] = dict.fromkeys(batch.exercises)
    for submission in graded:
        for exercise in submission.exercises:
            names.setdefault(exercise.name, None)
    return list(names)
