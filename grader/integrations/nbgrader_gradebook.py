"""A :class:`~grader.results.BatchResult` written into an nbgrader gradebook through
nbgrader's own API (:class:`nbgrader.api.Gradebook`), so that formgrader and
``nbgrader export`` show the kit's scores.

Each exercise's score becomes the ``auto_score`` of its grade cell: the test cell the
release names for it (:func:`grader.authoring.assignment.load_release`, from the
notebook's nbgrader metadata). That is what ``nbgrader autograde`` writes, so an
instructor's ``manual_score`` still wins and is never touched; as nbgrader does, a grade
with a manual score is flagged for review again. Students and assignments are
nbgrader's: ``submitted/<student>/<assignment>/``. A gradebook that lacks the
assignment, its notebook or its grade cells gets them from the release notebook by
nbgrader's ``SaveCells`` (what ``generate_assignment`` runs), so a course where nothing
was run yet works too. Each submission is written in a transaction of its own: one
that cannot be written is reported and the others are kept.
"""

from __future__ import annotations

import copy
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader.authoring.assignment import load_release
from grader.errors import GraderError, UsageError
from grader.grading.submissions import is_submission_folder
from grader.results import MISSING, NOT_GRADED, BatchResult, SubmissionResult

if TYPE_CHECKING:
    from nbformat import NotebookNode

