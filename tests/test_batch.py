"""End to end: a batch of synthetic submissions through `grader.grade` and `grader grade`."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader.assignments.dnn_step_by_step.samples import MISTAKES, sample_batch
from grader.cli import cli
from grader.grading.options import Options
from grader.reports import GRADES_SCHEMA
from grader.results import batch_to_dict
from grader.sandbox.server import Limits

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"
FAST = Options(limits=Limits(call_timeout=2.0, cells_timeout=4.0, submission_timeout=60.0))


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    for name, data in sample_batch(SOLUTIONS, RELEASE).items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def graded(batch_dir):
    batch = grader.grade([batch_dir], release_dir=RELEASE, options=FAST)
    return {s.student: s for s in batch.submissions}, batch


def statuses(result) -> dict[str, str]:
    return {e.name: e.status for e in result.exercises}


def test_correct_submission_scores_full_marks(graded):
    by_student, batch = graded
    alice = by_student["alice_correct"]
    assert alice.status == "graded" and alice.score == alice.max_score == 100
    assert set(statuses(alice).values()) == {"passed"}
    assert batch.max_score == 100 and batch.assignment == "dnn_step_by_step"


def test_original_course_layout_grades(graded):
    carol = graded[0]["carol_original_course_layout"]
    assert carol.score == 100, statuses(carol)


def test_saved_outputs_are_never_evidence(graded):
    bob = graded[0]["bob_release_with_faked_outputs"]
    assert bob.score == 0
    assert set(statuses(bob).values()) == {"error"}
    message = bob.exercise("linear_forward").checks[0].message
    assert "NotImplementedError" in message


def test_infinite_loop_costs_only_its_exercise(graded):
    dave = graded[0]["dave_infinite_loop"]
    assert statuses(dave)["L_model_backward"] == "timeout"
    assert dave.exercise("L_model_backward").score == 0
    assert dave.score == 90
    assert dave.exercise("L_model_backward").error == (
        "L_model_backward did not return within 1 s (100 times what the model solution needs, "
        "at least 1 s)"
    )  # the hidden calls' bound; the demo cell itself had 2 s
    assert any("did not finish" in line for line in dave.cell_errors)


def test_a_function_stuck_in_its_demo_cell_is_not_called_again(batch_dir, graded, monkeypatch):
    """The hang costs one limit, not two, and the grade is the same as if the hidden
    check had waited it out (so a regrade cannot differ whichever way the race went)."""
    import grader.sandbox.session as session_module

    called = []
    original = session_module.Session.calls

    def recording(self, batch, *args, **kwargs):
        called.append(batch.function)
        return original(self, batch, *args, **kwargs)

    monkeypatch.setattr(session_module.Session, "calls", recording)
    options = Options(limits=FAST.limits, jobs=1)
    dave = grader.grade(
        [batch_dir / "dave_infinite_loop.ipynb"], release_dir=RELEASE, options=options
    ).submissions[0]
    assert "L_model_backward" not in called and "L_model_forward" in called
    monkeypatch.setattr(session_module.Session, "_interrupt", lambda self, index: None)
    waited = grader.grade(
        [batch_dir / "dave_infinite_loop.ipynb"], release_dir=RELEASE, options=options
    ).submissions[0]
    assert called.count("L_model_backward") == 1
    assert dave.exercises == waited.exercises == graded[0]["dave_infinite_loop"].exercises
    assert dave.cell_errors == waited.cell_errors


def test_crash_is_an_error_with_the_students_traceback(graded):
    erin = graded[0]["erin_crash"].exercise("linear_activation_backward")
    assert erin.status == "error"
    assert 0 < erin.score < erin.max_score  # the relu cases still pass
    assert "undefined_name" in erin.error


def test_deleted_function_is_missing(graded):
    grace = graded[0]["grace_deleted_compute_cost"]
    assert statuses(grace)["compute_cost"] == "missing"
    assert grace.exercise("compute_cost").score == 0
    assert grace.score == 90  # the demo cell that called it raised; nothing else is lost
    assert any("compute_cost" in line for line in grace.cell_errors)


def test_every_status_appears_in_the_sample_batch(graded):
    seen = {e.status for s in graded[0].values() for e in s.exercises}
    assert seen == {"passed", "failed", "error", "timeout", "missing"}
    assert {s.status for s in graded[0].values()} == {"graded", "unreadable"}


def test_unreadable_file_is_recorded(graded):
    frank = graded[0]["frank_not_a_notebook"]
    assert frank.status == "unreadable" and frank.score == 0
    assert "not valid JSON" in frank.error


@pytest.mark.parametrize("exercise", sorted(MISTAKES))
def test_each_typical_mistake_costs_its_exercise_only(graded, exercise):
    result = graded[0][f"mistake_{exercise}"]
    assert statuses(result)[exercise] == "failed"
    assert result.exercise(exercise).score < result.exercise(exercise).max_score
    others = {name: status for name, status in statuses(result).items() if name != exercise}
    assert set(others.values()) == {"passed"}, others  # isolation: one mistake, one exercise
    failed = [c for c in result.exercise(exercise).checks if not c.passed]
    assert failed and all(c.message for c in failed)


def test_in_place_update_of_older_course_versions_costs_nothing(tmp_path):
    """Older versions of the course had update_parameters write into the caller's dict:
    correct code written that way gets full marks (the kit tolerates it there only)."""
    from grader.assignments.dnn_step_by_step.samples import NOTEBOOK, with_function
    from grader.grading.notebooks import notebook_bytes, read_notebook

    older = with_function(
        read_notebook(SOLUTIONS / NOTEBOOK),
        "update_parameters",
        """
