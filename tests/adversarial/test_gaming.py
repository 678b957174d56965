"""Rules a submission could game (issue 13): each test is an attack on one rule.

Exiting to drop the checks it would fail, a decoy copy of a locked cell, escape
sequences in file names, and a file name that takes another student's feedback page
or one of the kit's own.
"""

from __future__ import annotations

import copy
import re

import pytest
from click.testing import CliRunner

import grader
from grader.assignments import get_kit
from grader.assignments.dnn_step_by_step.samples import NOTEBOOK, with_edited_test, with_function
from grader.cli import cli
from grader.errors import UsageError
from grader.grading.checks import CallLimit, hung_in_notebook, plan
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.grading.options import Options
from grader.grading.tamper import check, locked_checksums
from grader.reports import RESERVED_STEMS, feedback_file_stems
from grader.results import SubmissionResult

from .adversarial_support import LIMITS
from .attack_notebooks import RELEASE, SOLUTIONS

# --- exiting once a case cannot be handled ------------------------------------------------

# relu not handled: wrong on each of the 5 relu cases, right on the 5 sigmoid ones
HONEST = """
def linear_activation_backward(dA, cache, activation):
    linear_cache, activation_cache = cache
    dZ = sigmoid_backward(dA, activation_cache)
    return linear_backward(dZ, linear_cache)
"""
# the same, but at the first relu case past the public example, when the grader calls it,
# the process ends: the remaining checks (three of them right) never run
EXITING = """
def linear_activation_backward(dA, cache, activation):
    import os, sys
    linear_cache, activation_cache = cache
    from_grader = not sys._getframe(1).f_code.co_filename.startswith("<cell")
    if activation == "relu" and from_grader and dA.shape[0] != 1:
        os._exit(0)
    dZ = sigmoid_backward(dA, activation_cache)
    return linear_backward(dZ, linear_cache)
"""
EXERCISE = "linear_activation_backward"
NOT_RUN = f"{EXERCISE} could not run on this case: an earlier call ended the process."


def test_exiting_at_a_hard_case_scores_no_more_than_failing_it(tmp_path):
    solved = read_notebook(SOLUTIONS / NOTEBOOK)
    for name, source in (("honest", HONEST), ("exiting", EXITING)):
        (tmp_path / f"{name}.ipynb").write_bytes(
            notebook_bytes(with_function(solved, EXERCISE, source))
        )
    batch = grader.grade([tmp_path], release_dir=RELEASE, options=Options(limits=LIMITS))
    results = {s.student: {e.name: e for e in s.exercises}[EXERCISE] for s in batch.submissions}
    honest, exiting = results["honest"], results["exiting"]
    planned = len(plan(get_kit("dnn_step_by_step"), RELEASE)[EXERCISE].checks)
    assert planned == 10
    # honest: 5 sigmoid cases and "arguments unchanged" of 11
    assert honest.status == "failed" and len(honest.checks) == planned + 1
    assert honest.score == round(10 * 6 / 11, 4)
    # exiting: the sigmoid example and the first generated sigmoid case pass, the relu
    # example fails, the next call ends the process, the 6 after it never run (scored
    # 6.0 when only the checks that ran counted)
    assert exiting.status == "error"
    assert len(exiting.checks) == planned + 1
    passed = [c.name for c in exiting.checks if c.passed]
    assert len(passed) == 3 and passed[-1] == "leaves its arguments unchanged"
    assert [c.message for c in exiting.checks[4:planned]] == [NOT_RUN] * 6
    assert "the process running it ended" in exiting.checks[3].message
    assert exiting.score == round(10 * len(passed) / (planned + 1), 4) <= honest.score


def test_checks_after_a_timeout_fail_and_say_why():
    exercise = plan(get_kit("dnn_step_by_step"), RELEASE)["compute_cost"]
    run = hung_in_notebook(exercise, CallLimit(1.0))
    assert run.call_statuses == ("timeout",)
    assert len(run.checks) == len(exercise.checks) and not any(c.passed for c in run.checks)
    assert run.checks[0].message == "compute_cost did not finish within 1 s."
    assert {c.message for c in run.checks[1:]} == {
        "compute_cost could not run on this case: an earlier call ran out of time."
    }


# --- a decoy copy of a locked cell ----------------------------------------------------------


def _locked_cell(notebook, grade_id: str):
    return next(
        c for c in notebook.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") == grade_id
    )


