"""Text for the terminal: student ids and file names come from students.

A name holding an escape sequence (``\\x1b]0;...\\x07`` retitles the window,
``\\x1b[2J`` clears the screen) must not reach the terminal raw, wherever the kit
prints it: the summary, warnings, errors, the ``--fail-under`` line. Every print site
of such text goes through :func:`printable`.
"""

from __future__ import annotations


def printable(text: object, *, lines: bool = False) -> str:
    """``text`` with every control or otherwise unprintable character (escapes, bidi
    overrides, undecodable bytes) shown as ``?``; on one line, runs of whitespace made
    one space, unless ``lines`` (then line breaks are kept: a multi-line error)."""
    if lines:
        return "\n".join(
            "".join(c if c.isprintable() else " " if c == "\t" else "?" for c in line)
            for line in str(text).split("\n")
        )
    return "".join(c if c.isprintable() else "?" for c in " ".join(str(text).split()))
