"""`grader export --format canvas|moodle`: the LMS gradebook import files, from a
`grader grade` output folder (--grades) and from the grading service's store (--db)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.authoring.assignment import load_release
from grader.cli import cli
from grader.reports.json_report import grades_json, read_grades_json
from grader.reports.lms import (
    CANVAS_IDENTITY,
    MOODLE_IDENTITY,
    canvas_csv,
    moodle_csv,
    parse_roster,
)
from grader.results import (
    GRADED,
    MISSING,
    NOT_GRADED,
    UNREADABLE,
    BatchResult,
    CheckResult,
    Environment,
    ExerciseResult,
    SubmissionResult,
)
from grader.service.store import Store

REPO = Path(__file__).resolve().parents[1]
RELEASE_ROOT = REPO / "release"
RELEASE = RELEASE_ROOT / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
TITLE = load_release(RELEASE)[0].title
ODD = "=cmd|' calc'!A0, \"Al\""  # a formula, a comma and quotes: a student's file name
# the headers as Canvas's importer and Moodle's export spell them (see grader.reports.lms)
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEADER = [
    "First name",
    "Last name",
    "ID number",
    "Institution",
    "Department",
    "Email address",
]
ENVIRONMENT = Environment("1.0", "3.11", "2.0", "openblas")
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def run(*arguments: str):
    return CliRunner().invoke(cli, ["export", *arguments])


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def one_line_usage_error(outcome) -> str:
    assert outcome.exit_code == 2, (outcome.output, outcome.exception)
    assert outcome.stderr.startswith("error: ") and outcome.stderr.count("\n") == 1
    assert "Traceback" not in outcome.output
    return outcome.stderr


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """A real `grader grade` output folder: correct (100), one mistake (90), not a
    notebook (unreadable, 0), and a correct one whose file name is a formula."""
    notebooks = sample_batch(SOLUTIONS, RELEASE)
    folder = tmp_path_factory.mktemp("submitted")
    for name in (
        "alice_correct.ipynb",
        "mistake_linear_backward.ipynb",
        "frank_not_a_notebook.ipynb",
    ):
        (folder / name).write_bytes(notebooks[name])
    (folder / f"{ODD}.ipynb").write_bytes(notebooks["alice_correct.ipynb"])
    out = tmp_path_factory.mktemp("graded")
    outcome = CliRunner().invoke(
        cli, ["grade", str(folder), "--release", str(RELEASE), "--out", str(out), "-q"]
    )
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    return out


def grades_scores(folder: Path) -> dict[str, str]:
    data = json.loads((folder / "grades.json").read_text(encoding="utf-8"))
    return {s["student"]: s["score"] for s in data["submissions"]}


def as_number(cell: str) -> float:
    return float(cell)


def test_canvas_file_of_a_grading_run(graded, tmp_path):
    target = tmp_path / "canvas.csv"
    outcome = run("--grades", str(graded), "--format", "canvas", "--out", str(target))
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    assert f"canvas gradebook: {target} (4 students" in outcome.stdout
    rows = read_rows(target)
    assert rows[0] == [*CANVAS_HEADER, TITLE]
    assert rows[1] == ["Points Possible", "", "", "", "", "100"]
    students = rows[2:]
    scores = grades_scores(graded)
    assert len(students) == len(scores) == 4  # one row per student
    by_login = {row[3]: row for row in students}
    assert set(by_login) == {
        "alice_correct",
        "mistake_linear_backward",
        "frank_not_a_notebook",
        "'" + ODD,
    }
    for student, score in scores.items():
        login = "'" + student if student == ODD else student
        assert as_number(by_login[login][5]) == score  # the total grades.json holds
        assert by_login[login][0] == login and by_login[login][1:3] == ["", ""]
    assert [by_login[s][5] for s in ("alice_correct", "mistake_linear_backward")] == ["100", "90"]
    assert by_login["frank_not_a_notebook"][5] == "0"  # unreadable: 0, as in grades.csv


def test_moodle_file_of_a_grading_run_from_its_grades_json(graded, tmp_path):
    out = tmp_path / "lms"
    outcome = run("--grades", str(graded / "grades.json"), "--format", "moodle", "--out", str(out))
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    target = out / "dnn_step_by_step-moodle.csv"  # a folder gets the default name
    rows = read_rows(target)
    assert rows[0] == [*MOODLE_HEADER, f"{TITLE} (Real)"]
    scores = grades_scores(graded)
    assert len(rows) - 1 == len(scores)
    for row in rows[1:]:
        student = ODD if row[2] == "'" + ODD else row[2]  # the grader id is the ID number
        assert row[:2] == ["", ""] and row[3:6] == ["", "", ""]
        assert as_number(row[6]) == scores[student]
    assert target.read_bytes().count(b"\r\n") == len(rows)  # RFC 4180 line ends


def test_column_name_and_canvas_assignment_id(graded, tmp_path):
    target = tmp_path / "c.csv"
    outcome = run(
        "--grades", str(graded), "--format", "canvas", "--out", str(target),
        "--column-name", "Homework 3", "--canvas-id", "4711", "-q",
    )  # fmt: skip
    assert outcome.exit_code == 0 and outcome.stdout == ""
    assert read_rows(target)[0][-1] == "Homework 3 (4711)"
    outcome = run(
        "--grades", str(graded), "--format", "moodle", "--out", str(target),
        "--column-name", "Homework 3",
    )  # fmt: skip
    assert outcome.exit_code == 0
    assert read_rows(target)[0][-1] == "Homework 3 (Real)"


def test_the_roster_maps_grader_ids_to_the_lms_identities(graded, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "\ufeffstudent,Student,ID,SIS User ID,SIS Login ID,Section,first name,LAST NAME,"
        "ID number,Email  address,Notes\n"
        'alice_correct,"Liddell, Alice",101,S-1,alice,Lab A,Alice,Liddell,A1,'
        "alice@uni.edu,ignored\n"
        "mistake_linear_backward,Bob,102,S-2,bob,Lab B,Bob,Builder,B2,bob@uni.edu,\n"
        "nobody,Nobody,103,S-3,nobody,Lab C,No,Body,N3,no@uni.edu,\n",
        encoding="utf-8",
    )
    canvas = tmp_path / "canvas.csv"
    outcome = run(
        "--grades", str(graded), "--format", "canvas", "--out", str(canvas), "--roster", str(roster)
    )
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    # the two students it lacks are named, and keep their grader id
    assert "warning: 2 of 4 students not on the roster" in outcome.stderr
    assert "frank_not_a_notebook" in outcome.stderr
    rows = {row[0]: row for row in read_rows(canvas)[2:]}
    assert rows["Liddell, Alice"] == ["Liddell, Alice", "101", "S-1", "alice", "Lab A", "100"]
    assert rows["Bob"] == ["Bob", "102", "S-2", "bob", "Lab B", "90"]
    assert rows["frank_not_a_notebook"] == [
        "frank_not_a_notebook",
        "",
        "",
        "frank_not_a_notebook",
        "",
        "0",
    ]
    assert len(rows) == 4  # a roster student without a grade gets no row
    moodle = tmp_path / "moodle.csv"
    outcome = run(
        "--grades", str(graded), "--format", "moodle", "--out", str(moodle), "--roster", str(roster)
    )
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    rows = {row[2]: row for row in read_rows(moodle)[1:]}
    assert rows["A1"] == ["Alice", "Liddell", "A1", "", "", "alice@uni.edu", "100"]
    assert rows["B2"] == ["Bob", "Builder", "B2", "", "", "bob@uni.edu", "90"]


def test_an_lms_gradebook_export_is_a_roster_by_its_login_column(graded, tmp_path):
    """Canvas's own export (its Points Possible row, a BOM) keyed by SIS Login ID."""
    roster = tmp_path / "export.csv"
    roster.write_text(
        "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (55)\n"
        "    Points Possible,,,,,10\n"
        '"Liddell, Alice",101,S-1,alice_correct,Lab A,7\n',
        encoding="utf-8",
    )
    target = tmp_path / "c.csv"
    outcome = run(
        "--grades", str(graded), "--format", "canvas", "--out", str(target),
        "--roster", str(roster), "--roster-key", "SIS Login ID",
    )  # fmt: skip
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    rows = {row[3]: row for row in read_rows(target)[2:]}
    assert rows["alice_correct"] == [
        "Liddell, Alice",
        "101",
        "S-1",
        "alice_correct",
        "Lab A",
        "100",
    ]