def test_an_untouched_copy_before_an_edited_locked_cell_hides_nothing():
    release, solved = read_notebook(RELEASE / NOTEBOOK), read_notebook(SOLUTIONS / NOTEBOOK)
    expected = locked_checksums(release)
    edited = with_edited_test(solved, "linear_forward")
    cell = _locked_cell(edited, "linear_forward_test")
    decoy = copy.deepcopy(_locked_cell(release, "linear_forward_test"))
    edited.cells.insert(edited.cells.index(cell), decoy)
    assert check(edited, expected).changed_cells == (
        "linear_forward_test",
        "linear_forward_test (appears 2 times)",
    )
    # a copy of an untouched cell is still evidence, of the copy alone
    copied = copy.deepcopy(solved)
    copied.cells.append(copy.deepcopy(_locked_cell(release, "setup")))
    copied.cells.append(copy.deepcopy(_locked_cell(release, "setup")))
    assert check(copied, expected).changed_cells == ("setup (appears 3 times)",)


# --- escape sequences in names ---------------------------------------------------------------

TITLE, CLEAR = "\x1b]0;pwned\x07", "\x1b[2J"


def _raw(result) -> list[str]:
    text = result.output + result.stderr
    return [c for c in ("\x1b", "\x07") if c in text]


def test_no_name_a_student_controls_reaches_the_terminal_raw(tmp_path):
    release = read_notebook(RELEASE / NOTEBOOK)
    course = tmp_path / "course"
    alice = course / "submitted" / f"{TITLE}alice" / f"hw{CLEAR}1"
    bob = course / "submitted" / "bob" / "hw2"
    for folder, names in ((alice, [f"a{CLEAR}.ipynb", f"b{TITLE}.ipynb"]), (bob, ["nb.ipynb"])):
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_bytes(notebook_bytes(release))
    runner, out = CliRunner(), tmp_path / "out"
    graded = runner.invoke(
        cli,
        [
            "grade",
            str(course),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "--timeout",
            "2",
            "--fail-under",
            "50",
        ],
    )
    assert graded.exit_code == 1, graded.output
    assert "notebooks in" in graded.stderr and "2 nbgrader assignments" in graded.stderr
    assert re.search(r"below 50: .*\?\]0;pwned\?alice", graded.stderr), graded.stderr
    assert _raw(graded) == []
    refused = runner.invoke(
        cli,
        [
            "grade",
            str(course),
            "--out",
            str(out),
            "--release",
            str(RELEASE),
            "--gradescope",
            str(tmp_path / "gs.json"),
        ],
    )
    assert refused.exit_code == 2 and "exactly one submission" in refused.stderr
    assert _raw(refused) == []
    missing = runner.invoke(cli, ["grade", str(tmp_path / f"gone{CLEAR}"), "--out", str(out)])
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr
    assert _raw(missing) == []
    with pytest.warns(UserWarning) as warned, pytest.raises(UsageError):
        grader.grade([course], release_dir=tmp_path / "no-release")
    assert warned and [str(w.message) for w in warned if "\x1b" in str(w.message)] == []


# --- feedback page names -----------------------------------------------------------------------


def _sub(student: str, submission: str = "nb.ipynb") -> SubmissionResult:
    return SubmissionResult(student, submission, 0.0, 1.0, "unreadable", error="x")


def test_no_page_name_opens_another_students_page_or_the_kits():
    subs = [
        _sub("alice", "a/alice.ipynb"),
        _sub("Alice", "a/Alice.ipynb"),
        _sub("bob"),
        _sub("index"),
        _sub("Grades"),
        _sub("JUNIT"),
        _sub("results"),
    ]
    stems = feedback_file_stems(subs)
    folded = [stem.casefold() for stem in stems]
    assert len(set(folded)) == len(stems)
    assert "alice" not in folded  # neither of the two takes the plain name
    assert re.fullmatch(r"alice-[0-9a-f]{8}", stems[0]) and re.fullmatch(
        r"Alice-[0-9a-f]{8}", stems[1]
    )
    assert stems[2] == "bob"
    assert not {"index", "grades", "junit", "results"} & set(folded)
    assert RESERVED_STEMS >= {"index", "grades", "junit", "results"}
    # each name from its own identity: the same whatever the batch's order or company
    assert dict(zip(map(id, subs), stems)) == dict(
        zip(map(id, subs[::-1]), feedback_file_stems(subs[::-1]))
    )
    assert feedback_file_stems([subs[1], _sub("ALICE")])[0] == stems[1]
    # an id shaped like another's suffixed name does not take that name
    lookalike = feedback_file_stems([*subs[:2], _sub(stems[0])])
    assert lookalike[:2] == stems[:2] and lookalike[2].startswith(f"{stems[0]}-")
