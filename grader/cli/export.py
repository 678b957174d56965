"""``grader export``: the grading service's store as the reports ``grader grade`` writes.

The service keeps every submission; the gradebook is its newest counted one per student
(:mod:`grader.service.gradebook`), written by the same report writers, so a course
reads the service's grades exactly as it reads a batch run's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.cli.common import output_folder
from grader.errors import GraderError, NotGradedError, UsageError
from grader.results import NOT_GRADED
from grader.terminal import printable

if TYPE_CHECKING:
    from grader.authoring.assignment import Assignment


@click.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The grading service's database (grader serve --db).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for grades.csv, grades.json, junit.xml and feedback/ "
    "(OUT/<assignment>/ each when the store holds several).",
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
    "--reveal-expected",
    is_flag=True,
    help="Show students the expected values of failed hidden checks in their feedback.",
)
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
def export(
    db_path: Path,
    out_dir: Path,
    assignment: str | None,
    release_root: Path | None,
    reveal_expected: bool,
    quiet: bool,
) -> None:
    """Write the reports of the grading service's submissions, newest counted per student.

    \b
    Exit codes: 0 written; 1 the database cannot be read or holds nothing; 2 usage
    error (no such database, unknown assignment); 3 written, but some newest
    submissions are not graded yet (the service grades them when it runs).
    """
    from grader.reports import CLASS_REPORT, summary_text, write_reports
    from grader.service.gradebook import batch_from_store
    from grader.service.store import Store

    if not db_path.is_file():
        problem = "is a folder, not a database" if db_path.is_dir() else "does not exist"
        raise UsageError(f"--db {db_path} {problem}")
    pending: list[str] = []
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
        several = len(names) > 1
        folders = {name: out_dir / name if several else out_dir for name in names}
        for folder in folders.values():
            output_folder(folder, "--out")  # all of them before writing any
        for name, folder in folders.items():
            released = _released(name, release_root)
            if released is None and release_root is not None:
                click.echo(
                    printable(f"warning: no release of {name} in {release_root}: titled {name}"),
                    err=True,
                )
            batch = batch_from_store(
                store,
                name,
                exercises=None if released is None else [e.name for e in released.exercises],
                max_score=None if released is None else released.max_score,
            )
            title = name if released is None else released.title
            written = write_reports(batch, folder, title, reveal_expected=reveal_expected)
            if not quiet:
                if several:
                    click.echo(f"{name}:")
                click.echo(summary_text(batch))
                index = folder / CLASS_REPORT
                shown = f" (class report: {index})" if index in written else ""
                click.echo(printable(f"reports in {folder}/{shown}"))
            pending += [f"{name}/{s.student}" for s in batch.submissions if s.status == NOT_GRADED]
    if pending:
        count = f"{len(pending)} newest submission" + ("" if len(pending) == 1 else "s")
        shown = ", ".join(pending[:5]) + (
            f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        )
        raise NotGradedError(
            f"{count} not graded ({shown}): reports written without their scores; "
            "the grading service grades them when it runs, then export again"
        )


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
