"""`grader export`: the grading service's store as the reports `grader grade` writes."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.cli import cli
from grader.grading.options import Options
from grader.reports.json_report import grades_json, read_grades_json
from grader.results import (
    GRADED,
    MISSING,
    NOT_GRADED,
    CheckResult,
    Environment,
    ExerciseResult,
    SubmissionResult,
)
from grader.sandbox.server import Limits
from grader.service.gradebook import NO_SUBMISSION, NONE_COUNTED, batch_from_store
from grader.service.store import Store

REPO = Path(__file__).resolve().parents[1]
RELEASE_ROOT = REPO / "release"
RELEASE = RELEASE_ROOT / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
ENVIRONMENT = Environment("1.0", "3.11", "2.0", "openblas")


def result(student: str, scores: tuple[float, float]) -> SubmissionResult:
    exercises = tuple(
        ExerciseResult(
            name,
            score,
            5.0,
            "passed" if score == 5 else "failed",
            checks=(CheckResult("case", score == 5, "expected 3, got 4", "wrong value"),),
        )
        for name, score in zip(("first", "second"), scores)
    )
    return SubmissionResult(student, "upload.ipynb", sum(scores), 10.0, GRADED, exercises=exercises)


def submit(store: Store, user: str, scores, minutes: int = 0, **extra) -> int:
    sid = store.accept(
        user=user,
        assignment=extra.pop("assignment", "hw1"),
        kind="submission",
        data=json.dumps([user, minutes]).encode(),
        received_at=T0 + timedelta(minutes=minutes),
        **extra,
    )
    if scores is not None:
        store.finish(sid, result(user, scores), "1.0")
    return sid


@pytest.fixture
def db(tmp_path) -> Path:
    """alice submitted twice, bob late (half off), carol never, dave only uncounted,
    erin only a check; prof is an instructor."""
    path = tmp_path / "grader.sqlite"
    with Store(path) as store:
        store.set_roster(
            [
                ("alice", "student"),
                ("bob", "student"),
                ("carol", "student"),
                ("dave", "student"),
                ("erin", "student"),
                ("prof", "instructor"),
            ]
        )
        submit(store, "alice", (5, 5), 0)
        submit(store, "alice", (5, 2.5), 10)  # the newest counts, even when lower
        submit(store, "bob", (5, 4), 20, late_days=2, penalty=0.5)
        submit(store, "dave", (5, 5), 30, counted=False, late_days=9)
        store.accept(user="erin", assignment="hw1", kind="check", data=b"{}", received_at=T0)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def export(*arguments: str):
    return CliRunner().invoke(cli, ["export", *arguments])


def test_batch_from_store_is_the_latest_counted_per_student_and_the_missing(db):
    with Store(db) as store:
        batch = batch_from_store(store, "hw1", ENVIRONMENT)
    rows = {s.student: s for s in batch.submissions}
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin"]  # not the instructor
    assert (rows["alice"].score, rows["alice"].exercise("second").score) == (7.5, 2.5)
    assert rows["bob"].score == 4.5 and rows["bob"].exercise("second").score == 4  # 9 * 0.5
    assert (rows["bob"].late_days, rows["bob"].penalty, rows["bob"].earned) == (2, 0.5, 9)
    assert (rows["alice"].late_days, rows["alice"].penalty) == (0, 0.0)
    for name, reason in (("carol", NO_SUBMISSION), ("dave", NONE_COUNTED), ("erin", NO_SUBMISSION)):
        assert (rows[name].status, rows[name].score, rows[name].error) == (MISSING, 0.0, reason)
        assert rows[name].max_score == 10.0
    assert batch.exercises == ("first", "second") and batch.max_score == 10.0
    assert batch.environment == ENVIRONMENT and batch.assignment == "hw1"


def test_export_writes_every_report_with_missing_rows_and_penalties(db, tmp_path):
    out = tmp_path / "out"
    outcome = export("--db", str(db), "--out", str(out), "--release-root", str(tmp_path))
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    assert "warning: no release of hw1" in outcome.stderr
    rows = {row["student"]: row for row in read_csv(out / "grades.csv")}
    assert list(read_csv(out / "grades.csv")[0]) == [
        "student",
        "submission",
        "score",
        "max_score",
        "first",
        "second",
    ]
    assert (rows["alice"]["score"], rows["alice"]["second"]) == ("7.5", "2.5")
    assert (rows["bob"]["score"], rows["bob"]["second"]) == ("4.5", "4")
    assert rows["carol"] == {
        "student": "carol",
        "submission": "",
        "score": "0",
        "max_score": "10",
        "first": "",
        "second": "",
    }
    grades = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    statuses = {s["student"]: s["status"] for s in grades["submissions"]}
    assert statuses == {
        "alice": GRADED,
        "bob": GRADED,
        "carol": MISSING,
        "dave": MISSING,
        "erin": MISSING,
    }
    suites = {suite.get("name") for suite in ET.parse(out / "junit.xml").getroot()}
    assert suites == {"alice", "bob", "carol", "dave", "erin"}
    for name in ("alice", "bob", "carol", "dave", "erin"):
        assert (out / "feedback" / f"{name}.html").is_file()
        assert (out / "feedback" / f"{name}.md").is_file()
    assert NO_SUBMISSION in (out / "feedback" / "carol.md").read_text(encoding="utf-8")
    assert (out / "index.html").is_file()


BOB_LATE = "Submitted 2 days late: 50% taken off the total (earned 9 of 10, counted 4.5)"


def test_feedback_explains_a_late_penalty_and_grades_json_carries_it(db, tmp_path):
    """bob's exercises earned 5 + 4 but his total is 4.5: his pages say why, once, near
    the total; alice (on time) is told nothing of lateness."""
    out = tmp_path / "out"
    outcome = export("--db", str(db), "--out", str(out), "-q")
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    feedback = out / "feedback"
    bob_md = (feedback / "bob.md").read_text(encoding="utf-8")
    assert bob_md.count(BOB_LATE) == 1
    assert bob_md.index("**Total score: 4.5 / 10**") < bob_md.index(BOB_LATE)
    assert bob_md.index(BOB_LATE) < bob_md.index("| Exercise |")
    bob_html = (feedback / "bob.html").read_text(encoding="utf-8")
    assert f'<p class="late">{BOB_LATE}</p>' in bob_html
    assert bob_html.index("Total score: 4.5 / 10") < bob_html.index(BOB_LATE)
    for name in ("alice", "carol"):
        for suffix in (".md", ".html"):
            page = (feedback / f"{name}{suffix}").read_text(encoding="utf-8")
            assert "taken off the total" not in page and "days late" not in page, name
            assert '<p class="late">' not in page, name
    text = (out / "grades.json").read_text(encoding="utf-8")
    rows = {s["student"]: s for s in json.loads(text)["submissions"]}
    assert (rows["bob"]["late_days"], rows["bob"]["penalty"], rows["bob"]["score"]) == (2, 0.5, 4.5)
    assert (rows["alice"]["late_days"], rows["alice"]["penalty"]) == (0, 0.0)
    batch = read_grades_json(text)
    bob = next(s for s in batch.submissions if s.student == "bob")
    assert (bob.late_days, bob.penalty, bob.score, bob.earned) == (2, 0.5, 4.5, 9)
    assert grades_json(batch) == text  # the round trip loses nothing
    # reports made again from grades.json (export --grades) explain it the same way
    again = tmp_path / "again"
    outcome = export("--grades", str(out / "grades.json"), "--out", str(again), "-q")
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    assert BOB_LATE in (again / "feedback" / "bob.md").read_text(encoding="utf-8")


def test_a_grades_json_older_than_lateness_reads_as_on_time_and_bad_values_are_refused(
    db, tmp_path
):
    out = tmp_path / "out"
    assert export("--db", str(db), "--out", str(out), "-q").exit_code == 0
    data = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    for submission in data["submissions"]:
        del submission["late_days"], submission["penalty"]
    batch = read_grades_json(json.dumps(data))
    assert {(s.late_days, s.penalty) for s in batch.submissions} == {(0, 0.0)}
    assert next(s for s in batch.submissions if s.student == "bob").score == 4.5
    for key, value in (
        ("penalty", 1.5),
        ("penalty", "half"),
        ("late_days", -1),
        ("late_days", 2.5),
    ):
        data["submissions"][1][key] = value
        with pytest.raises(ValueError, match=key) as raised:
            read_grades_json(json.dumps(data))
        assert "\n" not in str(raised.value) and "bob" in str(raised.value)
        del data["submissions"][1][key]


def test_several_assignments_each_get_a_folder_and_one_can_be_chosen(db, tmp_path):
    with Store(db) as store:
        submit(store, "alice", (1, 1), 0, assignment="hw2")
    out = tmp_path / "out"
    outcome = export("--db", str(db), "--out", str(out), "-q")
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    assert [row["student"] for row in read_csv(out / "hw2" / "grades.csv")] == [
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
    ]
    assert read_csv(out / "hw1" / "grades.csv")[0]["score"] == "7.5"
    only = tmp_path / "only"
    outcome = export("--db", str(db), "--out", str(only), "--assignment", "hw2", "-q")
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    assert read_csv(only / "grades.csv")[0]["score"] == "2"
    assert not (only / "hw1").exists()


def test_a_missing_database_is_a_usage_error_and_is_not_created(tmp_path):
    path = tmp_path / "nowhere.sqlite"
    outcome = export("--db", str(path), "--out", str(tmp_path / "out"))
    assert outcome.exit_code == 2
    assert outcome.stderr.count("\n") == 1 and str(path) in outcome.stderr
    assert not path.exists() and not (tmp_path / "out").exists()


def test_an_empty_store_and_an_unknown_assignment_are_clear_errors(db, tmp_path):
    empty = tmp_path / "empty.sqlite"
    Store(empty).close()
    outcome = export("--db", str(empty), "--out", str(tmp_path / "out"))
    assert outcome.exit_code == 1 and "holds no submissions" in outcome.stderr
    outcome = export("--db", str(db), "--out", str(tmp_path / "out"), "--assignment", "hw9")
    assert outcome.exit_code == 2 and "hw9" in outcome.stderr and "hw1" in outcome.stderr
    not_a_db = tmp_path / "notes.sqlite"
    not_a_db.write_text("hello" * 1000)
    outcome = export("--db", str(not_a_db), "--out", str(tmp_path / "out"))
    assert outcome.exit_code == 1 and str(not_a_db) in outcome.stderr
    assert outcome.stderr.count("\n") == 1


def test_a_newest_submission_not_graded_yet_is_written_and_exits_3(db, tmp_path):
    with Store(db) as store:
        submit(store, "bob", None, 50)  # accepted, the server died before grading it
    out = tmp_path / "out"
    outcome = export("--db", str(db), "--out", str(out), "-q")
    assert outcome.exit_code == 3, (outcome.output, outcome.exception)
    assert "hw1/bob" in outcome.stderr
    rows = {row["student"]: row for row in read_csv(out / "grades.csv")}
    assert rows["bob"]["score"] == ""  # no score rather than an old one
    grades = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert {s["student"]: s["status"] for s in grades["submissions"]}["bob"] == NOT_GRADED


def test_export_of_real_results_matches_grader_grade(tmp_path):
    """The same notebooks graded by `grader grade` and through the store: the same
    grades.csv (but the submission column, the service's label for the upload) and the
    same feedback pages."""
    notebooks = sample_batch(SOLUTIONS, RELEASE)
    folder = tmp_path / "submitted"
    folder.mkdir()
    chosen = ("alice_correct.ipynb", "mistake_linear_backward.ipynb", "frank_not_a_notebook.ipynb")
    for name in chosen:
        (folder / name).write_bytes(notebooks[name])
    graded_dir = tmp_path / "graded"
    outcome = CliRunner().invoke(
        cli, ["grade", str(folder), "--release", str(RELEASE), "--out", str(graded_dir), "-q"]
    )
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)
    fast = Options(limits=Limits(call_timeout=2.0, cells_timeout=4.0, submission_timeout=60.0))
    batch = grader.grade([folder], release_dir=RELEASE, options=fast)
    db = tmp_path / "grader.sqlite"
    with Store(db) as store:
        for index, graded in enumerate(batch.submissions):
            label = Path(graded.submission).name
            sid = store.accept(
                user=graded.student,
                assignment=batch.assignment,
                kind="submission",
                data=(folder / label).read_bytes(),
                received_at=T0 + timedelta(minutes=index),
            )
            store.finish(sid, replace(graded, submission=label), grader.__version__)
    exported = tmp_path / "exported"
    outcome = export("--db", str(db), "--out", str(exported), "--release-root", str(RELEASE_ROOT))
    assert outcome.exit_code == 0, (outcome.output, outcome.exception)

    def without_submission(path: Path) -> list[dict[str, str]]:
        return [{k: v for k, v in row.items() if k != "submission"} for row in read_csv(path)]

    expected = without_submission(graded_dir / "grades.csv")
    assert [row["score"] for row in expected] == ["100", "0", "90"]  # a real spread
    assert without_submission(exported / "grades.csv") == expected
    assert [row["submission"] for row in read_csv(exported / "grades.csv")] == list(sorted(chosen))
    for page in sorted((graded_dir / "feedback").glob("*.md")):
        assert (exported / "feedback" / page.name).read_text(encoding="utf-8") == page.read_text(
            encoding="utf-8"
        ), page.name
