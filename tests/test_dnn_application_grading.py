"""The second assignment graded end to end, alone and beside the first one."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from support import REPO_ROOT

from grader.cli import cli

RELEASE = REPO_ROOT / "release" / "dnn_application"
FAST = ["--timeout", "20", "-q"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The kit's sample batch, graded once."""
    root = tmp_path_factory.mktemp("application")
    runner = CliRunner()
    made = runner.invoke(cli, ["sample", str(root / "subs"), "--assignment", "dnn_application"])
    assert made.exit_code == 0, (made.output, made.exception)
    result = runner.invoke(cli, ["grade", str(root / "subs"), "--out", str(root / "out"), *FAST])
    assert result.exit_code == 0, (result.output, result.exception)
    data = json.loads((root / "out" / "grades.json").read_text())
    return {s["student"]: s for s in data["submissions"]}


def _scores(submission):
    return {name: e["score"] for name, e in submission["exercises"].items()}


def test_the_solutions_get_full_marks_and_the_release_zero(graded):
    correct, untouched = graded["alice_correct"], graded["bob_untouched_release"]
    assert correct["score"] == correct["max_score"] > 0
    assert correct["cell_errors"] == []
    assert untouched["score"] == 0 and untouched["status"] == "graded"


def test_a_model_that_never_updates_loses_exactly_that_exercise(graded):
    frozen = graded["carol_never_updates_parameters"]
    full = _scores(graded["alice_correct"])
    assert _scores(frozen) == {**full, "L_layer_model": 0.0}


def test_a_model_without_its_seed_and_one_that_never_ends(graded):
    unseeded = _scores(graded["dave_forgot_the_seed"])
    full = _scores(graded["alice_correct"])
    assert unseeded["two_layer_model"] < full["two_layer_model"] / 2
    assert unseeded["L_layer_model"] == full["L_layer_model"]
    forever = graded["erin_trains_forever"]["exercises"]["two_layer_model"]
    assert forever["status"] == "timeout" and forever["score"] == 0


def test_the_notebooks_long_training_cells_are_left_out_and_said_so(graded):
    skipped = graded["alice_correct"]["skipped_cells"]
    assert any("two_layer_model" in line for line in skipped)
    assert any("L_layer_model" in line for line in skipped)
    assert all("not run while grading" in line for line in skipped)


def test_a_folder_of_both_assignments_is_graded_against_each_release(tmp_path):
    runner = CliRunner()
    made = runner.invoke(cli, ["sample", str(tmp_path / "subs")])
    assert made.exit_code == 0, (made.output, made.exception)
    assert sorted(p.name for p in (tmp_path / "subs").iterdir()) == [
        "dnn_application",
        "dnn_step_by_step",
    ]
    result = runner.invoke(
        cli, ["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), *FAST]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    for name in ("dnn_application", "dnn_step_by_step"):
        rows = list(csv.DictReader((tmp_path / "out" / name / "grades.csv").open()))
        correct = next(row for row in rows if row["student"] == "alice_correct")
        assert correct["score"] == correct["max_score"], name
    assert not (tmp_path / "out" / "grades.csv").exists()
