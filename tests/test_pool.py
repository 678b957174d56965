"""The engine kept running (grader.engine.GradingPool): what the grading service grades with."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import wait
from pathlib import Path

import pytest
from support import ASSIGNMENT, RELEASE_DIR, SOLUTIONS_DIR

from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.engine import GradingPool, grade
from grader.errors import GraderError, UsageError
from grader.grading.options import Options
from grader.results import GRADED, TIMEOUT, submission_to_dict
from grader.runners.local import local_runner
from grader.runners.pool import PoolClosed

CORRECT, HANG = "alice_correct.ipynb", "dave_infinite_loop.ipynb"


@pytest.fixture(scope="module")
def batch() -> dict[str, bytes]:
    return sample_batch(SOLUTIONS_DIR, RELEASE_DIR)


@pytest.fixture(scope="module")
def pool():
    with GradingPool(RELEASE_DIR.parent, options=Options(jobs=2)) as running:
        yield running


def _comparable(result) -> dict:
    data = submission_to_dict(result)
    data.pop("submission")
    return data


def test_a_release_root_serves_every_assignment_in_it(pool):
    assert ASSIGNMENT in pool.assignments
    info = pool.assignments[ASSIGNMENT]
    assert info.max_score == sum(points for _, points in info.exercises) > 0
    assert info.exercises[0][0] == "initialize_parameters"
    assert pool.jobs == 2 and pool.environment is not None


def test_results_are_those_of_grade_for_the_same_bytes(pool, batch, tmp_path):
    for name, data in batch.items():
        (tmp_path / name).write_bytes(data)
    expected = grade(tmp_path, release_dir=RELEASE_DIR, options=Options(jobs=2))
    futures = {
        name: pool.submit(ASSIGNMENT, name.split("_")[0], f"label/{name}", data)
        for name, data in batch.items()
    }
    assert len(expected.submissions) == len(futures)
    for result in expected.submissions:
        got = futures[Path(result.submission).name].result()
        assert got.submission == f"label/{Path(result.submission).name}"
        assert _comparable(got) == {**_comparable(result), "student": got.student}
    assert pool.queued == 0
    assert pool.mean_seconds > 0


def test_a_looping_notebook_holds_up_only_its_own_worker(pool, batch):
    started = time.monotonic()
    pool.grade(ASSIGNMENT, "alone", "a", batch[CORRECT])
    alone = time.monotonic() - started
    hang = pool.submit(ASSIGNMENT, "dave", "d", batch[HANG])
    time.sleep(0.5)  # the loop has its worker
    started = time.monotonic()
    correct = [pool.submit(ASSIGNMENT, f"s{i}", "s", batch[CORRECT]) for i in range(3)]
    wait(correct)
    beside = time.monotonic() - started
    assert not hang.done(), "the looping notebook ended before the correct ones"
    assert all(f.result().score == f.result().max_score for f in correct)
    # three in a row on the one free worker, with generous room for a loaded machine
    assert beside < 3 * alone + 8.0
    result = hang.result()
    assert result.status == GRADED
    assert TIMEOUT in {e.status for e in result.exercises}


def test_a_worker_that_dies_is_replaced_and_its_notebook_graded_again(batch):
    with GradingPool(RELEASE_DIR, options=Options(jobs=1)) as pool:
        pids = [worker.process.pid for worker in pool._pool._workers]
        future = pool.submit(ASSIGNMENT, "dave", "d", batch[HANG])  # seconds in its worker
        time.sleep(0.5)
        os.kill(pids[0], signal.SIGKILL)
        result = future.result(timeout=300)
        assert result.status == GRADED  # graded again, by the new worker
        assert TIMEOUT in {e.status for e in result.exercises}
        assert [worker.process.pid for worker in pool._pool._workers] != pids
        again = pool.grade(ASSIGNMENT, "bob", "b", batch[CORRECT])
        assert again.score == again.max_score


def test_closing_fails_what_is_still_queued(batch):
    pool = GradingPool(RELEASE_DIR, options=Options(jobs=1)).start()
    futures = [pool.submit(ASSIGNMENT, f"s{i}", "s", batch[HANG]) for i in range(3)]
    time.sleep(0.3)
    closing = time.monotonic()
    pool.close()
    assert all(f.done() for f in futures)
    assert time.monotonic() - closing < 5.0, "closing waited for a looping notebook"
    with pytest.raises(PoolClosed):
        futures[-1].result()


def test_unknown_assignments_and_unstarted_pools_are_refused(pool, tmp_path):
    with pytest.raises(GraderError, match="unknown assignment"):
        pool.submit("../etc", "s", "s", b"{}")
    with pytest.raises(UsageError, match="not started"):
        GradingPool(RELEASE_DIR).submit(ASSIGNMENT, "s", "s", b"{}")
    with pytest.raises(UsageError, match="no release folder"):
        GradingPool(tmp_path)


def test_a_runner_pool_grades_the_same_through_any_runner(batch):
    with local_runner(1, "serial") as runner:
        with GradingPool({ASSIGNMENT: RELEASE_DIR}, runner=runner) as pool:
            result = pool.grade(ASSIGNMENT, "alice", "a.ipynb", batch[CORRECT])
            broken = pool.grade(ASSIGNMENT, "frank", "f.ipynb", b"{ not json")
    assert result.score == result.max_score and result.submission == "a.ipynb"
    assert broken.score == 0 and broken.status != GRADED
