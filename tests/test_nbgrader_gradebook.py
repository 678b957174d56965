"""`grader grade COURSE/submitted/*/<assignment> --gradebook COURSE/gradebook.db`: the
kit's per-exercise scores in nbgrader's gradebook, read back through nbgrader's own API
and its `nbgrader export`, on a course where nbgrader never ran (the gradebook, the
assignment and its grade cells are made from the release)."""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from nbgrader.api import Gradebook
from support import ASSIGNMENT, NOTEBOOK_NAME, RELEASE_DIR, SOLUTIONS_DIR, load_json

from grader.assignments import get_kit
from grader.authoring.assignment import load_release
from grader.cli import cli
from grader.errors import GraderError, UsageError
from grader.integrations.nbgrader_gradebook import (
    gradebook_url,
    nbgrader_place,
    record,
    record_all,
)
from grader.results import MISSING, SubmissionResult, batch_from_dict

NOTEBOOK_ID = Path(NOTEBOOK_NAME).stem
# sample -> nbgrader student id: a correct, a broken, an unreadable one, and a student
# whose submission folder holds no notebook
STUDENTS = {
    "alice_correct": "s1",
    "mistake_linear_backward": "s2",
    "frank_not_a_notebook": "s3",
    "erin_crash": "s4",
}
NOTHING = "s5"


def run_grade(course: Path, out: Path, gradebook: Path | str, *more: str):
    paths = [str(p) for p in sorted((course / "submitted").glob(f"*/{ASSIGNMENT}"))]
    args = ["grade", *paths, "--out", str(out), "--gradebook", str(gradebook), "-q", *more]
    return CliRunner().invoke(cli, args)


def url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """`grader nbgrader init`, then submissions: nbgrader itself never ran."""
    course = tmp_path_factory.mktemp("gradebook") / "course"
    made = CliRunner().invoke(cli, ["nbgrader", "init", str(course), "--assignment", ASSIGNMENT])
    assert made.exit_code == 0, made.output
    samples = get_kit(ASSIGNMENT).samples(SOLUTIONS_DIR, RELEASE_DIR)
    for sample, student in STUDENTS.items():
        target = course / "submitted" / student / ASSIGNMENT / NOTEBOOK_NAME
        target.parent.mkdir(parents=True)
        target.write_bytes(samples[f"{sample}.ipynb"])
    (course / "submitted" / NOTHING / ASSIGNMENT).mkdir(parents=True)
    stamp = course / "submitted" / "s1" / ASSIGNMENT / "timestamp.txt"
    stamp.write_text("2026-03-01 12:00:00.000000 UTC")
    return course


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("out")
    result = run_grade(course, out, course / "gradebook.db")
    assert result.exit_code == 0, (result.output, result.stderr)
    # the unreadable and the missing submission are recorded as 0, and it is said
    assert "s3: unreadable, recorded as 0" in result.stderr
    assert f"{NOTHING}: missing, recorded as 0" in result.stderr
    return out, load_json(out / "grades.json")


def test_gradebook_holds_the_kits_scores(course, graded):
    _, grades = graded
    assignment, _ = load_release(RELEASE_DIR)
    cells = {exercise.name: exercise.test_cell for exercise in assignment.exercises}
    by_student = {s["student"]: s for s in grades["submissions"]}
    assert set(by_student) == {*STUDENTS.values(), NOTHING}
    assert {s["status"] for s in by_student.values()} == {"graded", "unreadable", "missing"}
    with Gradebook(url(course)) as gradebook:
        for student, result in by_student.items():
            notebook = gradebook.find_submission_notebook(NOTEBOOK_ID, ASSIGNMENT, student)
            got = {grade.name: grade.auto_score for grade in notebook.grades}
            wanted = {
                cells[name]: result["exercises"][name]["score"] if result["exercises"] else 0.0
                for name in cells
            }
            assert got == pytest.approx(wanted), student
            assert all(grade.manual_score is None for grade in notebook.grades)
            assert all(not grade.needs_manual_grade for grade in notebook.grades)
            submission = gradebook.find_submission(ASSIGNMENT, student)
            assert submission.score == pytest.approx(result["score"]), student
            assert submission.max_score == grades["max_score"]
        # the broken one lost points, the correct one has them all
        assert gradebook.find_submission(ASSIGNMENT, "s1").score == grades["max_score"]
        assert 0 < gradebook.find_submission(ASSIGNMENT, "s2").score < grades["max_score"]
        stamp = gradebook.find_submission(ASSIGNMENT, "s1").timestamp
        assert (stamp.year, stamp.month, stamp.day, stamp.hour) == (2026, 3, 1, 12)