def batch_of(*submissions: SubmissionResult) -> BatchResult:
    return BatchResult("hw1", 10.0, ENVIRONMENT, submissions, ("first",))


def graded_result(student: str, score: float) -> SubmissionResult:
    exercise = ExerciseResult("first", score, 10.0, "passed" if score == 10 else "failed")
    return SubmissionResult(student, f"{student}.ipynb", score, 10.0, GRADED, exercises=(exercise,))


def test_odd_names_are_quoted_and_formulas_made_inert():
    odd = [
        "a, b",
        'say "hi"',
        "two\nlines",
        "=cmd|' /C calc'!A0",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
    ]
    batch = batch_of(*(graded_result(name, 2.5) for name in odd))
    for text, identity, column, at in (
        (canvas_csv(batch, "=HW"), CANVAS_IDENTITY, "=HW", 3),
        (moodle_csv(batch, "=HW (Real)"), MOODLE_IDENTITY, "=HW (Real)", 2),
    ):
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows[0] == [*identity, "'" + column]
        students = [row for row in rows[1:] if row[0] != "Points Possible"]
        assert len(students) == len(odd)  # a newline in a name is not a new row
        ids = [row[at] for row in students]
        assert ids[:3] == odd[:3]  # quoted, unchanged
        assert ids[3:] == ["'" + name for name in odd[3:]]  # a spreadsheet shows, never runs
        assert {row[-1] for row in students} == {"2.5"}  # numbers stay numbers


