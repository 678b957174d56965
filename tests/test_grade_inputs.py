"""What grading makes of its inputs: every exercise column whatever was graded, one rule
for submissions scored 0 without being graded, nbgrader folders holding no notebook or
several, paths holding none, ``--fail-under`` above the maximum, the release found from
any working folder, and the Python API's arguments."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import EXERCISES, RELEASE_DIR, SOLUTIONS_DIR

import grader
from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.cli import cli
from grader.errors import UsageError
from grader.grading.locations import (
    RELEASE_ROOT_VARIABLE,
    assignment_groups,
    assignment_of,
    find_folder,
)
from grader.grading.submissions import find_submissions
from grader.reports import GRADES_SCHEMA, grades_csv, grades_json, junit_xml, summary_text
from grader.results import (
    BatchResult,
    Environment,
    ExerciseResult,
    SubmissionResult,
    batch_from_dict,
)

FAST = ["--timeout", "2", "--jobs", "1"]
ENV = Environment("0.1.0", "3.11.9", "2.0.0", "openblas", {}, True)
LONG_REASON = (
    "not a notebook: the file is not valid JSON, Expecting ',' delimiter: line 1 "
    "column 3 (char 2) in students_notebook_final_version.ipynb"
)


@pytest.fixture(scope="module")
def notebooks() -> dict[str, bytes]:
    return sample_batch(SOLUTIONS_DIR, RELEASE_DIR)


def _put(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _unreadable(student: str, error: str = "not a notebook") -> SubmissionResult:
    return SubmissionResult(student, f"{student}.ipynb", 0.0, 10.0, "unreadable", error=error)


# ---------------------------------------------------------------- reports: columns and the rule


def test_csv_has_every_exercise_column_when_nothing_was_graded():
    batch = BatchResult("dnn", 10.0, ENV, (_unreadable("carol"),), exercises=("init", "forward"))
    rows = list(csv.reader(io.StringIO(grades_csv(batch))))
    assert rows == [
        ["student", "submission", "score", "max_score", "init", "forward"],
        ["carol", "carol.ipynb", "0", "10", "", ""],
    ]


def test_grades_json_carries_the_exercises_and_the_missing_status():
    import jsonschema

    missing = SubmissionResult(
        "s3",
        "/c/submitted/s3/dnn",
        0.0,
        10.0,
        "missing",
        error="No notebook was submitted (no .ipynb file in dnn/).",
    )
    batch = BatchResult("dnn", 10.0, ENV, (missing,), exercises=("init", "forward"))
    data = json.loads(grades_json(batch))
    jsonschema.Draft202012Validator(GRADES_SCHEMA).validate(data)
    assert data["exercises"] == ["init", "forward"]
    assert batch_from_dict(data) == batch
    assert (
        "missing"
        in GRADES_SCHEMA["properties"]["submissions"]["items"]["properties"]["status"]["enum"]
    )


def test_unreadable_and_missing_score_0_in_the_terminal_the_csv_and_the_mean():
    graded = SubmissionResult(
        "alice",
        "alice.ipynb",
        10.0,
        10.0,
        "graded",
        exercises=(ExerciseResult("init", 10.0, 10.0, "passed"),),
    )
    missing = SubmissionResult(
        "s3",
        "/c/submitted/s3/dnn",
        0.0,
        10.0,
        "missing",
        error="No notebook was submitted (no .ipynb file in dnn/).",
    )
    batch = BatchResult(
        "dnn", 10.0, ENV, (graded, _unreadable("carol"), missing), exercises=("init",)
    )
    text = summary_text(batch)
    assert "Submissions: 3 (1 graded, 1 unreadable, 1 missing)" in text
    assert "mean 3.3" in text  # (10 + 0 + 0) / 3, rounded for people
    scores = {
        line.split()[0]: line.split()[1]
        for line in text.splitlines()
        if line.startswith(("carol ", "s3 "))
    }
    assert scores == {"carol": "0", "s3": "0"}
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades_csv(batch)))}
    assert (rows["carol"]["score"], rows["s3"]["score"]) == ("0", "0")
    assert [s["score"] for s in json.loads(grades_json(batch))["submissions"]] == [10.0, 0, 0]
    assert 'name="s3"' in junit_xml(batch) and "No notebook was submitted" in junit_xml(batch)


def test_a_long_reason_is_cut_at_a_word_with_an_ellipsis():
    batch = BatchResult("dnn", 10.0, ENV, (_unreadable("carol", LONG_REASON),))
    line = next(line for line in summary_text(batch).splitlines() if line.startswith("carol"))
    reason = re.split(r"\s{2,}", line)[2]
    assert reason.endswith("...") and len(reason) <= 70
    kept = reason[:-3]
    full = f"unreadable: {LONG_REASON}"
    assert full.startswith(kept) and full[len(kept)] == " "  # cut between two words


# ---------------------------------------------------------------- finding submissions


def test_an_empty_nbgrader_folder_is_a_missing_submission(tmp_path):
    course = tmp_path / "course"
    _put(course / "submitted" / "s1" / "dnn" / "hw.ipynb", b"{}")
    (course / "submitted" / "s2" / "dnn" / ".ipynb_checkpoints").mkdir(parents=True)
    found = find_submissions([course])
    assert [(s.student, s.missing) for s in found] == [("s1", False), ("s2", True)]
    assert found[1].path == (course / "submitted" / "s2" / "dnn").resolve()
    for paths in ([course / "submitted" / "s2"], [course / "submitted" / "s2" / "dnn"]):
        assert [(s.student, s.missing) for s in find_submissions(paths)] == [("s2", True)]


def test_two_notebooks_in_one_folder_are_one_student_graded_on_the_newest(tmp_path):
    folder = tmp_path / "course" / "submitted" / "s1" / "dnn"
    _put(folder / "a_final.ipynb", b"{}", mtime=2_000_000)
    _put(folder / "b_draft.ipynb", b"{}", mtime=1_000_000)
    _put(tmp_path / "course" / "submitted" / "s1" / "ps1" / "hw.ipynb", b"{}")
    found = find_submissions([tmp_path / "course"])
    assert [(s.student, s.path.name) for s in found] == [
        ("s1/dnn", "a_final.ipynb"),
        ("s1/ps1", "hw.ipynb"),
    ]
    assert found[0].warning == (
        f"s1: 2 notebooks in {folder.resolve()} (a_final.ipynb, "
        "b_draft.ipynb); grading a_final.ipynb, the most recently "
        "modified, as this student's one submission"
    )
    assert found[1].warning == ""


# ---------------------------------------------------------------- the command


def test_an_nbgrader_tree_with_missing_and_doubled_notebooks(notebooks, tmp_path):
    submitted = tmp_path / "course" / "submitted"
    _put(
        submitted / "s1" / "dnn_step_by_step" / "old.ipynb",
        notebooks["mistake_linear_forward.ipynb"],
        mtime=1_000_000,
    )
    _put(
        submitted / "s1" / "dnn_step_by_step" / "new.ipynb",
        notebooks["alice_correct.ipynb"],
        mtime=2_000_000,
    )
    (submitted / "s2" / "dnn_step_by_step").mkdir(parents=True)
    out = tmp_path / "out"
    args = ["grade", str(tmp_path / "course"), "--out", str(out), "-q", *FAST]
    for _run in range(2):  # the second from the journal: the missing one is not in it
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (result.output, result.exception)
        assert result.stderr.startswith("warning: s1: 2 notebooks in ")
        assert "(new.ipynb, old.ipynb); grading new.ipynb, the most recently" in result.stderr
        rows = list(csv.DictReader((out / "grades.csv").open()))
        assert [(r["student"], r["score"]) for r in rows] == [("s1", "100"), ("s2", "0")]
        assert list(rows[1])[4:] == list(EXERCISES)
    data = json.loads((out / "grades.json").read_text())
    assert [s["status"] for s in data["submissions"]] == ["graded", "missing"]
    assert data["exercises"] == list(EXERCISES)
    page = (out / "feedback" / "s2.md").read_text()
    assert "No notebook was submitted" in page and str(tmp_path) not in page


def test_fail_under_above_the_maximum_is_a_usage_error_before_grading(notebooks, tmp_path):
    notebook = _put(tmp_path / "alice.ipynb", notebooks["alice_correct.ipynb"])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(notebook),
            "--out",
            str(out),
            "--release",
            str(RELEASE_DIR),
            "--fail-under",
            "101",
            *FAST,
        ],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --fail-under 101 is above the maximum score of "
        "dnn_step_by_step (100): every submission would fail\n"
    )
    assert not (out / "grades.csv").exists() and not (out / ".grader-journal.jsonl").exists()


def test_sample_and_grade_work_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(RELEASE_ROOT_VARIABLE, raising=False)
    runner = CliRunner()
    made = runner.invoke(cli, ["sample", "subs"])
    assert made.exit_code == 0, (made.output, made.exception)
    result = runner.invoke(
        cli, ["grade", "subs/dnn_step_by_step/alice_correct.ipynb", "--out", "out", *FAST]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    row = next(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
    assert (row["student"], row["score"]) == ("alice_correct", "100")


def test_the_release_root_variable_is_used_and_named_when_wrong(tmp_path, monkeypatch):
    monkeypatch.setenv(RELEASE_ROOT_VARIABLE, str(RELEASE_DIR.parent))
    assert find_folder("dnn_step_by_step") == RELEASE_DIR
    monkeypatch.setenv(RELEASE_ROOT_VARIABLE, str(tmp_path))
    with pytest.raises(UsageError, match=f"^{RELEASE_ROOT_VARIABLE}=.* has no dnn_step_by_step"):
        find_folder("dnn_step_by_step")
    (tmp_path / "hw.ipynb").write_text(
        json.dumps({"metadata": {"grader": {"assignment": "dnn_step_by_step"}}})
    )
    result = CliRunner().invoke(
        cli, ["grade", str(tmp_path / "hw.ipynb"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"{RELEASE_ROOT_VARIABLE}={tmp_path} has no dnn_step_by_step folder" in result.stderr


def _named(path: Path, assignment: str) -> Path:
    return _put(path, json.dumps({"metadata": {"grader": {"assignment": assignment}}}).encode())


def test_the_assignment_comes_from_the_nbgrader_folder_or_the_metadata(tmp_path):
    by_folder = _put(tmp_path / "c" / "submitted" / "s1" / "dnn_application" / "hw.ipynb", b"{}")
    assert assignment_of(find_submissions([by_folder])) == "dnn_application"
    named = _named(tmp_path / "hw.ipynb", "dnn_step_by_step")
    assert assignment_of(find_submissions([named])) == "dnn_step_by_step"
    # with two kits installed, a notebook that names none cannot be guessed
    unknown = _put(tmp_path / "c" / "submitted" / "s1" / "ps9" / "hw.ipynb", b"{}")
    with pytest.raises(UsageError, match="cannot tell which assignment .* pass --release"):
        assignment_of(find_submissions([unknown]))


def test_submissions_of_two_assignments_are_two_groups(tmp_path):
    first = _named(tmp_path / "a.ipynb", "dnn_step_by_step")
    second = _named(tmp_path / "b.ipynb", "dnn_application")
    groups = assignment_groups(find_submissions([tmp_path]))
    assert {name: [s.path for s in group] for name, group in groups.items()} == {
        "dnn_application": [second],
        "dnn_step_by_step": [first],
    }
    _put(tmp_path / "c.ipynb", b"{}")  # names none: joins no group among several
    with pytest.raises(UsageError, match="2 assignments .* 1 name none"):
        assignment_groups(find_submissions([tmp_path]))
    with pytest.raises(UsageError, match="belong to 2 assignments"):
        assignment_of(find_submissions([first, second]))


# ---------------------------------------------------------------- the Python API


def test_the_api_takes_one_path_and_its_limits_come_from_grader(notebooks, tmp_path):
    from grader import Limits, Options, grade

    assert {"grade", "Options", "Limits"} <= set(grader.__all__)
    notebook = _put(tmp_path / "alice.ipynb", notebooks["alice_correct.ipynb"])
    options = Options(limits=Limits(call_timeout=2.0), jobs=1)
    for path in (str(notebook), notebook):
        batch = grade(path, release_dir=RELEASE_DIR, options=options)
        assert [(s.student, s.score) for s in batch.submissions] == [("alice", 100.0)]
    assert batch.exercises == EXERCISES


def test_the_api_names_its_own_arguments_in_errors(tmp_path):
    (tmp_path / "hw.ipynb").write_text("{}")
    with pytest.raises(UsageError) as raised:
        grader.grade(tmp_path, release_dir=tmp_path / "none")
    assert str(raised.value).startswith(f"release_dir='{tmp_path / 'none'}' does not exist")
    assert "--" not in str(raised.value)


def test_the_api_warns_about_a_doubled_notebook(notebooks, tmp_path):
    folder = tmp_path / "submitted" / "s1" / "dnn_step_by_step"
    _put(folder / "a.ipynb", notebooks["alice_correct.ipynb"], mtime=2_000_000)
    _put(folder / "b.ipynb", b"not a notebook", mtime=1_000_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = grader.grade(
            tmp_path / "submitted",
            release_dir=RELEASE_DIR,
            options=grader.Options(limits=grader.Limits(call_timeout=2.0), jobs=1),
        )
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any("2 notebooks in" in m and "grading a.ipynb" in m for m in messages)
    assert [(s.student, s.score) for s in batch.submissions] == [("s1", 100.0)]
