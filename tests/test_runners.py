"""The runners' one interface (grader.runners.Runner): local workers and Dask behind it."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from grader.runners import Runner
from grader.runners.dask_cluster import DaskRunner
from grader.runners.local import LocalRunner, local_runner


def test_naming_the_interface_loads_no_runner_and_no_grading():
    code = (
        "import sys, grader.runners\n"
        "print(sorted(m for m in sys.modules if m.startswith('grader.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    heavy = ("grader.runners.", "grader.grading", "grader.engine", "grader.sandbox")
    assert "grader.runners" in ast.literal_eval(loaded)
    assert [name for name in ast.literal_eval(loaded) if name.startswith(heavy)] == []


@pytest.mark.parametrize(
    "mode, jobs, expected",
    [
        ("auto", 1, "serial"),
        ("threads", 3, "threads"),
        ("serial", 4, "serial"),
        ("processes", 2, "processes"),
    ],
)
def test_a_local_runner_is_a_runner(mode, jobs, expected):
    with local_runner(jobs, mode) as runner:
        assert isinstance(runner, Runner) and isinstance(runner, LocalRunner)
        assert (runner.jobs, runner.mode, runner.sandboxes) == (jobs, expected, ())
    runner.close()  # nothing held between batches: closing twice is harmless


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        local_runner(2, "fibers")


def test_the_dask_runner_has_the_interface():
    assert callable(DaskRunner.__call__) and callable(DaskRunner.close)
    assert {"__call__", "close"} <= set(vars(DaskRunner))
