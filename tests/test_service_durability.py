"""A grading service killed with SIGKILL under load, and started again on the same store,
has every submission it answered with 200, and grades those it had accepted and not
finished (issue 15: an acknowledged submission is never lost)."""

from __future__ import annotations

import threading
import time

import psutil
import pytest
from service_support import start_service
from support import RELEASE_DIR, SOLUTIONS_DIR

from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.service.store import Store

ASSIGNMENT = "dnn_step_by_step"
# who submits what, over and over: four ordinary notebooks and one that loops (its
# grading takes seconds, so that something is always accepted and unfinished)
NOTEBOOKS = {
    "alice": "alice_correct.ipynb",
    "bob": "mistake_compute_cost.ipynb",
    "carol": "carol_original_course_layout.ipynb",
    "erin": "erin_crash.ipynb",
    "dave": "dave_infinite_loop.ipynb",
}


@pytest.fixture(scope="module")
def batch() -> dict[str, bytes]:
    return sample_batch(SOLUTIONS_DIR, RELEASE_DIR)


def _submit_until_gone(service, user, data, acknowledged, lock, gone):
    while not gone.is_set():
        try:
            answer = service.post_notebook(user, ASSIGNMENT, data, timeout=120)
        except OSError:  # the service was killed under this request
            return
        if answer.status == 200:
            body = answer.json()
            with lock:
                acknowledged[body["id"]] = (user, body["score"])


def _listing(service) -> dict[int, dict]:
    answer = service.request("GET", f"assignments/{ASSIGNMENT}/submissions", user="prof")
    assert answer.status == 200, answer.body
    return {row["id"]: row for row in answer.json()["submissions"]}


def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path, batch):
    folder = tmp_path / "service"
    service = start_service(folder, jobs=2)
    workers = psutil.Process(service.process.pid).children(recursive=True)
    acknowledged: dict[int, tuple[str, float]] = {}
    lock, gone = threading.Lock(), threading.Event()
    students = [
        threading.Thread(
            target=_submit_until_gone,
            args=(service, user, batch[name], acknowledged, lock, gone),
            daemon=True,
        )
        for user, name in NOTEBOOKS.items()
    ]
    for student in students:
        student.start()
    deadline = time.monotonic() + 240
    while len(acknowledged) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(acknowledged) >= 12, "the service answered too few submissions"
    service.kill()  # SIGKILL: no clean-up of any kind
    gone.set()
    for student in students:
        student.join(130)
    with lock:
        answered = dict(acknowledged)

    # what the killed service left in its store: every answered submission, finished,
    # and (the looping student's at least) some accepted and not finished
    with Store(service.db) as store:
        unfinished = [row.id for row in store.unfinished()]
        for sid, (user, score) in answered.items():
            row = store.get(sid)
            assert (row.user, row.status, row.score) == (user, "graded", score)
    assert unfinished, "nothing was in flight when the service was killed"
    assert not set(unfinished) & set(answered)

    # its workers and sandboxes do not outlive it
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == [], f"processes left behind by the killed service: {alive}"

    restarted = start_service(folder, jobs=2, db=service.db)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            rows = _listing(restarted)
            if all(rows[sid]["status"] != "pending" for sid in unfinished):
                break
            time.sleep(0.5)
        for sid in unfinished:
            assert rows[sid]["status"] == "graded", rows[sid]
        for sid, (user, score) in answered.items():
            assert (rows[sid]["user"], rows[sid]["score"]) == (user, score)
        # the regraded ones are graded as any other: dave's loop times out, the rest score
        expected = {user: score for user, score in answered.values()}
        for sid in unfinished:
            user = rows[sid]["user"]
            if user in expected:
                assert rows[sid]["score"] == expected[user]
        assert any("regrading" in line for line in restarted.log_lines())
    finally:
        restarted.stop()
