"""`grader serve` over real HTTP: every endpoint and status code, results identical to
`grader grade`, hidden values kept hidden, and a notebook that loops forever holding up
nobody else. One service (two workers) for the whole module; each test uses its own
students, so that the order of the tests does not matter."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from service_support import REPO_ROOT, ROSTER, kit_samples, start_service

from grader.reports.student import student_result
from grader.results import ERROR, PASSED, TIMEOUT, submission_from_dict
from grader.service.store import Store

STEP, APP = "dnn_step_by_step", "dnn_application"
STUDENTS = [f"s{i}" for i in range(1, 21)]


@pytest.fixture(scope="module")
def samples() -> dict[str, dict[str, bytes]]:
    return kit_samples()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    roster = {**ROSTER, **dict.fromkeys(STUDENTS, "student")}
    running = start_service(tmp_path_factory.mktemp("service"), jobs=2, roster=roster)
    try:
        yield running
    finally:
        code = running.stop()
    assert code == 0  # SIGTERM: a graceful stop
    assert running.log_lines()[-1] == "grading service stopped"


def _graded_by_grade(folder: Path, files: dict[str, bytes], tmp: Path) -> dict[str, dict]:
    """`grader grade` on the same bytes: file stem -> its grades.json entry."""
    for name, data in files.items():
        (folder / name).write_bytes(data)
    out = tmp / "out"
    subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out), "-q"],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=600,
    )
    report = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    return {entry["student"]: entry for entry in report["submissions"]}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *_strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_assignments_tell_names_max_scores_and_points(service):
    answer = service.request("GET", "assignments", user="s1")
    assert answer.status == 200
    listed = {a["name"]: a for a in answer.json()["assignments"]}
    assert set(listed) == {STEP, APP}
    step = listed[STEP]
    assert step["max_score"] == 100.0
    assert [e["points"] for e in step["exercises"]] == [10.0] * 10
    assert sum(e["points"] for e in listed[APP]["exercises"]) == listed[APP]["max_score"]


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_every_endpoint_wants_a_known_token(service, samples, token):
    data = samples[STEP]["alice_correct.ipynb"]
    calls = [
        ("GET", "assignments", None),
        ("POST", f"assignments/{STEP}/check", data),
        ("POST", f"assignments/{STEP}/submissions", data),
        ("GET", f"assignments/{STEP}/submissions", None),
        ("GET", f"assignments/{STEP}/grades.csv", None),
        ("GET", "no/such/thing", None),
    ]
    for method, path, body in calls:
        answer = service.request(method, path, body, token=token)
        assert answer.status == 401, (method, path, answer.body)
        assert answer.header("WWW-Authenticate") == "token"
        assert answer.error == ("unknown token" if token else "no token (Authorization: token T)")


@pytest.mark.parametrize(
    "name", ["nope", "..%2F..%2Fetc", "..", "%2e%2e", f"{STEP}%2F..%2F{APP}", f"{STEP}%00"]
)
def test_an_unknown_assignment_or_a_path_traversal_is_404(service, samples, name):
    data = samples[STEP]["alice_correct.ipynb"]
    for method, path, body in [
        ("POST", f"assignments/{name}/check", data),
        ("GET", f"assignments/{name}/submissions", None),
        ("GET", f"assignments/{name}/grades.csv", None),
    ]:
        answer = service.request(method, path, body, user="prof")
        assert answer.status == 404, (path, answer.body)
        assert answer.error.startswith("no assignment named")


def test_paths_outside_the_api_are_json_404s(service):
    for path in ["/api/v1/assignments/../../../etc/passwd", "/", "/api/v2/assignments"]:
        answer = service.request("GET", path, user="s1")
        assert answer.status == 404
        assert "error" in answer.json()


def test_a_body_over_max_bytes_is_413_by_length_or_as_it_grows(service, samples):
    path = f"assignments/{STEP}/check"
    over = b" " * ((5 << 20) + 1)
    answer = service.request("POST", path, over, user="s2")
    assert answer.status == 413 and "too large" in answer.error
    chunks = iter([b" " * (1 << 20)] * 6)  # no Content-Length: refused as it grows
    answer = service.request("POST", path, chunks, user="s2", chunked=True)
    assert answer.status == 413 and "too large" in answer.error
    # a client that waits for "100 Continue" is answered before it sends anything
    with socket.create_connection((service.host, service.port), timeout=30) as raw:
        raw.sendall(
            f"POST /api/v1/{path} HTTP/1.1\r\nHost: x\r\nAuthorization: token token-s2\r\n"
            f"Content-Length: {10 << 30}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        head = raw.recv(4096).decode()
    assert head.startswith("HTTP/1.1 413"), head
    # the service still grades
    assert service.post_notebook("s2", STEP, samples[STEP]["alice_correct.ipynb"]).status == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{ this is not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[1, 2, 3]", "expected an object"),
        (b'{"cells": "none", "nbformat": 4}', "no 'cells' list"),
        (b'{"cells": [], "nbformat": "4"}', "no integer 'nbformat'"),
    ],
)
def test_a_body_that_is_not_a_notebook_is_400_with_the_reason(service, body, reason):
    answer = service.post_notebook("s3", STEP, body, kind="check")
    assert answer.status == 400
    assert reason in answer.error and "\n" not in answer.error


def test_results_equal_grader_grade_and_crashes_are_200(service, samples, tmp_path):
    chosen = {
        STEP: [
            "alice_correct.ipynb",
            "mistake_linear_forward.ipynb",
            "erin_crash.ipynb",
            "grace_deleted_compute_cost.ipynb",
            "carol_original_course_layout.ipynb",
            "heidi_edited_locked_test_cell.ipynb",
        ],
        APP: ["alice_correct.ipynb", "dave_forgot_the_seed.ipynb"],
    }
    jobs = [(assignment, file) for assignment, files in chosen.items() for file in files]
    users = dict(zip(jobs, STUDENTS[3:]))
    with ThreadPoolExecutor(len(jobs)) as threads:
        answers = dict(
            zip(
                jobs,
                threads.map(
                    lambda job: service.post_notebook(users[job], job[0], samples[job[0]][job[1]]),
                    jobs,
                ),
            )
        )
    assert {a.status for a in answers.values()} == {200}
    crash = answers[(STEP, "erin_crash.ipynb")].json()
    assert crash["exercises"]["linear_activation_backward"]["status"] == ERROR
    store = Store(service.db)
    try:
        for assignment, files in chosen.items():
            folder = tmp_path / assignment
            folder.mkdir()
            expected = _graded_by_grade(folder, {f: samples[assignment][f] for f in files}, folder)
            for file in files:
                answer = answers[(assignment, file)].json()
                graded = submission_from_dict(expected[Path(file).stem])
                shown = {key: answer[key] for key in student_result(graded)}
                assert shown == student_result(graded), file
                stored = store.get(answer["id"]).result
                assert stored == replace(
                    graded, student=users[(assignment, file)], submission=stored.submission
                ), file
    finally:
        store.close()


def test_hidden_expected_values_never_reach_the_student(service, samples):
    answer = service.post_notebook("s12", STEP, samples[STEP]["mistake_compute_cost.ipynb"])
    assert answer.status == 200
    text = "\n".join(_strings(answer.json()))  # every text the student is sent, decoded
    store = Store(service.db)
    try:
        result = store.get(answer.json()["id"]).result
    finally:
        store.close()
    hidden = [
        check
        for exercise in result.exercises
        for check in exercise.checks
        if not check.passed and check.student_message is not None
    ]
    assert hidden, "the mistake fails hidden checks"
    shown = answer.json()["exercises"]["compute_cost"]["checks"]
    for check in hidden:
        assert check.message != check.student_message
        assert check.message not in text
        assert {"name": check.name, "passed": False, "message": check.student_message} in shown


def test_a_notebook_looping_forever_holds_up_only_its_own_worker(service, samples):
    correct = samples[STEP]["alice_correct.ipynb"]

    def check(user: str, data: bytes) -> tuple[float, float, dict]:
        start = time.monotonic()
        answer = service.post_notebook(user, STEP, data, kind="check")
        assert answer.status == 200
        return start, time.monotonic(), answer.json()

    with ThreadPoolExecutor(3) as threads:
        alone = [end - start for start, end, _ in threads.map(check, ["s13", "s14"], [correct] * 2)]
        hostile = threads.submit(check, "s15", samples[STEP]["dave_infinite_loop.ipynb"])
        time.sleep(0.5)  # the loop has a worker
        others = list(threads.map(check, ["s13", "s14"], [correct] * 2))
        started, hostile_end, looped = hostile.result()
    assert looped["exercises"]["L_model_backward"]["status"] == TIMEOUT
    bound = 3 * max(alone) + 2.0  # generous: the machine is shared; no absolute speed
    for start, end, answer in others:
        assert answer["score"] == answer["max_score"]
        assert end - start < bound, (end - start, alone)
        assert end < hostile_end  # answered while the loop still ran
    assert all(e["status"] == PASSED for e in others[0][2]["exercises"].values())


def test_listings_students_see_their_own_instructors_everyone(service, samples):
    correct, wrong = (samples[STEP][f] for f in ("alice_correct.ipynb", "erin_crash.ipynb"))
    first = service.post_notebook("s16", STEP, wrong).json()
    second = service.post_notebook("s16", STEP, correct).json()
    other = service.post_notebook("s17", STEP, correct).json()
    assert service.post_notebook("s16", STEP, correct, kind="check").status == 200
    assert second["kind"] == "submission" and second["counted"] and not second["late"]
    own = service.request("GET", f"assignments/{STEP}/submissions", user="s16").json()
    assert [row["id"] for row in own["submissions"]] == [second["id"], first["id"]]
    assert own["submissions"][0]["received_at"] == second["received_at"]
    sneaky = service.request("GET", f"assignments/{STEP}/submissions?user=s17", user="s16")
    assert {row["user"] for row in sneaky.json()["submissions"]} == {"s16"}
    everyone = service.request("GET", f"assignments/{STEP}/submissions", user="prof").json()
    ids = {row["id"] for row in everyone["submissions"]}
    assert {first["id"], second["id"], other["id"]} <= ids
    latest = service.request("GET", f"assignments/{STEP}/submissions?latest=1", user="prof")
    rows = latest.json()["submissions"]
    assert len({row["user"] for row in rows}) == len(rows)
    assert {row["id"] for row in rows if row["user"] == "s16"} == {second["id"]}
    assert set(rows[0]) >= {"id", "user", "assignment", "received_at", "status", "score"}


def test_grades_csv_is_the_instructors_with_a_row_per_roster_student(service, samples):
    service.post_notebook("s18", APP, samples[APP]["alice_correct.ipynb"])
    denied = service.request("GET", f"assignments/{APP}/grades.csv", user="s18")
    assert denied.status == 403 and "instructors" in denied.error
    answer = service.request("GET", f"assignments/{APP}/grades.csv", user="prof")
    assert answer.status == 200 and answer.header("Content-Type").startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.body.decode())))
    by_student = {row["student"]: row for row in rows}
    assert by_student["s18"]["score"] == "10" and by_student["s18"]["two_layer_model"] == "5"
    assert by_student["never"]["score"] == "0" and by_student["never"]["two_layer_model"] == ""
    assert "prof" not in by_student  # instructors are not graded
    header = next(csv.reader(io.StringIO(answer.body.decode())))
    assert header == [
        "student",
        "submission",
        "score",
        "max_score",
        "two_layer_model",
        "L_layer_model",
    ]


def test_every_request_is_one_json_log_line(service):
    service.request("GET", "assignments", token="wrong")
    service.request("GET", "assignments", user="s19")
    service.request("GET", f"assignments/{STEP}/submissions", user="s19")
    time.sleep(0.2)
    lines = [line for line in service.log_lines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    keys = {"time", "user", "assignment", "method", "path", "status", "duration_ms"}
    assert all(set(record) == keys for record in records)
    mine = [r for r in records if r["user"] == "s19"]
    assert [(r["method"], r["status"], r["assignment"]) for r in mine[-2:]] == [
        ("GET", 200, None),
        ("GET", 200, STEP),
    ]
    assert any(r["user"] is None and r["status"] == 401 for r in records)
    assert all(isinstance(r["duration_ms"], float) for r in records)
