"""``grader export``'s files: the ``grades.json`` it reads (``--grades``), the roster
(``--roster``) and the LMS gradebook files it writes (``--format canvas|moodle``).

Each error is a one-line :class:`~grader.errors.UsageError` naming the option and file:
these are the user's files, and a wrong one is a wrong argument.
"""

from __future__ import annotations

import csv
from pathlib import Path

import click

from grader.cli.common import output_folder
from grader.errors import UsageError
from grader.results import BatchResult
from grader.terminal import printable


def read_grades(path: Path) -> BatchResult:
    """The batch of a ``grader grade`` output folder or of its ``grades.json``."""
    from grader.reports.json_report import read_grades_json

    file = path / "grades.json" if path.is_dir() else path
    if not file.is_file():
        where = f"{path} has no grades.json" if path.is_dir() else f"{path} does not exist"
        raise UsageError(f"--grades {where} (a grader grade --out folder expected)")
    try:
        return read_grades_json(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"--grades {file}: not UTF-8 text, not a grades.json") from None
    except ValueError as exc:
        raise UsageError(f"--grades {file}: {exc}") from None


def read_roster(path: Path, key: str) -> dict[str, dict[str, str]]:
    """``--roster``: grader id -> the LMS's identity columns (see ``parse_roster``)."""
    from grader.reports.lms import parse_roster

    if not path.is_file():
        problem = "is a folder, not a CSV file" if path.is_dir() else "does not exist"
        raise UsageError(f"--roster {path} {problem}")
    try:
        return parse_roster(path.read_text(encoding="utf-8"), key)
    except UnicodeDecodeError:
        raise UsageError(f"--roster {path}: not UTF-8 text (save it as CSV UTF-8)") from None
    except (ValueError, csv.Error) as exc:
        raise UsageError(f"--roster {path}: {exc}") from None


def lms_targets(out: Path, names: list[str], format_: str) -> dict[str, Path]:
    """Each assignment's CSV file: ``out`` itself when it names a .csv file (one
    assignment), else ``out/<assignment>-<format>.csv``; checked before any is written."""
    from grader.reports import safe_file_stem

    if out.suffix.lower() == ".csv" and not out.is_dir():
        if len(names) > 1:
            raise UsageError(
                f"--out {out}: one file for {len(names)} assignments ({', '.join(names)}): "
                "give a folder, or --assignment"
            )
        output_folder(out.parent, "--out")
        return {names[0]: out}
    folder = output_folder(out, "--out")
    return {name: folder / f"{safe_file_stem(name)}-{format_}.csv" for name in names}


def write_lms(
    batch: BatchResult,
    path: Path,
    format_: str,
    column: str,
    canvas_id: str | None,
    roster: dict[str, dict[str, str]] | None,
    quiet: bool,
) -> None:
    """Write ``batch`` as ``format_``'s gradebook file at ``path`` (atomically: an
    interrupted export never leaves half a gradebook to import), and say so."""
    from grader import atomic
    from grader.reports.lms import canvas_column, canvas_csv, moodle_column, moodle_csv, unlisted

    if format_ == "canvas":
        header = canvas_column(column, canvas_id)
        text = canvas_csv(batch, header, roster)
    else:
        header = moodle_column(column)
        text = moodle_csv(batch, header, roster)
    atomic.write_bytes(path, text.encode("utf-8", "replace"))
    absent = [] if roster is None else unlisted(batch, roster)
    if absent:
        shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
        click.echo(
            printable(
                f"warning: {len(absent)} of {len(batch.submissions)} students not on the "
                f"roster ({shown}): identified by their grader id"
            ),
            err=True,
        )
    if not quiet:
        count = f"{len(batch.submissions)} student" + ("" if len(batch.submissions) == 1 else "s")
        click.echo(printable(f"{format_} gradebook: {path} ({count}, column {header!r})"))