def test_totals_no_score_and_zero_follow_grades_json():
    batch = batch_of(
        graded_result("ann", 6.66666),
        SubmissionResult("ben", "ben.ipynb", 0.0, 10.0, UNREADABLE, error="not JSON"),
        SubmissionResult("cat", "", 0.0, 10.0, MISSING, error="No submission was received."),
        SubmissionResult("dan", "dan.ipynb", 0.0, 10.0, NOT_GRADED, error="worker died"),
    )
    for text in (canvas_csv(batch, "HW"), moodle_csv(batch, "HW (Real)")):
        totals = [
            row[-1] for row in csv.reader(io.StringIO(text)) if row[-1] not in ("HW", "HW (Real)")
        ]
        assert totals[-4:] == ["6.6667", "0", "0", ""]  # not graded: a blank, no score
    assert "Points Possible" not in canvas_csv(batch, "HW", points_possible=False)


def test_grades_json_reads_back_what_was_written():
    check = CheckResult("case", False, "expected 3, got 4", "wrong value")
    exercise = ExerciseResult("first", 2.5, 10.0, "failed", checks=(check,), error="")
    batch = batch_of(
        SubmissionResult(
            "ann", "ann.ipynb", 2.5, 10.0, GRADED, exercises=(exercise,), tampered=False
        ),
        SubmissionResult("ben", "ben.ipynb", 0.0, 10.0, UNREADABLE, error="not JSON"),
    )
    assert read_grades_json(grades_json(batch)) == batch
    for text, problem in (
        ("{", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"assignment": "hw1"}', "no 'max_score'"),
        (grades_json(batch).replace('"score": 2.5', '"score": "2.5"'), "no number 'score'"),
        (
            grades_json(batch).replace('"status": "unreadable"', '"status": "lost"'),
            "unknown status",
        ),
        (grades_json(batch).replace('"submission": "ann', '"file": "ann'), "KeyError 'submission'"),
    ):
        with pytest.raises(ValueError, match=problem) as caught:
            read_grades_json(text)
        assert "\n" not in str(caught.value)


def test_reports_from_a_grades_json_are_the_run_s_own(graded, tmp_path):
    """--format reports (the default) from --grades: the reader loses nothing."""
    out = tmp_path / "again"
    outcome = run("--grades", str(graded), "--out", str(out), "-q")
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    for name in ("grades.csv", "grades.json"):
        assert (out / name).read_bytes() == (graded / name).read_bytes(), name


def test_roster_parsing_rules():
    roster = parse_roster(" Student ,student,SIS Login ID\nAlice A,alice,al\n,,\n", key="student")
    assert roster == {"alice": {"student": "Alice A", "sis login id": "al"}}
    with pytest.raises(ValueError, match="twice"):
        parse_roster("student\nann\nann\n")
    with pytest.raises(ValueError, match="no column 'student'"):
        parse_roster("name,email\nann,a@x\n")
    with pytest.raises(ValueError, match="empty"):
        parse_roster("")


@pytest.fixture
def db(tmp_path) -> Path:
    """alice graded twice (the newest counts), bob late at half credit, carol never
    submitted, dave's newest not graded yet."""
    path = tmp_path / "grader.sqlite"
    with Store(path) as store:
        store.set_roster([(user, "student") for user in ("alice", "bob", "carol", "dave")])
        for minutes, (user, score, extra) in enumerate(
            (
                ("alice", 10.0, {}),
                ("alice", 7.5, {}),
                ("bob", 9.0, {"late_days": 2, "penalty": 0.5}),
                ("dave", None, {}),
            )
        ):
            sid = store.accept(
                user=user,
                assignment="hw1",
                kind="submission",
                data=json.dumps([user, minutes]).encode(),
                received_at=T0 + timedelta(minutes=minutes),
                **extra,
            )
            if score is not None:
                store.finish(sid, graded_result(user, score), "1.0")
    return path