def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l+1)] = parameters["W" + str(l+1)] - learning_rate * grads["dW" + str(l+1)]
        parameters["b" + str(l+1)] = parameters["b" + str(l+1)] - learning_rate * grads["db" + str(l+1)]
    return parameters
""",  # noqa: E501 (the student's own long lines)
    )
    (tmp_path / "older.ipynb").write_bytes(notebook_bytes(older))
    result = grader.grade(tmp_path / "older.ipynb", release_dir=RELEASE).submissions[0]
    exercise = result.exercise("update_parameters")
    assert exercise.status == "passed" and exercise.score == exercise.max_score
    assert not any("in place" in c.message for c in exercise.checks)


def test_without_isolation_a_mistake_spreads(batch_dir):
    options = Options(limits=FAST.limits, isolation=False)
    batch = grader.grade(
        [batch_dir / "mistake_linear_forward.ipynb"], release_dir=RELEASE, options=options
    )
    result = batch.submissions[0]
    assert statuses(result)["L_model_forward"] == "failed"
    assert batch.environment.isolation is False


def test_regrade_is_identical(batch_dir, graded):
    again = grader.grade([batch_dir], release_dir=RELEASE, options=FAST)
    first = batch_to_dict(graded[1])
    assert batch_to_dict(again)["submissions"] == first["submissions"]


def test_cli_writes_reports_and_exit_codes(batch_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    args = [
        "grade",
        str(batch_dir / "alice_correct.ipynb"),
        str(batch_dir / "mistake_compute_cost.ipynb"),
        "--out",
        str(out),
        "--release",
        str(RELEASE),
        "--timeout",
        "2",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert {"grades.csv", "grades.json", "junit.xml", "feedback"} <= {p.name for p in out.iterdir()}
    data = json.loads((out / "grades.json").read_text())
    assert [s["student"] for s in data["submissions"]] == ["alice_correct", "mistake_compute_cost"]
    assert "mean" in result.output.lower()
    failing = runner.invoke(cli, args + ["--fail-under", "95"])
    assert failing.exit_code == 1
    assert "mistake_compute_cost" in failing.output


def test_binary_and_ancient_notebooks_are_unreadable_and_the_batch_goes_on(tmp_path, batch_dir):
    (tmp_path / "binary.ipynb").write_bytes(bytes(range(256)) * 4)
    # nbformat 3 whose worksheets nbformat cannot upgrade, and a future major version
    (tmp_path / "v3.ipynb").write_text(
        json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": "x", "metadata": {}})
    )
    (tmp_path / "v9.ipynb").write_text(
        json.dumps({"nbformat": 9, "nbformat_minor": 0, "cells": [], "metadata": {}})
    )
    (tmp_path / "ok.ipynb").write_bytes((batch_dir / "alice_correct.ipynb").read_bytes())
    batch = grader.grade([tmp_path], release_dir=RELEASE, options=FAST)
    by_student = {s.student: s for s in batch.submissions}
    for student in ("binary", "v3", "v9"):
        assert by_student[student].status == "unreadable" and by_student[student].score == 0
    assert "UTF-8" in by_student["binary"].error
    assert "not a valid notebook" in by_student["v3"].error
    assert "nbformat version 9" in by_student["v9"].error
    assert by_student["ok"].score == 100


def test_nbgrader_course_tree_via_cli(batch_dir, tmp_path):
    course = tmp_path / "course"
    for student, source in (("s001", "alice_correct"), ("s002", "mistake_linear_forward")):
        target = course / "submitted" / student / "dnn_step_by_step" / "notebook.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes((batch_dir / f"{source}.ipynb").read_bytes())
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["grade", str(course), "--out", str(out), "--release", str(RELEASE), "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [(r["student"], float(r["score"])) for r in rows] == [("s001", 100.0), ("s002", 90.0)]
    assert float(rows[1]["linear_forward"]) < 10
    assert result.stderr == ""  # one assignment: nothing to warn about
    other = course / "submitted" / "s001" / "ps1" / "other.ipynb"
    other.parent.mkdir()
    other.write_bytes((batch_dir / "alice_correct.ipynb").read_bytes())
    (course / "source" / "dnn_step_by_step").mkdir(parents=True)
    (course / "source" / "dnn_step_by_step" / "notebook.ipynb").write_text("{}")
    both = CliRunner().invoke(
        cli, ["grade", str(course), "--out", str(out), "--release", str(RELEASE), "-q"]
    )
    assert both.exit_code == 0
    assert both.stderr.startswith(
        "warning: notebooks of 2 nbgrader assignments "
        "(dnn_step_by_step, ps1) are all graded against "
    )
    assert [r["student"] for r in csv.DictReader((out / "grades.csv").open())] == [
        "s001/dnn_step_by_step",
        "s001/ps1",
        "s002",
    ]  # source/ is not a student


def test_grades_json_of_a_real_run_matches_the_schema(batch_dir, tmp_path):
    import jsonschema

    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(batch_dir / "erin_crash.ipynb"),
            str(batch_dir / "frank_not_a_notebook.ipynb"),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "grades.json").read_text())
    jsonschema.validate(data, GRADES_SCHEMA)
    env = data["environment"]
    assert env["isolation"] is True and env["limits"]["call_timeout"] == 10.0
    assert env["numpy"] and env["python"] and env["grader_version"]
    assert env["sandbox"].startswith(("namespaces", "rlimits only"))


def test_cli_usage_errors(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["grade", str(tmp_path / "nope.ipynb"), "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad_release = runner.invoke(
        cli,
        ["grade", str(tmp_path), "--out", str(tmp_path / "o"), "--release", str(tmp_path / "none")],
    )
    assert bad_release.exit_code == 2
    bad_flag = runner.invoke(
        cli, ["grade", str(tmp_path), "--out", str(tmp_path), "--timeout", "-1"]
    )
    assert bad_flag.exit_code == 2


@pytest.mark.parametrize(
    "command",
    [
        ["grade", "{subs}", "--out", "{file}"],
        ["grade", "{subs}", "--out", "{file}/below"],
        ["sample", "{file}"],
        ["release", "--release", "{file}"],
        ["release", "--solutions", "{file}/below"],
        ["grade", "{subs}", "--out", "{file}-out", "--release", "{file}"],
    ],
)
def test_a_folder_option_that_names_a_file_is_a_usage_error(batch_dir, tmp_path, command):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("mine")
    args = [a.format(subs=batch_dir / "alice_correct.ipynb", file=in_the_way) for a in command]
    if args[0] == "release":  # into tmp_path: never the checkout's own folders
        args += [
            flag
            for name in ("--release", "--solutions")
            if name not in args
            for flag in (name, str(tmp_path / name.strip("-")))
        ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert str(in_the_way) in result.stderr
    assert isinstance(result.exception, SystemExit)  # an exit code, not a traceback
    assert in_the_way.read_text() == "mine"


@pytest.mark.parametrize("damage", ["deleted", "broken"])
def test_a_release_with_a_damaged_helper_is_a_usage_error(batch_dir, tmp_path, damage):
    release = tmp_path / "release"
    shutil.copytree(RELEASE, release)
    if damage == "deleted":
        (release / "testCases.py").unlink()
    else:
        with (release / "testCases.py").open("a") as handle:
            handle.write("\ndef broken(:\n")
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(batch_dir / "alice_correct.ipynb"),
            "--out",
            str(tmp_path / "out"),
            "--release",
            str(release),
            "-q",
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot use release folder {release}: ")
    assert result.stderr.count("\n") == 1
    assert (
        "testCases.py" in result.stderr if damage == "deleted" else "SyntaxError" in result.stderr
    )


def test_a_folder_without_notebooks_is_a_usage_error_and_writes_nothing(tmp_path):
    """A CI job whose path or glob finds no notebook must fail, not pass on empty reports."""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "notes.txt").write_text("no notebook here")
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
            "--release",
            str(RELEASE),
            "-q",
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: no notebooks (*.ipynb) found in {tmp_path / 'subs'}; "
        "nothing graded, nothing written\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_file_the_machine_refuses_is_one_line_not_a_traceback(batch_dir, tmp_path, monkeypatch):
    import errno

    import grader.reports

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out" / "grades.csv"))

    monkeypatch.setattr(grader.reports, "write_reports", full)
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(batch_dir / "alice_correct.ipynb"),
            "--out",
            str(tmp_path / "out"),
            "--release",
            str(RELEASE),
            "-q",
            "--jobs",
            "1",
        ],
    )
    assert result.exit_code == 1
    assert result.stderr == f"error: No space left on device: {tmp_path / 'out' / 'grades.csv'}\n"
    assert (tmp_path / "out" / ".grader-journal.jsonl").stat().st_size > 0  # the grade is kept


def test_gradescope_output_for_one_submission(batch_dir, tmp_path):
    target = tmp_path / "results.json"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(batch_dir / "mistake_linear_backward.ipynb"),
            "--out",
            str(tmp_path / "o"),
            "--release",
            str(RELEASE),
            "--gradescope",
            str(target),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text())
    assert len(data["tests"]) == 10
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    assert data["score"] < 100


@pytest.mark.parametrize("count", [0, 2])
def test_gradescope_is_told_when_an_upload_is_not_one_notebook(batch_dir, tmp_path, count):
    """Without a results.json, Gradescope shows only "the autograder failed to execute"."""
    upload = tmp_path / "submission"
    upload.mkdir()
    for name in ("alice_correct.ipynb", "erin_crash.ipynb")[:count]:
        shutil.copy(batch_dir / name, upload / name)
    target = tmp_path / "results" / "results.json"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(upload),
            "--out",
            str(tmp_path / "o"),
            "--release",
            str(RELEASE),
            "--gradescope",
            str(target),
            "-q",
        ],
    )
    assert result.exit_code == 2
    assert f"--gradescope needs exactly one submission, found {count}" in result.stderr
    data = json.loads(target.read_text())
    assert data["score"] == 0 and [t["max_score"] for t in data["tests"]] == [100]
    assert f"exactly one notebook (.ipynb); found {count}" in data["output"]
    if count:
        assert "alice_correct.ipynb, erin_crash.ipynb" in data["tests"][0]["output"]


def test_a_grader_fault_costs_one_submission_not_the_batch(batch_dir, monkeypatch):
    import grader.grading.pipeline

    original = grader.grading.pipeline.score_exercise

    def flaky(name, *args, **kwargs):
        if name == "compute_cost":
            raise RuntimeError("simulated grader bug")
        return original(name, *args, **kwargs)

    monkeypatch.setattr(grader.grading.pipeline, "score_exercise", flaky)
    options = Options(limits=FAST.limits, jobs=1)
    batch = grader.grade(
        [batch_dir / "alice_correct.ipynb", batch_dir / "erin_crash.ipynb"],
        release_dir=RELEASE,
        options=options,
    )
    assert [s.status for s in batch.submissions] == ["not_graded", "not_graded"]
    assert all(
        "fault of the grader" in s.error and "simulated grader bug" in s.error
        for s in batch.submissions
    )


def test_a_machine_fault_is_not_the_students_and_the_next_run_grades_it(
    batch_dir, tmp_path, monkeypatch
):
    """A fork refused for lack of processes (a real failure under load): no score, exit 3
    with one line, and the rerun grades that submission instead of reusing the fault."""
    from grader.sandbox.server import Sandbox, SandboxError

    real_fork, refused = Sandbox._fork, []

    def fork(self, request, helper_dir):
        if not refused:
            refused.append(True)
            raise SandboxError(
                "cannot start a process for the submission: "
                "[Errno 11] Resource temporarily unavailable"
            )
        return real_fork(self, request, helper_dir)

    monkeypatch.setattr(Sandbox, "_fork", fork)
    out = tmp_path / "out"
    args = [
        "grade",
        str(batch_dir / "alice_correct.ipynb"),
        str(batch_dir / "mistake_compute_cost.ipynb"),
        "--out",
        str(out),
        "--release",
        str(RELEASE),
        "--timeout",
        "2",
        "--jobs",
        "1",
        "-q",
        "--fail-under",
        "95",
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 3, first.output
    error = first.stderr.strip()
    assert error.startswith("error: 1 submission not graded because of a fault of the grader")
    assert "alice_correct" in error and "\n" not in error and "run the same command" in error
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert rows["alice_correct"]["score"] == "" and rows["mistake_compute_cost"]["score"] != ""
    data = json.loads((out / "grades.json").read_text())
    assert [s["status"] for s in data["submissions"]] == ["not_graded", "graded"]
    assert "Resource temporarily unavailable" in data["submissions"][0]["error"]
    feedback = (out / "feedback" / "alice_correct.md").read_text()
    assert "fault of the grader" in feedback

    second = CliRunner().invoke(cli, [a for a in args[:-2] if a != "-q"])
    assert second.exit_code == 0, second.output
    assert "1 of 2 submissions unchanged" in second.stderr  # only the other one was reused
    data = json.loads((out / "grades.json").read_text())
    assert [(s["status"], s["score"]) for s in data["submissions"]][0] == ("graded", 100)


def test_weak_sandbox_is_announced_once_and_recorded(batch_dir, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(batch_dir / "alice_correct.ipynb"),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "--sandbox",
            "rlimits",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: submissions are not fully isolated: "
        "rlimits only: asked for with the sandbox mode 'rlimits' (--sandbox rlimits)"
    ]
    data = json.loads((out / "grades.json").read_text())
    assert data["environment"]["sandbox"].startswith("rlimits only")
    assert data["submissions"][0]["score"] == 100


def test_strong_sandbox_is_recorded_without_warning(batch_dir, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(batch_dir / "alice_correct.ipynb"),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    sandbox = json.loads((out / "grades.json").read_text())["environment"]["sandbox"]
    assert ("warning:" in result.stderr) == (not sandbox.startswith("namespaces"))


def test_judging_by_bytes_changes_no_result(batch_dir, graded, monkeypatch):
    """Results equal to the expected encoding skip decoding and comparing, and sealed
    answers spare callbacks; without either shortcut every score, status and message is
    the same."""
    import dataclasses

    import grader.grading.pipeline

    original = grader.grading.pipeline.plan

    def without_shortcut(kit, helper_dir):
        plans = original(kit, helper_dir)
        return {
            name: dataclasses.replace(
                p,
                encodings=tuple((b"-", b"-") for _ in p.encodings),
                batch=dataclasses.replace(p.batch, answers=None),
            )
            for name, p in plans.items()
        }

    monkeypatch.setattr(grader.grading.pipeline, "plan", without_shortcut)
    slow = grader.grade([batch_dir], release_dir=RELEASE, options=FAST)
    fast = graded[1]
    assert len(slow.submissions) == len(fast.submissions) > 10
    for a, b in zip(slow.submissions, fast.submissions):
        assert (a.student, a.score, a.status, a.exercises) == (
            b.student,
            b.score,
            b.status,
            b.exercises,
        )
    assert any(s.score == s.max_score for s in fast.submissions)


def test_sealed_answers_do_not_show_the_expected_values():
    """The request for L_model_forward carries its dependency's answers, sealed: none of
    the reference's outputs is readable in it."""
    import base64

    from grader.assignments import get_kit
    from grader.grading.checks import plan

    plans = plan(get_kit("dnn_step_by_step"), RELEASE)
    exercise = plans["L_model_forward"]
    assert exercise.batch.answers and exercise.batch.answers["sealed"]
    request = exercise.batch.request
    for check in exercise.checks:
        AL = check.expected[0]
        assert base64.b64encode(AL.tobytes()) not in request
    assert exercise.plain_batch.answers is None