SQLITE_HEADER = b"SQLite format 3\x00"
# tables every nbgrader gradebook has: an SQLite file without them is someone else's
NBGRADER_TABLES = frozenset({"assignment", "grade_cells", "submitted_assignment", "grade"})
# CourseDirectory.course_id's default: the course nbgrader's commands file assignments in
COURSE_ID = ""


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` did: students written, notes for the user, failures."""

    written: tuple[str, ...]
    notes: tuple[str, ...] = ()  # e.g. a submission recorded as 0, and why
    failed: tuple[str, ...] = ()  # "student: why", not written


def gradebook_url(path: Path) -> str:
    """The SQLAlchemy URL of an nbgrader gradebook file; a new one may be made (as
    nbgrader does), but never inside a file that is something else."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"gradebook {path} is a folder: name the course's gradebook.db")
    if not path.exists():
        if not path.parent.is_dir():
            raise UsageError(f"gradebook {path}: folder {path.parent} does not exist")
        return f"sqlite:///{path.resolve()}"
    with open(path, "rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise UsageError(f"{path} is not an nbgrader gradebook (not an SQLite database)")
    if header:
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                rows = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
                tables = {row[0] for row in rows}
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{path} is not an nbgrader gradebook ({exc})") from None
        if tables and not NBGRADER_TABLES <= tables:
            raise UsageError(f"{path} is an SQLite database without nbgrader's tables")
    return f"sqlite:///{path.resolve()}"


def nbgrader_place(result: SubmissionResult) -> tuple[str, str] | None:
    """(student, assignment) of a submission in ``submitted/<student>/<assignment>/``;
    None for one elsewhere."""
    path = Path(result.submission)
    folder = path if result.status == MISSING else path.parent
    if is_submission_folder(folder):
        return folder.parent.name, folder.name
    return None


def _timestamp(result: SubmissionResult) -> tuple[dict, str]:
    """nbgrader's ``timestamp.txt`` of the submission folder, as the submission's
    keyword arguments (``nbgrader collect`` writes it; late penalties read it)."""
    from nbgrader.utils import parse_utc

    path = Path(result.submission)
    folder = path if result.status == MISSING else path.parent
    stamp = folder / "timestamp.txt"
    if not stamp.is_file():
        return {}, ""
    try:
        text = stamp.read_text(encoding="utf-8").strip()
        return ({"timestamp": parse_utc(text)} if text else {}), ""
    except (OSError, UnicodeDecodeError, ValueError, OverflowError):
        return {}, f"{stamp} is not a time: recorded without a submission time"


def _ensure_cells(
    url: str,
    assignment_id: str,
    notebook_id: str,
    notebook: NotebookNode,
    points: dict[str, float],
    course_id: str,
) -> list[str]:
    """The assignment, its notebook and the grade cells ``points`` names (grade_id ->
    points), made when missing; notes on grade cells worth other points there."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import SaveCells

    with Gradebook(url, course_id) as gradebook:
        gradebook.update_or_create_assignment(assignment_id)
        try:
            known = gradebook.find_notebook(notebook_id, assignment_id).grade_cells
            present = {cell.name: cell.max_score for cell in known}
        except MissingEntry:
            present = {}
    if set(points) <= set(present):
        return [
            f"{assignment_id}: grade cell {name} is worth {present[name]:g} points in the "
            f"gradebook, {points[name]:g} in the release (scores are the release's)"
            for name in points
            if present[name] != points[name]
        ]
    resources = {"nbgrader": {"notebook": notebook_id, "assignment": assignment_id, "db_url": url}}
    try:
        SaveCells().preprocess(copy.deepcopy(notebook), resources)
    except RuntimeError as exc:  # cells changed under existing submissions
        missing = ", ".join(sorted(set(points) - set(present)))
        raise GraderError(
            f"the gradebook's notebook {notebook_id} of {assignment_id} lacks the "
            f"release's grade cells {missing} and cannot get them: {exc}"
        ) from None
    return []


def _write_one(
    gradebook,
    result: SubmissionResult,
    place: tuple[str, str],
    notebook_id: str,
    cells: Sequence[tuple[str, str]],
    when: dict,
) -> None:
    """One submission's grades, as ``SaveAutoGrades`` writes them, in one transaction."""
    student, assignment_id = place
    gradebook.update_or_create_student(student)
    gradebook.update_or_create_submission(assignment_id, student, **when)
    scores = {exercise.name: exercise.score for exercise in result.exercises}
    for exercise, grade_id in cells:
        grade = gradebook.find_grade(grade_id, notebook_id, assignment_id, student)
        grade.auto_score = float(scores.get(exercise, 0.0))
        grade.needs_manual_grade = grade.manual_score is not None
    gradebook.db.commit()


def record(
    batch: BatchResult, gradebook_path: Path, release_dir: Path, *, course_id: str = COURSE_ID
) -> Recorded:
    """Write ``batch`` (graded against ``release_dir``) into the gradebook.

    Unreadable and missing submissions are recorded as 0 (with a note); those not graded
    because of a fault of the grader are left out (a rerun grades them)."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    url = gradebook_url(gradebook_path)
    places = {id(result): nbgrader_place(result) for result in batch.submissions}
    if batch.submissions and not any(places.values()):
        raise UsageError(
            "the gradebook takes submissions of an nbgrader course "
            "(COURSE/submitted/<student>/<assignment>/); "
            f"{batch.submissions[0].submission} is not in one"
        )
    assignment, notebook = load_release(release_dir)
    notebook_id = Path(assignment.notebook_name).stem
    cells = [(exercise.name, exercise.test_cell) for exercise in assignment.exercises]
    points = {exercise.test_cell: exercise.points for exercise in assignment.exercises}
    notes: list[str] = []
    with warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings (its own
        # autograde prints them too); they say nothing about this run
        warnings.simplefilter("ignore", SAWarning)
        for assignment_id in sorted({place[1] for place in places.values() if place}):
            notes += _ensure_cells(url, assignment_id, notebook_id, notebook, points, course_id)
        with Gradebook(url, course_id) as gradebook:
            done = _write_all(gradebook, batch, places, notebook_id, cells)
    return replace(done, notes=(*notes, *done.notes))


def _write_all(
    gradebook,
    batch: BatchResult,
    places: dict[int, tuple[str, str] | None],
    notebook_id: str,
    cells: Sequence[tuple[str, str]],
) -> Recorded:
    """Every submission of ``batch``, each in its own transaction."""
    from nbgrader.api import InvalidEntry, MissingEntry
    from sqlalchemy.exc import SQLAlchemyError

    written, notes, failed = [], [], []
    for result in batch.submissions:
        place = places[id(result)]
        if place is None:
            failed.append(f"{result.student}: not in submitted/<student>/<assignment>/")
            continue
        if result.status == NOT_GRADED:
            notes.append(f"{result.student}: not graded, so not in the gradebook (rerun)")
            continue
        when, note = _timestamp(result)
        notes += [note] if note else []
        try:
            _write_one(gradebook, result, place, notebook_id, cells, when)
        except (SQLAlchemyError, InvalidEntry, MissingEntry, ValueError) as exc:
            gradebook.db.rollback()
            failed.append(f"{result.student}: {type(exc).__name__}: {exc}".split("\n")[0])
            continue
        written.append(place[0])
        if not result.exercises:
            notes.append(f"{result.student}: {result.status}, recorded as 0")
    return Recorded(tuple(written), tuple(notes), tuple(failed))


def record_all(
    batches: Iterable[tuple[BatchResult, Path]],
    gradebook_path: Path,
    warn: Callable[[str], None],
) -> list[Recorded]:
    """:func:`record` each (batch, release) pair; the notes go to ``warn``; any failure
    is one error naming them all, after every batch is written."""
    done = [record(batch, gradebook_path, release) for batch, release in batches]
    for recorded in done:
        for note in recorded.notes:
            warn(note)
    failed = [line for recorded in done for line in recorded.failed]
    if failed:
        shown = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
        raise GraderError(
            f"{len(failed)} submission(s) not written to the gradebook {gradebook_path}: {shown}"
        )
    return done