@pytest.mark.parametrize("format_", ["canvas", "moodle"])
def test_lms_file_of_the_service_store_matches_its_reports(db, tmp_path, format_):
    reports = tmp_path / "reports"
    assert run("--db", str(db), "--out", str(reports), "-q").exit_code == 3
    scores = grades_scores(reports)
    target = tmp_path / f"{format_}.csv"
    outcome = run(
        "--db", str(db), "--format", format_, "--out", str(target), "--release-root", str(tmp_path)
    )
    assert outcome.exit_code == 3, (outcome.output, outcome.exception)  # dave: not graded yet
    assert "1 newest submission not graded (hw1/dave)" in outcome.stderr
    rows = read_rows(target)
    header, students = (rows[0], rows[2:]) if format_ == "canvas" else (rows[0], rows[1:])
    assert header == (
        [*CANVAS_HEADER, "hw1"] if format_ == "canvas" else [*MOODLE_HEADER, "hw1 (Real)"]
    )
    totals = {row[3] if format_ == "canvas" else row[2]: row[-1] for row in students}
    assert totals == {"alice": "7.5", "bob": "4.5", "carol": "0", "dave": ""}  # bob: 9, half off
    for student, total in totals.items():
        assert total == "" or as_number(total) == scores[student]


def test_several_assignments_need_a_folder(db, tmp_path):
    with Store(db) as store:
        sid = store.accept(
            user="alice", assignment="hw2", kind="submission", data=b"x", received_at=T0
        )
        store.finish(sid, graded_result("alice", 3.0), "1.0")
    stderr = one_line_usage_error(
        run("--db", str(db), "--format", "canvas", "--out", str(tmp_path / "one.csv"))
    )
    assert "2 assignments" in stderr and not (tmp_path / "one.csv").exists()
    out = tmp_path / "lms"
    outcome = run("--db", str(db), "--format", "moodle", "--out", str(out), "-q")
    assert outcome.exit_code == 3
    assert sorted(p.name for p in out.iterdir()) == ["hw1-moodle.csv", "hw2-moodle.csv"]
    assert read_rows(out / "hw2-moodle.csv")[1][2:] == ["alice", "", "", "", "3"]


def test_bad_inputs_are_one_line_and_exit_2(graded, tmp_path, db):
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken.json"
    broken.write_text('{"assignment": "hw1"', encoding="utf-8")
    no_key = tmp_path / "no_key.csv"
    no_key.write_text("name,Email address\nann,a@x\n", encoding="utf-8")
    out = str(tmp_path / "out.csv")
    for arguments, words in (
        (["--grades", str(empty), "--format", "canvas"], f"{empty} has no grades.json"),
        (["--grades", str(tmp_path / "nope"), "--format", "moodle"], "does not exist"),
        (["--grades", str(broken), "--format", "canvas"], "not JSON"),
        (["--format", "canvas"], "give one source"),
        (["--grades", str(graded), "--db", str(db), "--format", "canvas"], "not both"),
        (["--grades", str(graded), "--format", "blackboard"], "--format blackboard"),
        (
            ["--grades", str(graded), "--format", "canvas", "--roster", str(no_key)],
            "no column 'student'",
        ),
        (
            ["--grades", str(graded), "--format", "canvas", "--roster", str(tmp_path / "r.csv")],
            "does not exist",
        ),
        (["--grades", str(graded), "--roster", str(no_key)], "--roster"),
        (["--grades", str(graded), "--format", "moodle", "--canvas-id", "12"], "--canvas-id"),
        (["--grades", str(graded), "--format", "canvas", "--canvas-id", "abc"], "not a Canvas id"),
        (["--grades", str(graded), "--format", "canvas", "--assignment", "hw9"], "hw9"),
        (["--grades", str(graded), "--format", "canvas", "--reveal-expected"], "--reveal-expected"),
    ):
        stderr = one_line_usage_error(run(*arguments, "--out", out))
        assert words in stderr, (arguments, stderr)
    assert not Path(out).exists()


def test_a_run_with_a_submission_not_graded_writes_it_blank_and_exits_3(tmp_path):
    batch = batch_of(
        graded_result("ann", 10.0),
        SubmissionResult("dan", "dan.ipynb", 0.0, 10.0, NOT_GRADED, error="worker died"),
    )
    (tmp_path / "grades.json").write_text(grades_json(batch), encoding="utf-8")
    target = tmp_path / "canvas.csv"
    outcome = run("--grades", str(tmp_path), "--format", "canvas", "--out", str(target), "-q")
    assert outcome.exit_code == 3, (outcome.output, outcome.exception)
    assert (
        "1 submission not graded (dan)" in outcome.stderr and "grade them again" in outcome.stderr
    )
    assert [row[-1] for row in read_rows(target)[2:]] == ["10", ""]