@pytest.mark.parametrize(
    "names, jobs",
    [(["alice_correct"], "0"), (["alice_correct", "erin_crash", "mistake_compute_cost"], "2")],
)
def test_the_command_grades_in_the_sandboxes_it_started_first(
    batch_dir, tmp_path, monkeypatch, names, jobs
):
    """The command starts the workers' sandboxes before loading the rest of the grader,
    and takes the isolation from them: one helper process per worker, no separate probe."""
    from grader.sandbox.server import Sandbox

    started = []
    original = Sandbox._spawn
    monkeypatch.setattr(Sandbox, "_spawn", lambda self: started.append(self) or original(self))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            *(str(batch_dir / f"{n}.ipynb") for n in names),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "-q",
            "--jobs",
            jobs,
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(started) == min(len(names), int(jobs) or 2)
    assert all(sandbox._preload for sandbox in started)  # the real ones, numpy and all
    assert all(sandbox._process.poll() is not None for sandbox in started)  # and ended
    data = json.loads((out / "grades.json").read_text())
    assert [s["score"] == 100 for s in data["submissions"]] == [n == "alice_correct" for n in names]
    assert data["environment"]["sandbox"] == started[0]._ready["isolation"]


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and util-linux setpriv to take CAP_SYS_ADMIN away",
)
def test_namespaces_required_where_there_are_none_is_a_usage_error(batch_dir, tmp_path):
    """The sandbox started first refuses at its first use: still one line and exit 2."""
    result = subprocess.run(
        [
            "setpriv",
            "--bounding-set",
            "-sys_admin",
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(batch_dir / "alice_correct.ipynb"),
            "--out",
            str(tmp_path / "out"),
            "--release",
            str(RELEASE),
            "--sandbox",
            "namespaces",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: the sandbox cannot isolate submissions: no namespaces here "
        "(unshare: Operation not permitted)"
    ]


def test_the_command_also_runs_from_a_thread(batch_dir, tmp_path):
    """Signal handlers are the main thread's: a host that runs the command in a thread
    (a server, a notebook) still gets grades."""
    import threading

    results = []
    thread = threading.Thread(
        target=lambda: results.append(
            CliRunner().invoke(
                cli,
                [
                    "grade",
                    str(batch_dir / "alice_correct.ipynb"),
                    "--out",
                    str(tmp_path / "out"),
                    "--release",
                    str(RELEASE),
                    "-q",
                    "--jobs",
                    "1",
                ],
            )
        )
    )
    thread.start()
    thread.join(120)
    assert results and results[0].exit_code == 0, results and results[0].output
    assert (
        json.loads((tmp_path / "out" / "grades.json").read_text())["submissions"][0]["score"] == 100
    )
