"""A submission still running after Limits.lower_priority_after yields the CPU: a loop
costs its own time limit, and slows the others' grading little (issue 15)."""

from __future__ import annotations

import time

import pytest
from support import RELEASE_DIR, SOLUTIONS_DIR

from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.engine import GradingPool
from grader.grading.options import Options
from grader.runners import pool as pool_module
from grader.sandbox.server import Limits, Sandbox

# busy for 1.5 s, then note the niceness the process runs at
CELLS = [
    "import os, time\n"
    "started = time.monotonic()\n"
    "while time.monotonic() - started < 1.5:\n"
    "    pass\n"
    "NICE = os.getpriority(os.PRIO_PROCESS, 0)\n",
    "def niceness():\n    return NICE\n",
]
QUICK = "import os\nNICE = os.getpriority(os.PRIO_PROCESS, 0)\n"


@pytest.mark.parametrize("mode", ["auto", "rlimits"])
@pytest.mark.parametrize("after, expected", [(0.5, 10), (None, 0)])
def test_a_long_running_submission_runs_at_a_lower_priority(mode, after, expected):
    limits = Limits(call_timeout=10.0, cells_timeout=10.0, lower_priority_after=after)
    with Sandbox(limits, mode=mode, preload=()) as sandbox:
        with sandbox.open(CELLS) as session:
            assert [c.status for c in session.cell_results] == ["ok", "ok"]
            assert session.call("niceness").value == expected
        # the next submission of the same sandbox starts at the usual priority
        with sandbox.open([QUICK, CELLS[1]]) as quick:
            assert quick.call("niceness").value == 0


def test_a_spare_worker_grades_while_the_only_one_waits_out_a_loop(monkeypatch):
    batch = sample_batch(SOLUTIONS_DIR, RELEASE_DIR)
    monkeypatch.setattr(pool_module, "SPARE_IDLE_SECONDS", 1.0)
    with GradingPool(RELEASE_DIR, options=Options(jobs=1)) as pool:
        hang = pool.submit("dnn_step_by_step", "dave", "d", batch["dave_infinite_loop.ipynb"])
        time.sleep(0.3)
        correct = pool.submit("dnn_step_by_step", "alice", "a", batch["alice_correct.ipynb"])
        result = correct.result(timeout=120)
        assert not hang.done(), "the loop ended first: nothing showed the spare worker"
        assert result.score == result.max_score
        assert len(pool._pool._workers) == 2  # the one waiting out the loop, and a spare
        hang.result(timeout=120)
        deadline = time.monotonic() + 30
        while len(pool._pool._workers) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(pool._pool._workers) == 1  # the spare stopped once idle
