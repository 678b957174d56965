"""``grader nbgrader``: the kit inside an nbgrader course (see
:mod:`grader.integrations.nbgrader_course`; grades go to its gradebook with
``grader grade --gradebook``)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def nbgrader() -> None:
    """Run the kit's assignments as an nbgrader course."""


def _default_source() -> Path:
    """source_notebooks/ of the working folder, else of this checkout."""
    from grader.grading.locations import checkout_root

    here = Path("source_notebooks")
    return here if here.is_dir() else checkout_root() / "source_notebooks"


@nbgrader.command()
@click.argument("course", type=click.Path(path_type=Path))
@click.option(
    "--assignment",
    "assignments",
    multiple=True,
    help="An assignment to put in the course (repeatable; default: every one in --source).",
)
@click.option(
    "--source",
    "source_root",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of instructor source folders (default: source_notebooks/ of the working "
    "folder, else of this checkout).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Update a course this command wrote before (its nbgrader_config.py and source/).",
)
def init(course: Path, assignments: tuple[str, ...], source_root: Path | None, force: bool) -> None:
    """Write an nbgrader course: nbgrader_config.py and source/<assignment>/.

    \b
    Then, in COURSE:
      nbgrader generate_assignment <assignment>   the student folder, in release/
      nbgrader autograde <assignment>             or: grader grade submitted/*/<assignment>
                                                  --out DIR --gradebook gradebook.db
    """
    from grader.integrations.nbgrader_course import write_course

    source_root = source_root if source_root is not None else _default_source()
    written = write_course(course, source_root, list(assignments) or None, force=force)
    click.echo(f"nbgrader course in {course}/: {', '.join(written)}")
    click.echo(f"next: cd {course} && nbgrader generate_assignment {written[0]}")
