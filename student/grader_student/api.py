"""``check()`` and ``submit()``: what a student calls from a notebook cell.

Both read the notebook as last saved (they save nothing: the student saves first), and
both print a table and return the result as a dict. Errors are printed as one line, not
a traceback, unless ``raise_errors=True`` (for code that wants the exception).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader_student import client, local, table
from grader_student.errors import ConfigurationError, GraderClientError
from grader_student.locate import (
    CONFIG_NAMES,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    assignment_name,
    find_notebook,
    find_service,
    read_notebook,
)

PathLike = str | os.PathLike[str] | None
PUBLIC_ONLY = (
    "Only the public tests ran, here on your machine: the hidden checks need the grading "
    f"service (set {URL_VARIABLE} and {TOKEN_VARIABLE}, or put {CONFIG_NAMES[0]} next to "
    "the notebook)."
)
CHECK_ONLY = "Checked by the grading service (hidden checks included); nothing was submitted."


class Result(dict):  # type: ignore[type-arg]
    """The service's answer (or the local run's), as a plain dict.

    In a notebook the table is already printed, so a ``check()`` on a cell's last line
    shows this one summary line as its value instead of the whole dict.
    """

    def summary(self) -> str:
        exercises = self.get("exercises") or {}
        passed = sum(1 for e in exercises.values() if e.get("status") == "passed")
        kind = str(self.get("kind", "check"))
        kind = "public tests" if kind == "local" else kind
        score = self.get("score")
        late = ""
        if self.get("penalty") and self.get("score_after_penalty") is not None:
            score, late = self["score_after_penalty"], " after the late penalty"
        return (
            f"<{kind}: {table.points(score)}/{table.points(self.get('max_score'))} "
            f"points{late}, {passed}/{len(exercises)} exercises passed>"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())


def _guarded(name: str, raise_errors: bool, action: Callable[[], Result]) -> Result | None:
    """``action()``; a GraderClientError printed as one line (None returned), or raised
    when ``raise_errors``."""
    try:
        return action()
    except GraderClientError as error:
        if raise_errors:
            raise
        print(f"{name}(): {error}", flush=True)
        return None


def _header(path: Path, what: str) -> None:
    saved = time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime))
    print(
        f"{what} {path.name} as last saved ({saved}): save the notebook first, "
        "this reads the file and saves nothing.",
        flush=True,
    )


def check(
    path: PathLike = None,
    *,
    assignment: str | None = None,
    timeout: float = local.DEFAULT_TIMEOUT,
    local_only: bool = False,
    raise_errors: bool = False,
) -> Result | None:
    """Check the notebook: with the grading service when one is configured (the hidden
    checks too; recorded as a check, not a submission), else the public tests locally.

    ``path``: the notebook (default: the one this kernel runs); ``assignment``: the
    service's name for it (default: the notebook's metadata or its folder's name);
    ``timeout``: seconds to wait; ``local_only``: run the public tests here even when a
    service is configured; ``raise_errors``: raise GraderClientError instead of printing
    its one line (and returning None).
    """
    return _guarded("check", raise_errors, lambda: _check(path, assignment, timeout, local_only))


def _check(path: PathLike, assignment: str | None, timeout: float, local_only: bool) -> Result:
    notebook_path = find_notebook(path)
    data, notebook = read_notebook(notebook_path)
    name = assignment_name(notebook, notebook_path, assignment)
    service = None if local_only else find_service(notebook_path.parent)
    _header(notebook_path, "Checking")
    if service is not None:
        print(f"Sending it to the grading service at {service.url} ({name})...", flush=True)
        result = Result(client.post_notebook(service, name, "check", data, timeout))
        print(table.table(result))
        print(CHECK_ONLY)
        return result
    print(f"Running the public tests (at most {timeout:g} s)...", flush=True)
    result = Result(local.run_public_tests(notebook, notebook_path.parent, timeout))
    print(table.table(result))
    for note in result.get("notes") or []:
        print(f"Note: {note}")
    print(PUBLIC_ONLY)
    return result


def submit(
    path: PathLike = None,
    *,
    assignment: str | None = None,
    timeout: float = local.DEFAULT_TIMEOUT,
    raise_errors: bool = False,
) -> Result | None:
    """Submit the notebook to the grading service: it is recorded as your submission
    and graded; prints the result and the receipt (its id and time, late or not).

    Arguments as for :func:`check`; submitting always needs the service.
    """
    return _guarded("submit", raise_errors, lambda: _submit(path, assignment, timeout))


def _submit(path: PathLike, assignment: str | None, timeout: float) -> Result:
    notebook_path = find_notebook(path)
    data, notebook = read_notebook(notebook_path)
    name = assignment_name(notebook, notebook_path, assignment)
    service = find_service(notebook_path.parent)
    if service is None:
        raise ConfigurationError(
            f"submitting needs the grading service: set {URL_VARIABLE} and {TOKEN_VARIABLE}, "
            f"or put {CONFIG_NAMES[0]} next to the notebook"
        )
    _header(notebook_path, "Submitting")
    print(f"Sending it to the grading service at {service.url} ({name})...", flush=True)
    result = Result(client.post_notebook(service, name, "submissions", data, timeout))
    print(table.table(result))
    print(table.receipt(result))  # last: what the student keeps
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m grader_student [check|submit] NOTEBOOK``: the same from a terminal."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("check", "submit"):
        print("usage: python -m grader_student check|submit [NOTEBOOK]")
        return 2
    action = check if args[0] == "check" else submit
    return 0 if action(args[1] if len(args) > 1 else None) is not None else 1
