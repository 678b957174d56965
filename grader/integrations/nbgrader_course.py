"""The kit's source notebooks as an nbgrader course: ``nbgrader_config.py`` and
``source/<assignment>/``, so that nbgrader's own ``generate_assignment`` makes the same
student notebook as ``grader release`` and its ``autograde`` finds every file.

The config gives nbgrader our solution markers and stub (the release is made with
nbgrader's ``ClearSolutions`` too, see :func:`grader.authoring.generate.student_notebook`);
each ``source/<assignment>/`` is the source folder plus the files the kit generates for
the release (the public tests' expected values), which the student folder needs and
nbgrader copies from ``source/``. :func:`course_files` is pure; :func:`write_course`
is the only side effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import atomic
from grader.assignments import get_kit
from grader.authoring.assignment import BEGIN_SOLUTION, END_SOLUTION, load_assignment
from grader.authoring.generate import STUB, source_folders
from grader.errors import SourceNotebookError, UsageError

CONFIG_NAME = "nbgrader_config.py"
SOURCE_FOLDER = "source"
# the config's first line: how `grader nbgrader init` knows a course it wrote
MARKER = "# nbgrader course written by `grader nbgrader init`"


def course_config() -> str:
    """The text of ``nbgrader_config.py``: nbgrader's stubs made identical to ours."""
    stub = {"python": STUB}
    return (
        f"{MARKER} (--force rewrites this file)\n"
        "import os\n"
        "\n"
        "c = get_config()  # noqa: F821 (given by nbgrader when it reads this file)\n"
        "\n"
        "# this folder, wherever it is moved; nbgrader's default is the working folder\n"
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))\n"
        "# the kit's solution markers and stub, so that `nbgrader generate_assignment`\n"
        "# makes the same student notebook as `grader release`\n"
        f"c.ClearSolutions.begin_solution_delimeter = {BEGIN_SOLUTION!r}\n"
        f"c.ClearSolutions.end_solution_delimeter = {END_SOLUTION!r}\n"
        f"c.ClearSolutions.code_stub = {stub!r}\n"
        "\n"
        "# `nbgrader autograde` runs every cell, a notebook's model training too, and stops\n"
        "# a cell after 30 s (the grade cells are scored all the same); some training cells\n"
        "# take longer (over 30 s each here): to run them to the end, raise the limit, e.g.\n"
        "# c.Execute.timeout = 300\n"
    )


@dataclass(frozen=True)
class CourseSource:
    """One assignment's ``source/<assignment>/`` folder, as relative path -> bytes."""

    assignment: str
    files: dict[str, bytes]


def assignment_source(source_dir: Path) -> CourseSource:
    """A source folder as nbgrader's source: its notebook and helper files, plus the
    files the kit generates for the release (e.g. ``public_tests_data.h5``)."""
    assignment, _ = load_assignment(source_dir)
    if assignment.source_dir.name != assignment.name:  # nbgrader's id is the folder's name
        raise SourceNotebookError(
            assignment.source_dir / assignment.notebook_name,
            f"the folder is named {assignment.source_dir.name!r} but the notebook's "
            f"grader.assignment is {assignment.name!r}: name the folder after the assignment",
        )
    names = (assignment.notebook_name, *assignment.helper_files)
    files = {name: (assignment.source_dir / name).read_bytes() for name in names}
    files.update(get_kit(assignment.name).generated_files(assignment.source_dir))
    return CourseSource(assignment.name, dict(sorted(files.items())))


def course_files(source_root: Path, names: list[str] | None = None) -> list[CourseSource]:
    """Every assignment of ``source_root`` (or those in ``names``), ready to write."""
    return [assignment_source(folder) for folder in source_folders(source_root, names)]


def is_our_course(course: Path) -> bool:
    """Whether ``course`` holds an ``nbgrader_config.py`` this module wrote."""
    config = Path(course) / CONFIG_NAME
    try:
        with open(config, encoding="utf-8") as file:
            return file.readline().startswith(MARKER)
    except (OSError, UnicodeDecodeError):
        return False


def check_target(course: Path, force: bool) -> None:
    """Refuse a file, a folder of something else, or (without ``force``) one of ours."""
    course = Path(course)
    if course.exists() and not course.is_dir():
        raise UsageError(f"{course} is not a folder")
    if not course.exists() or not any(course.iterdir()):
        return
    if not is_our_course(course):
        raise UsageError(
            f"{course} is not empty and is not a course written by `grader nbgrader init` "
            f"(no {CONFIG_NAME} of ours): choose a new or empty folder"
        )
    if not force:
        raise UsageError(
            f"{course} already holds an nbgrader course: pass --force to update its "
            f"{CONFIG_NAME} and {SOURCE_FOLDER}/ (release/, submitted/, the gradebook are kept)"
        )


def write_course(
    course: Path, source_root: Path, names: list[str] | None = None, force: bool = False
) -> list[str]:
    """Write (or, with ``force``, update) the course; the assignments written.

    Only ``nbgrader_config.py`` and ``source/<assignment>/`` of the assignments written
    are touched: what nbgrader made (``release/``, ``submitted/``, ``gradebook.db``)
    stays. Everything is read and checked before anything is written."""
    course = Path(course)
    check_target(course, force)
    sources = course_files(source_root, names)
    course.mkdir(parents=True, exist_ok=True)
    for source in sources:
        atomic.replace_tree(course / SOURCE_FOLDER / source.assignment, source.files)
    atomic.write_bytes(course / CONFIG_NAME, course_config().encode("utf-8"))
    return [source.assignment for source in sources]
