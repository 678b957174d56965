"""Hidden calls are bounded by the reference's own time (issue 12): an infinite loop in a
hidden check costs ~1 s instead of --timeout, a slow but correct function still passes,
and Limits(relative_timeout=False) restores the plain --timeout."""

from __future__ import annotations

import dataclasses
import time
import types
from pathlib import Path

import pytest

import grader
from grader.assignments import get_kit
from grader.assignments.dnn_step_by_step.samples import NOTEBOOK, with_function
from grader.grading.checks import RELATIVE_FACTOR, RELATIVE_FLOOR, call_limit, plan
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.grading.options import Options
from grader.sandbox.server import Limits

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"

# the notebook's example has 3 examples, so its own demo cell returns; the hidden
# checks with 1 or 7 examples loop forever
HIDDEN_LOOP = """
def compute_cost(AL, Y):
    m = Y.shape[1]
    while m != 3:
        pass
    return np.squeeze((-1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))
"""
SLOW_BUT_RIGHT = """
def compute_cost(AL, Y):
    import time
    time.sleep(0.3)
    m = Y.shape[1]
    return np.squeeze((-1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))
"""
WORDS = f"{RELATIVE_FACTOR} times what the model solution needs, at least {RELATIVE_FLOOR:g} s"


def _notebook(folder: Path, name: str, source: str) -> Path:
    path = folder / f"{name}.ipynb"
    solved = read_notebook(SOLUTIONS / NOTEBOOK)
    path.write_bytes(notebook_bytes(with_function(solved, "compute_cost", source)))
    return path


def _grade(path: Path, **limits) -> tuple[grader.results.SubmissionResult, float, dict]:
    started = time.monotonic()
    batch = grader.grade(
        [path], release_dir=RELEASE, options=Options(limits=Limits(**limits), jobs=1)
    )
    return batch.submissions[0], time.monotonic() - started, batch.environment.limits


def test_the_plan_records_the_reference_time_of_every_exercise():
    plans = plan(get_kit("dnn_step_by_step"), RELEASE)
    assert len(plans) == 10  # every exercise (0.01-0.16 ms each; below 1 s however busy)
    assert all(0 < p.reference_seconds < 1 for p in plans.values()), {
        name: p.reference_seconds for name, p in plans.items()
    }


def test_waiting_for_a_core_does_not_count_as_the_reference_s_time():
    """On busy cores the grader's thread may wait mid-check (a 0.1 ms check read 10 ms):
    wall-clock time would move the bound from 1 s to 2 s between two runs of the same
    batch, and with it the message a timeout gets in grades.json. A sleep stands in for
    that wait: time passes, the reference does no work."""
    kit = get_kit("dnn_step_by_step")
    real = kit.reference_function("compute_cost")

    def descheduled(AL, Y):
        time.sleep(0.05)
        return real(AL, Y)

    reference = types.SimpleNamespace(
        **{name: kit.reference_function(name) for name in kit.exercises}
    )
    reference.compute_cost = descheduled
    plans = plan(dataclasses.replace(kit, reference=reference), RELEASE)
    seconds = plans["compute_cost"].reference_seconds
    assert 0 < seconds < 0.01, seconds
    assert call_limit(seconds, 10.0).words == f"1 s ({WORDS})"


def test_the_bound_is_relative_with_a_floor_and_never_above_the_timeout():
    assert call_limit(0.0001, 10.0).seconds == RELATIVE_FLOOR
    assert call_limit(0.0001, 10.0).words == f"{RELATIVE_FLOOR:g} s ({WORDS})"
    assert call_limit(0.031, 10.0).seconds == 4  # 3.1 s, rounded up to whole seconds
    assert call_limit(0.5, 10.0).words == "10 s"  # 50 s: --timeout is the most
    assert call_limit(0.0001, 0.5).words == "0.5 s"  # below the floor: --timeout still
    assert call_limit(0.0001, 10.0, relative=False).words == "10 s"


def test_a_loop_in_a_hidden_check_costs_the_bound_not_the_timeout(tmp_path):
    result, elapsed, limits = _grade(
        _notebook(tmp_path, "loop", HIDDEN_LOOP),
        call_timeout=60.0,
        cells_timeout=120.0,
        submission_timeout=240.0,
    )
    cost = result.exercise("compute_cost")
    assert cost.status == "timeout" and cost.score == 0
    assert cost.error == f"compute_cost did not return within 1 s ({WORDS})"
    assert f"compute_cost did not finish within 1 s ({WORDS})." in [
        check.message for check in cost.checks
    ]
    assert result.score == 90 and not result.cell_errors  # its demo cell ran fine
    # one 1 s bound (~4 s in all), not the 60 s timeout (generous: two busy cores)
    assert elapsed < 40, elapsed
    assert limits["relative_timeout"] is True and limits["call_timeout"] == 60.0


def test_a_slow_but_correct_function_keeps_its_points(tmp_path):
    result, _elapsed, _limits = _grade(_notebook(tmp_path, "slow", SLOW_BUT_RIGHT))
    assert result.exercise("compute_cost").status == "passed"
    assert result.score == result.max_score


def test_switched_off_every_call_gets_the_timeout(tmp_path):
    result, elapsed, limits = _grade(
        _notebook(tmp_path, "loop", HIDDEN_LOOP),
        call_timeout=2.0,
        cells_timeout=10.0,
        submission_timeout=60.0,
        relative_timeout=False,
    )
    cost = result.exercise("compute_cost")
    assert cost.status == "timeout" and result.score == 90
    assert cost.error == "compute_cost did not return within 2 s"
    assert elapsed >= 2.0  # waited the whole --timeout
    assert limits["relative_timeout"] is False


@pytest.mark.parametrize("relative, words", [(True, f"1 s ({WORDS})"), (False, "2 s")])
def test_a_function_stuck_in_its_demo_cell_reads_as_a_hidden_check_out_of_time(
    tmp_path, relative, words
):
    """The cell keeps --timeout; the exercise is judged with the hidden calls' bound."""
    from grader.assignments.dnn_step_by_step.samples import HANG

    path = tmp_path / "dave.ipynb"
    path.write_bytes(notebook_bytes(with_function(read_notebook(SOLUTIONS / NOTEBOOK), *HANG)))
    result, elapsed, _limits = _grade(
        path,
        call_timeout=2.0,
        cells_timeout=10.0,
        submission_timeout=60.0,
        relative_timeout=relative,
    )
    backward = result.exercise("L_model_backward")
    assert backward.status == "timeout"
    assert backward.error == f"L_model_backward did not return within {words}"
    assert any("2 s a cell" in line for line in result.cell_errors), result.cell_errors
    assert elapsed >= 2.0  # the demo cell waited the whole --timeout
