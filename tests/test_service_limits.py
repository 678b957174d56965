"""`grader serve` with a course's limits and a JupyterHub: a full queue (503), a limit of
submissions per hour (429), deadlines (refused or penalized late submissions), and
students known only to the hub. One strict service (one worker, a queue of one) for the
module, with a fake hub in this process."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from service_support import ROSTER, kit_samples, start_service

from grader.results import TIMEOUT

STEP, APP = "dnn_step_by_step", "dnn_application"
HUB_USERS = {  # token -> the hub's model of its owner
    "hub-student": {"kind": "user", "name": "hubstudent", "admin": False},
    "hub-prof": {"kind": "user", "name": "prof", "admin": False},  # instructor by roster
    "hub-admin": {"kind": "user", "name": "hubadmin", "admin": True},  # not on the roster
    "hub-service": {"kind": "service", "name": "cull-idle"},
}


class FakeHub(BaseHTTPRequestHandler):
    asked: Counter = Counter()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        token = self.headers.get("Authorization", "").partition(" ")[2]
        FakeHub.asked[token] += 1
        if self.path != "/hub/api/user":
            self.send_response(404)
            self.end_headers()
            return
        if token == "hub-broken":
            self.send_response(500)
            self.end_headers()
            return
        model = HUB_USERS.get(token)
        body = json.dumps(model or {"status": 403, "message": "not allowed"}).encode()
        self.send_response(200 if model else 403)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def hub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hub/api"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def samples() -> dict[str, dict[str, bytes]]:
    return kit_samples()


@pytest.fixture(scope="module")
def service(tmp_path_factory, hub):
    folder = tmp_path_factory.mktemp("strict")
    now = datetime.now(timezone.utc)
    config = {
        "late": "accept",
        "assignments": {
            STEP: {"deadline": (now - timedelta(days=1.5)).isoformat(), "late": "refuse"},
            APP: {"deadline": (now - timedelta(days=2.5)).isoformat(), "late": "penalty:0.1"},
        },
    }
    (folder / "service.json").write_text(json.dumps(config), encoding="utf-8")
    roster = {**ROSTER, **{f"s{i}": "student" for i in range(1, 9)}}
    args = ["--max-queue", "1", "--max-per-hour", "1", "--timeout", "3"]
    args += ["--config", str(folder / "service.json"), "--hub-api-url", hub]
    running = start_service(folder, jobs=1, roster=roster, args=args)
    try:
        yield running
    finally:
        assert running.stop() == 0


def test_a_full_queue_is_503_with_retry_after(service, samples):
    looping = samples[STEP]["dave_infinite_loop.ipynb"]
    answers = {}
    thread = threading.Thread(
        target=lambda: answers.update(hostile=service.post_notebook("s1", STEP, looping, "check"))
    )
    thread.start()
    time.sleep(1.0)  # the loop holds the one worker for its time limit
    full = service.post_notebook("s2", STEP, samples[STEP]["alice_correct.ipynb"], "check")
    thread.join(120)
    assert full.status == 503 and "queue is full" in full.error
    assert int(full.header("Retry-After")) >= 1
    hostile = answers["hostile"]
    assert hostile.status == 200  # a loop is a result, not an error of the service
    assert hostile.json()["exercises"]["L_model_backward"]["status"] == TIMEOUT
    again = service.post_notebook("s2", STEP, samples[STEP]["alice_correct.ipynb"], "check")
    assert again.status == 200


def test_submissions_per_hour_are_limited_with_retry_after(service, samples):
    correct = samples[STEP]["alice_correct.ipynb"]
    assert service.post_notebook("s3", STEP, correct).status == 200
    limited = service.post_notebook("s3", STEP, correct)
    assert limited.status == 429 and "per hour" in limited.error
    assert 3000 <= int(limited.header("Retry-After")) <= 3600
    assert service.post_notebook("s3", STEP, correct, "check").status == 200  # checks are not
    assert service.post_notebook("s3", APP, samples[APP]["alice_correct.ipynb"]).status == 200


def test_a_late_submission_refused_is_recorded_and_graded_not_counted(service, samples):
    answer = service.post_notebook("s4", STEP, samples[STEP]["alice_correct.ipynb"])
    assert answer.status == 200
    receipt = answer.json()
    assert receipt["late"] is True and receipt["late_days"] == 2
    assert receipt["counted"] is False and "not counted" in receipt["late_message"]
    assert receipt["score"] == 100.0  # graded all the same
    listing = service.request("GET", f"assignments/{STEP}/submissions?user=s4", user="prof")
    [row] = listing.json()["submissions"]
    assert (row["id"], row["counted"], row["late_days"]) == (receipt["id"], False, 2)
    grades = service.request("GET", f"assignments/{STEP}/grades.csv", user="prof")
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades.body.decode()))}
    assert rows["s4"]["score"] == "0"


def test_a_late_submission_loses_the_penalty_per_day(service, samples):
    answer = service.post_notebook("s5", APP, samples[APP]["alice_correct.ipynb"])
    assert answer.status == 200
    receipt = answer.json()
    assert (receipt["late_days"], receipt["counted"]) == (3, True)
    assert receipt["penalty"] == pytest.approx(0.3)
    assert receipt["score"] == 10.0 and receipt["score_after_penalty"] == pytest.approx(7.0)
    assert "30% off" in receipt["late_message"]
    own = service.request("GET", f"assignments/{APP}/submissions", user="s5").json()
    assert own["submissions"][0]["score"] == pytest.approx(7.0)
    grades = service.request("GET", f"assignments/{APP}/grades.csv", user="prof")
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades.body.decode()))}
    assert rows["s5"]["score"] == "7"


def test_a_hub_token_is_the_hubs_user_asked_once_a_minute(service, samples):
    before = FakeHub.asked["hub-student"]
    assert service.request("GET", "assignments", token="hub-student").status == 200
    checked = service.post_notebook(
        "ignored", STEP, samples[STEP]["alice_correct.ipynb"], "check", token="hub-student"
    )
    assert checked.status == 200
    submitted = service.post_notebook(
        "ignored", STEP, samples[STEP]["alice_correct.ipynb"], token="hub-student"
    )
    assert submitted.status == 200
    own = service.request("GET", f"assignments/{STEP}/submissions", token="hub-student")
    assert [row["user"] for row in own.json()["submissions"]] == ["hubstudent"]
    assert FakeHub.asked["hub-student"] - before == 1  # the answer was kept
    # the roster gives roles: the hub's "prof" is the roster's instructor, its admin is not
    assert service.request("GET", f"assignments/{STEP}/grades.csv", token="hub-prof").status == 200
    admin = service.request("GET", f"assignments/{STEP}/grades.csv", token="hub-admin")
    assert admin.status == 403


def test_tokens_the_hub_refuses_or_a_service_token_are_401(service):
    for token in ("hub-unknown", "hub-service"):
        answer = service.request("GET", "assignments", token=token)
        assert answer.status == 401 and answer.error == "unknown token"
        assert FakeHub.asked[token] >= 1


def test_a_hub_that_fails_is_503_not_401(service):
    answer = service.request("GET", "assignments", token="hub-broken")
    assert answer.status == 503 and "JupyterHub" in answer.error
    assert int(answer.header("Retry-After")) >= 1
    # roster tokens do not need the hub
    assert service.request("GET", "assignments", user="s6").status == 200