def test_nbgrader_export_shows_the_kits_totals(course, graded):
    _, grades = graded
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "export"],
        cwd=course,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with open(course / "grades.csv", newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    for result in grades["submissions"]:
        row = rows[result["student"]]
        assert row["assignment"] == ASSIGNMENT
        assert float(row["score"]) == pytest.approx(result["score"])
        assert float(row["max_score"]) == grades["max_score"]
    assert len(rows) == len(grades["submissions"])


def test_a_manual_score_survives_grading_again(course, graded):
    out, grades = graded
    exercise = grades["exercises"][-1]
    cell = load_release(RELEASE_DIR)[0].exercise(exercise).test_cell
    with Gradebook(url(course)) as gradebook:
        grade = gradebook.find_grade(cell, NOTEBOOK_ID, ASSIGNMENT, "s2")
        grade.manual_score = 4.0
        gradebook.db.commit()
    again = run_grade(course, out, course / "gradebook.db")  # results from out's journal
    assert again.exit_code == 0, again.output
    with Gradebook(url(course)) as gradebook:
        grade = gradebook.find_grade(cell, NOTEBOOK_ID, ASSIGNMENT, "s2")
        auto = next(s for s in grades["submissions"] if s["student"] == "s2")
        assert grade.manual_score == 4.0  # the instructor's, kept and counted
        assert grade.auto_score == auto["exercises"][exercise]["score"]
        assert grade.auto_score != 4.0
        assert grade.score == 4.0 and grade.needs_manual_grade
        expected = auto["score"] - grade.auto_score + 4.0
        assert gradebook.find_submission(ASSIGNMENT, "s2").score == pytest.approx(expected)


def test_not_a_gradebook_is_refused_before_grading(course, tmp_path):
    fake = tmp_path / "gradebook.db"
    fake.write_text("not a database\n")
    out = tmp_path / "out"
    result = run_grade(course, out, fake)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "is not an nbgrader gradebook" in result.stderr
    assert not (out / "grades.json").exists() and fake.read_text() == "not a database\n"


def test_loose_notebooks_are_refused_for_the_gradebook(tmp_path):
    loose = tmp_path / "alice.ipynb"
    samples = get_kit(ASSIGNMENT).samples(SOLUTIONS_DIR, RELEASE_DIR)
    loose.write_bytes(samples["alice_correct.ipynb"])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["grade", str(loose), "--out", str(out), "--gradebook", str(tmp_path / "g.db"), "-q"]
    )
    assert result.exit_code == 2
    assert "submitted/<student>/<assignment>/" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert (out / "grades.json").is_file() and not (tmp_path / "g.db").exists()


def test_paths_that_are_no_gradebook(tmp_path):
    import sqlite3

    with pytest.raises(UsageError, match="is a folder"):
        gradebook_url(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        gradebook_url(tmp_path / "no" / "gradebook.db")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text)")
    with pytest.raises(UsageError, match="without nbgrader's tables"):
        gradebook_url(other)
    assert gradebook_url(tmp_path / "new.db").endswith("/new.db")


def test_where_a_submission_sits():
    def result(path: str, status: str = "graded") -> SubmissionResult:
        return SubmissionResult("x", path, 0.0, 1.0, status)

    assert nbgrader_place(result("/c/submitted/bob/hw1/a.ipynb")) == ("bob", "hw1")
    assert nbgrader_place(result("/c/submitted/bob/hw1", MISSING)) == ("bob", "hw1")
    assert nbgrader_place(result("/c/elsewhere/bob/hw1/a.ipynb")) is None
    assert nbgrader_place(result("/c/submitted/bob/a.ipynb")) is None


def test_a_row_that_cannot_be_written_keeps_the_others(graded, tmp_path):
    _, grades = graded
    batch = batch_from_dict(grades)
    stray = replace(batch.submissions[0], student="stray", submission=str(tmp_path / "x.ipynb"))
    batch = replace(batch, submissions=(stray, *batch.submissions[1:]))
    database = tmp_path / "gradebook.db"
    done = record(batch, database, RELEASE_DIR)
    assert done.failed == ("stray: not in submitted/<student>/<assignment>/",)
    assert len(done.written) == len(batch.submissions) - 1
    with Gradebook(f"sqlite:///{database}") as gradebook:
        kept = {s.student.id for s in gradebook.assignment_submissions(ASSIGNMENT)}
    assert kept == {s.student for s in batch.submissions[1:]}
    with pytest.raises(GraderError, match="1 submission\\(s\\) not written .*stray"):
        record_all([(batch, RELEASE_DIR)], database, lambda _: None)
