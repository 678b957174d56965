"""``grader export``: grades as reports or as an LMS's gradebook import file.

The source is the grading service's store (``--db``: the gradebook is its newest counted
submission per student, :mod:`grader.service.gradebook`, late penalties applied) or a
``grader grade`` output folder (``--grades``: its ``grades.json``). ``--format reports``
writes the reports ``grader grade`` writes, so a course reads the service's grades
exactly as a batch run's; ``canvas`` and ``moodle`` write the file each LMS imports
(:mod:`grader.reports.lms`), the total in one assignment column.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.cli import export_files
from grader.cli.common import output_folder
from grader.errors import GraderError, NotGradedError, UsageError
from grader.results import NOT_GRADED, BatchResult
from grader.terminal import printable

if TYPE_CHECKING:
    from grader.authoring.assignment import Assignment

FORMATS = ("reports", "canvas", "moodle")


@click.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Source: the grading service's database (grader serve --db).",
)
@click.option(
    "--grades",
    "grades_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Source: a grader grade output folder, or its grades.json (give --db or --grades).",
)
@click.option(
    "--format",
    "format_",
    default="reports",
    show_default=True,
    help="reports: grades.csv, grades.json, junit.xml, feedback/ (as grader grade); "
    "canvas: Canvas's gradebook import CSV; moodle: Moodle's grade import CSV.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="reports: the folder (OUT/<assignment>/ each when the store holds several). "
    "canvas, moodle: the CSV file when it ends in .csv, else a folder that gets "
    "<assignment>-canvas.csv or <assignment>-moodle.csv.",
)
@click.option(
    "--assignment",
    default=None,
    help="Export only this assignment (default: every assignment in the store).",
)
@click.option(
    "--release-root",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of the released assignments, for their titles and exercise order; "
    "default: found as grader grade finds a release (without one, the store's results "
    "give the exercises and the assignment's name is its title).",
)
@click.option(
    "--roster",
    "roster_path",
    type=click.Path(path_type=Path),
    default=None,
    help="canvas, moodle: a CSV mapping each student's grader id (column --roster-key) "
    "to the LMS's identity columns, named as the LMS names them (Canvas: Student, ID, "
    "SIS User ID, SIS Login ID, Section; Moodle: First name, Last name, ID number, "
    "Institution, Department, Email address). Without one, or for a student it lacks, "
    "the grader id is Canvas's Student and SIS Login ID, Moodle's ID number.",
)
@click.option(
    "--roster-key",
    default="student",
    show_default=True,
    help="The roster's column holding the grader's student ids (e.g. 'SIS Login ID' "
    "to use a gradebook exported by the LMS as the roster).",
)
@click.option(
    "--column-name",
    default=None,
    help="canvas, moodle: the assignment column's name (default: the assignment's "
    "title; Moodle's column gets ' (Real)' after it, as its export writes).",
)
@click.option(
    "--canvas-id",
    default=None,
    help="canvas: the Canvas assignment's id (in its URL): the column is 'NAME (ID)', "
    "which updates that assignment; without it Canvas matches the title or creates one.",
)
@click.option(
    "--reveal-expected",
    is_flag=True,
    help="reports: show students the expected values of failed hidden checks.",
)
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
def export(
    db_path: Path | None,
    grades_path: Path | None,
    format_: str,
    out_dir: Path,
    assignment: str | None,
    release_root: Path | None,
    roster_path: Path | None,
    roster_key: str,
    column_name: str | None,
    canvas_id: str | None,
    reveal_expected: bool,
    quiet: bool,
) -> None:
    """Write the grades of the service's store or of a grading run as reports or as an
    LMS gradebook import file (one row per student, the total in one column).

    \b
    Totals are those of grades.json: after late penalties; 0 for an unreadable or
    missing notebook; a blank cell (no score) where the grader failed.
    Exit codes: 0 written; 1 the database cannot be read or holds nothing; 2 usage
    error (no such source, unknown format or assignment, bad roster); 3 written, but
    some submissions are not graded (yet).
    """
    _check_options(
        db_path,
        grades_path,
        format_,
        roster_path,
        roster_key,
        column_name,
        canvas_id,
        reveal_expected,
    )
    roster = None if roster_path is None else export_files.read_roster(roster_path, roster_key)
    pending: list[str] = []
    with _batches(db_path, grades_path, assignment) as (names, load):
        if format_ == "reports":
            targets = {name: out_dir / name if len(names) > 1 else out_dir for name in names}
            for folder in targets.values():
                output_folder(folder, "--out")  # all of them before writing any
        else:
            targets = export_files.lms_targets(out_dir, names, format_)
        for name, target in targets.items():
            released = _released(name, release_root)
            if released is None and release_root is not None:
                click.echo(
                    printable(f"warning: no release of {name} in {release_root}: titled {name}"),
                    err=True,
                )
            batch = load(name, released)
            title = batch.assignment if released is None else released.title
            if len(names) > 1 and not quiet:
                click.echo(f"{name}:")
            if format_ == "reports":
                _write_reports(batch, target, title, reveal_expected, quiet)
            else:
                column = column_name if column_name is not None else title
                export_files.write_lms(batch, target, format_, column, canvas_id, roster, quiet)
            pending += [
                f"{name}/{s.student}" if len(names) > 1 or db_path else s.student
                for s in batch.submissions
                if s.status == NOT_GRADED
            ]
    if pending:
        count = f"{len(pending)} {'newest ' if db_path else ''}submission" + (
            "" if len(pending) == 1 else "s"
        )
        shown = ", ".join(pending[:5]) + (
            f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        )
        later = (
            "the grading service grades them when it runs, then export again"
            if db_path
            else "grade them again, then export again"
        )
        raise NotGradedError(f"{count} not graded ({shown}): written without their scores; {later}")


def _check_options(
    db_path: Path | None,
    grades_path: Path | None,
    format_: str,
    roster_path: Path | None,
    roster_key: str,
    column_name: str | None,
    canvas_id: str | None,
    reveal_expected: bool,
) -> None:
    """Every usage error the options alone show, before anything is read."""
    if format_ not in FORMATS:
        raise UsageError(f"--format {format_}: not a format (choose {', '.join(FORMATS)})")
    if (db_path is None) == (grades_path is None):
        raise UsageError(
            "give one source: --db (the grading service's database) or --grades "
            "(a grader grade output folder or its grades.json)"
            + (", not both" if db_path is not None else "")
        )
    if format_ == "reports":
        given = {
            "--roster": roster_path is not None,
            "--roster-key": roster_key != "student",
            "--column-name": column_name is not None,
            "--canvas-id": canvas_id is not None,
        }
        wrong = [flag for flag, value in given.items() if value]
        if wrong:
            raise UsageError(f"{', '.join(wrong)}: for --format canvas or moodle only")
    else:
        if reveal_expected:
            raise UsageError("--reveal-expected: for --format reports only (students' feedback)")
        if canvas_id is not None and format_ != "canvas":
            raise UsageError("--canvas-id: for --format canvas only")
        if canvas_id is not None and not canvas_id.isdigit():
            raise UsageError(f"--canvas-id {canvas_id}: not a Canvas id (digits, as in its URL)")
        if column_name is not None and not column_name.strip():
            raise UsageError("--column-name: empty")


BatchLoader = Callable[[str, "Assignment | None"], BatchResult]


@contextlib.contextmanager
def _batches(
    db_path: Path | None, grades_path: Path | None, assignment: str | None
) -> Iterator[tuple[list[str], BatchLoader]]:
    """The assignments to export, and how to load one's batch (the store stays open
    meanwhile, one batch in memory at a time)."""
    if grades_path is not None:
        batch = export_files.read_grades(grades_path)
        if assignment is not None and assignment != batch.assignment:
            raise UsageError(
                f"--assignment {assignment}: {grades_path} holds {batch.assignment}'s grades"
            )
        yield [batch.assignment], lambda name, released: batch
        return
    from grader.service.gradebook import batch_from_store
    from grader.service.store import Store

    assert db_path is not None
    if not db_path.is_file():
        problem = "is a folder, not a database" if db_path.is_dir() else "does not exist"
        raise UsageError(f"--db {db_path} {problem}")
    with Store(db_path) as store:
        names = store.assignments()
        if not names:
            raise GraderError(f"{db_path} holds no submissions: nothing to export")
        if assignment is not None:
            if assignment not in names:
                raise UsageError(
                    f"--assignment {assignment}: {db_path} holds no submissions of it "
                    f"(it holds {', '.join(names)})"
                )
            names = [assignment]

        def load(name: str, released: Assignment | None) -> BatchResult:
            return batch_from_store(
                store,
                name,
                exercises=None if released is None else [e.name for e in released.exercises],
                max_score=None if released is None else released.max_score,
            )

        yield names, load


def _write_reports(
    batch: BatchResult, folder: Path, title: str, reveal_expected: bool, quiet: bool
) -> None:
    from grader.reports import CLASS_REPORT, summary_text, write_reports

    written = write_reports(batch, folder, title, reveal_expected=reveal_expected)
    if not quiet:
        click.echo(summary_text(batch))
        index = folder / CLASS_REPORT
        shown = f" (class report: {index})" if index in written else ""
        click.echo(printable(f"reports in {folder}/{shown}"))


def _released(name: str, release_root: Path | None) -> Assignment | None:
    """The released assignment ``name`` (title, exercises, points); None when there is
    none to read, which only costs the reports their title."""
    from grader.authoring.assignment import load_release
    from grader.grading.locations import find_folder

    try:
        folder = (
            release_root / name
            if release_root is not None
            else find_folder(name, "release", "--release-root")
        )
        return load_release(folder)[0] if folder.is_dir() else None
    except GraderError:
        return None
