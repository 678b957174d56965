"""The pytest plugin (``pytest --grade-notebook NB.ipynb``), run as users run it: pytest in a
child process (pytester), the plugin loaded through its ``pytest11`` entry point, against
sample notebooks whose checks ``grader grade`` counts in its grades.json."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ASSIGNMENT, EXERCISES

from grader.cli import cli
from grader.integrations.pytest_items import item_names, plan_items
from grader.reports.failures import score_text
from grader.results import ERROR, FAILED, PASSED, CheckResult, ExerciseResult, SubmissionResult

CORRECT, BROKEN = "alice_correct", "mistake_linear_forward"
UNREADABLE, DELETED = "frank_not_a_notebook", "grace_deleted_compute_cost"
OTHER_TEST = "def test_other():\n    assert 1 + 1 == 2\n"
RUN_TIMEOUT = 180


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    """`grader sample` of the assignment, once for this module."""
    folder = tmp_path_factory.mktemp("samples")
    result = CliRunner().invoke(cli, ["sample", "--assignment", ASSIGNMENT, str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def grades(samples, tmp_path_factory) -> dict[str, dict]:
    """The same notebooks graded by `grader grade`: grades.json's submissions by student."""
    out = tmp_path_factory.mktemp("grades")
    notebooks = [str(samples / f"{name}.ipynb") for name in (CORRECT, BROKEN, UNREADABLE, DELETED)]
    result = CliRunner().invoke(cli, ["grade", *notebooks, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    return {submission["student"]: submission for submission in data["submissions"]}


@pytest.fixture
def folder(pytester, samples, monkeypatch) -> Path:
    """pytester's folder with the sample notebooks and an ordinary test file."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)  # the entry point
    for name in (CORRECT, BROKEN, UNREADABLE, DELETED):
        data = (samples / f"{name}.ipynb").read_bytes()
        (pytester.path / f"{name}.ipynb").write_bytes(data)
    pytester.makepyfile(test_other=OTHER_TEST)
    return pytester.path


def run(pytester, *args: str):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=RUN_TIMEOUT)


def checks(submission: dict) -> list[tuple[str, str, dict]]:
    """(exercise, check name, check) for every check of a grades.json submission."""
    return [
        (exercise, check["name"], check)
        for exercise, result in submission["exercises"].items()
        for check in result["checks"]
    ]


def test_importing_the_plugin_loads_nothing_heavy():
    heavy = ("numpy", "nbformat", "grader.engine", "grader.integrations.pytest_items")
    code = (
        "import sys, grader.integrations.pytest_plugin\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_without_the_flag_collection_is_unchanged(pytester, folder):
    pytester.makepyfile(
        test_light="""
        import sys

        def test_plugin_loaded_engine_not(request):
            assert request.config.pluginmanager.hasplugin("grader")
            assert "grader.engine" not in sys.modules
        """
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2)
    assert ".ipynb" not in result.stdout.str()
    assert result.ret == 0


def test_a_correct_notebook_passes_every_check(pytester, folder, grades):
    expected = checks(grades[CORRECT])
    result = run(pytester, "--grade-notebook", f"{CORRECT}.ipynb", "-v", "--junitxml=junit.xml")
    # only the notebook is collected: no path was given, so not test_other.py
    result.assert_outcomes(passed=len(expected))
    assert result.ret == 0
    output = result.stdout.str()
    assert "test_other" not in output
    assert re.search(rf"{CORRECT}\.ipynb::linear_forward::case-2 PASSED", output)
    score = score_text(grades[CORRECT]["score"], grades[CORRECT]["max_score"])
    assert f"{CORRECT}.ipynb: {score}" in output  # the grader's summary section
    cases = ET.parse(folder / "junit.xml").getroot().iter("testcase")
    names = [(case.get("classname"), case.get("name")) for case in cases]
    assert len(names) == len(expected)
    assert (f"{CORRECT}.ipynb.L_model_forward", "case-7") in names


def test_failed_checks_unreadable_notebooks_and_missing_functions_fail(pytester, folder, grades):
    """Three broken notebooks in one run: each failure is the items it should be."""
    broken, deleted = checks(grades[BROKEN]), checks(grades[DELETED])
    failed = [(e, name, c) for e, name, c in broken if not c["passed"]]
    assert failed and {exercise for exercise, _, _ in failed} == {"linear_forward"}
    assert grades[DELETED]["exercises"]["compute_cost"]["checks"] == []
    assert all(c["passed"] for _, _, c in deleted)
    notebooks = [f"{name}.ipynb" for name in (BROKEN, UNREADABLE, DELETED)]
    result = run(pytester, *(arg for nb in notebooks for arg in ("--grade-notebook", nb)))
    result.assert_outcomes(failed=len(failed) + 2, passed=len(broken) - len(failed) + len(deleted))
    assert result.ret == 1
    output = result.stdout.str()
    shown = {line.split()[1] for line in result.stdout.lines if line.startswith("FAILED ")}
    numbers = [re.match(r"case (\d+):", name).group(1) for _, name, _ in failed]
    assert shown == {
        *(f"{BROKEN}.ipynb::linear_forward::case-{number}" for number in numbers),
        f"{UNREADABLE}.ipynb::notebook",
        f"{DELETED}.ipynb::compute_cost::run",
    }
    # a failure says what the student is told, never a hidden check's expected values
    hidden = next(c for _, _, c in failed if c["student_message"] is not None)
    assert hidden["student_message"] in output
    assert hidden["message"] not in output
    assert f"The notebook could not be graded: {grades[UNREADABLE]['error']}" in output
    assert grades[DELETED]["exercises"]["compute_cost"]["error"] in output
    for name in (BROKEN, UNREADABLE):  # the summary's scores: grades.json's
        score = score_text(grades[name]["score"], grades[name]["max_score"])
        assert f"{name}.ipynb: {score}" in output


def test_k_selects_checks_and_reveal_expected_shows_the_values(pytester, folder, grades):
    broken = checks(grades[BROKEN])
    second = [(e, c) for e, name, c in broken if name.startswith("case 2:")]
    assert [e for e, c in second if not c["passed"]] == ["linear_forward"]
    args = ["--grade-notebook", f"{BROKEN}.ipynb", "--reveal-expected"]
    result = run(pytester, *args, "-k", "case-2")
    result.assert_outcomes(failed=1, passed=len(second) - 1, deselected=len(broken) - len(second))
    failed = next(c for e, c in second if e == "linear_forward")
    assert failed["student_message"] != failed["message"]
    assert failed["message"] in result.stdout.str()  # expected values included
    assert result.ret == 1


def test_collect_only_lists_node_ids_beside_the_paths_given(pytester, folder, grades):
    args = ["--grade-notebook", f"{CORRECT}.ipynb", "--assignment", ASSIGNMENT]
    result = run(pytester, *args, "--collect-only", "-q", "test_other.py")
    ids = [line for line in result.stdout.lines if "::" in line]
    # explicit paths are collected too
    assert ids[0] == "test_other.py::test_other"
    expected = []
    for exercise, result_ in grades[CORRECT]["exercises"].items():
        names = item_names([check["name"] for check in result_["checks"]])
        expected += [f"{CORRECT}.ipynb::{exercise}::{name}" for name in names]
    assert ids[1:] == expected
    assert [i.split("::")[1] for i in ids[1:]] == [e for e, _, _ in checks(grades[CORRECT])]
    assert {i.split("::")[1] for i in ids[1:]} == set(EXERCISES)
    assert f"{CORRECT}.ipynb::linear_forward::case-5" in ids
    assert f"{CORRECT}.ipynb::linear_forward::leaves-its-arguments-unchanged" in ids
    assert result.ret == 0


def test_a_wrong_path_is_one_line_and_exit_code_4(pytester, folder):
    result = run(pytester, "--grade-notebook", "nope.ipynb")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert errors == ["ERROR: no such file or folder: nope.ipynb"]


def _exercise(name: str, status: str, checks: tuple[CheckResult, ...], error: str = ""):
    return ExerciseResult(name, 0.0, 10.0, status, checks, error)


def test_item_names_number_cases_and_slug_the_rest():
    names = ["case 2: one example", "leaves its arguments unchanged", "Run!", "run", "case 2: x"]
    assert item_names(names) == [
        "case-2",
        "leaves-its-arguments-unchanged",
        "run-2",
        "run-3",
        "case-2-2",
    ]


def test_plan_items_hides_expected_values_and_adds_the_error():
    hidden = CheckResult("case 3: big", False, "wrong; expected 7", "wrong")
    crashed = CheckResult("case 1: example", False, "f raised NameError", None)
    result = SubmissionResult(
        "s",
        "s.ipynb",
        0.0,
        20.0,
        "graded",
        exercises=(
            _exercise("f", ERROR, (crashed, CheckResult("case 2: ok", True)), "Traceback: boom"),
            _exercise("g", FAILED, (hidden,)),
            _exercise("h", PASSED, (CheckResult("case 1: ok", True),)),
        ),
    )
    plan = {(p.exercise, p.name): p for p in plan_items(result)}
    assert list(plan) == [("f", "case-1"), ("f", "case-2"), ("g", "case-3"), ("h", "case-1")]
    assert plan["f", "case-1"].text == "f raised NameError\n\nTraceback: boom"
    assert plan["f", "case-2"].passed and not plan["f", "case-1"].passed
    assert plan["g", "case-3"].text == "wrong"
    assert plan_items(result, reveal_expected=True)[2].text == "wrong; expected 7"
