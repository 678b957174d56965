"""The student package, installed alone in a fresh venv, against a real ``grader serve``.

``check()`` and ``submit()`` run in that venv's python (no ``grader`` importable there),
configured by GRADER_SERVICE_URL / GRADER_TOKEN or by grader.json in the notebook's
folder; the assertions read the table they print. One service (one worker) for the module;
each test uses its own students. The last test stops the service (an unreachable one).
A late submission's receipt is tested against the stand-in server of student_support.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from service_support import start_service, token_of
from student_support import (
    NOTEBOOK_NAME,
    SOLUTIONS_DIR,
    fake_service,
    run_python,
    student_result,
    table_rows,
)

from grader.assignments.dnn_step_by_step.samples import MISTAKES, with_function
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.service.store import Store

# isort: split
# from student/ (student_support puts it on sys.path): the source tree, not an install
import grader_student

STEP = "dnn_step_by_step"
BROKEN = "linear_forward"  # its mistake fails the notebook's example and the hidden cases
CHECK = "import grader_student, json; r = grader_student.check(); print('RESULT', json.dumps(r))"
SUBMIT = "import grader_student, json; r = grader_student.submit(); print('RESULT', json.dumps(r))"
CHECK_ONLY = "Checked by the grading service (hidden checks included); nothing was submitted."
RECEIPT = re.compile(r"^Submitted: receipt (\d+), received (.+), (on time|LATE.*)$", re.M)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = start_service(tmp_path_factory.mktemp("student-service"), jobs=1)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def points(service) -> dict[str, float]:
    """exercise -> points, as the service lists them."""
    answer = service.request("GET", "assignments", user="alice")
    assert answer.status == 200
    (step,) = [a for a in answer.json()["assignments"] if a["name"] == STEP]
    return {e["name"]: e["points"] for e in step["exercises"]}


def notebook(tmp_path: Path, broken: bool = False) -> Path:
    """The solved notebook (or it with one typical mistake) in a folder of its own."""
    solved = read_notebook(SOLUTIONS_DIR / NOTEBOOK_NAME)
    chosen = with_function(solved, BROKEN, MISTAKES[BROKEN]) if broken else solved
    path = tmp_path / STEP / NOTEBOOK_NAME
    path.parent.mkdir(parents=True)
    path.write_bytes(notebook_bytes(chosen))
    return path


def run(python: Path, code: str, path: Path, **env: str) -> tuple[list[str], dict | None]:
    """``code`` in the venv, in the notebook's folder: the printed lines before the
    RESULT line, and the returned result (None for an error)."""
    done = run_python(python, code, path.parent, **env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    *printed, last = done.stdout.splitlines()
    assert last.startswith("RESULT "), done.stdout
    return printed, json.loads(last[len("RESULT ") :])


def as_env(service, user: str) -> dict[str, str]:
    return {"GRADER_SERVICE_URL": service.url, "GRADER_TOKEN": token_of(user)}


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_correct_notebook_passes_every_exercise_with_full_points(
    service, points, student_venv_python, tmp_path
):
    path = notebook(tmp_path)
    printed, result = run(student_venv_python, CHECK, path, **as_env(service, "alice"))
    out = "\n".join(printed)
    assert f"Sending it to the grading service at {service.url} ({STEP})" in out
    assert table_rows(out) == dict.fromkeys(points, "passed"), out
    for name, value in points.items():
        assert re.search(rf"^{name}\s+passed\s+{value:g}/{value:g}$", out, re.M), name
    total = sum(points.values())
    assert re.search(rf"^total\s+{total:g}/{total:g}  \(10 of 10 passed\)$", out, re.M)
    assert "failed" not in out and printed[-1] == CHECK_ONLY
    assert result is not None and (result["kind"], result["score"]) == ("check", total)
    listing = service.request("GET", f"assignments/{STEP}/submissions", user="prof").json()
    assert not [row for row in listing["submissions"] if row["user"] == "alice"]  # a check only


def test_a_broken_exercise_fails_alone_with_the_services_messages(
    service, points, student_venv_python, tmp_path
):
    """Configured by grader.json next to the notebook (no variables): exactly the broken
    exercise fails; each failed check is listed by name with the message the service
    sends; the hidden cases' expected values (kept in the store) are nowhere."""
    path = notebook(tmp_path, broken=True)
    config = {"service_url": service.url + "/", "token": token_of("carol")}
    (path.parent / "grader.json").write_text(json.dumps(config))
    printed, result = run(student_venv_python, CHECK, path)
    out = "\n".join(printed)
    assert {name: status for name, status in table_rows(out).items() if status != "passed"} == {
        BROKEN: "FAILED"
    }
    assert len(table_rows(out)) == len(points)
    assert re.search(rf"^{BROKEN}\s+FAILED\s+0/{points[BROKEN]:g}$", out, re.M)
    total = sum(points.values())
    assert re.search(
        rf"^total\s+{total - points[BROKEN]:g}/{total:g}  \(9 of 10 passed\)$", out, re.M
    )

    store = Store(service.db)
    try:
        (stored,) = store.submissions(STEP, user="carol", kind="check")
    finally:
        store.close()
    assert stored.result is not None and result is not None and result["id"] == stored.id
    (graded,) = [e for e in stored.result.exercises if e.name == BROKEN]
    failed = [check for check in graded.checks if not check.passed]
    assert failed and len(failed) <= 5  # all of them listed
    assert f"    {len(failed)} of {len(graded.checks)} checks failed:" in printed
    hidden = [check for check in failed if check.shown_message(False) != check.message]
    assert hidden, "the mistake fails hidden cases"
    for check in failed:
        assert f"    - {check.name}" in printed
        assert flat(check.shown_message(False)) in flat(out)
    for check in hidden:
        assert flat(check.message) not in flat(out)
    assert result["exercises"][BROKEN]["checks"] == [
        {"name": c.name, "passed": c.passed, "message": c.shown_message(False)}
        for c in graded.checks
    ]


def test_submit_prints_the_receipt_and_the_service_holds_it(
    service, points, student_venv_python, tmp_path
):
    path = notebook(tmp_path)
    printed, result = run(student_venv_python, SUBMIT, path, **as_env(service, "bob"))
    out = "\n".join(printed)
    assert set(table_rows(out).values()) == {"passed"} and len(table_rows(out)) == len(points)
    receipt = RECEIPT.search(printed[-1])  # the receipt comes last
    assert receipt, out
    sid, received, timing = int(receipt.group(1)), receipt.group(2), receipt.group(3)
    assert timing == "on time" and result is not None and result["id"] == sid

    listing = service.request("GET", f"assignments/{STEP}/submissions", user="prof")
    assert listing.status == 200
    (row,) = [row for row in listing.json()["submissions"] if row["user"] == "bob"]
    assert row["id"] == sid and row["assignment"] == STEP
    assert (row["status"], row["score"], row["max_score"]) == ("graded", 100.0, 100.0)
    assert (row["late"], row["counted"]) == (False, True)
    when = datetime.fromisoformat(row["received_at"]).astimezone(timezone.utc)
    assert received == when.strftime("%Y-%m-%d %H:%M:%S UTC")
    own = service.request("GET", f"assignments/{STEP}/submissions", user="bob").json()
    assert [r["id"] for r in own["submissions"]] == [sid]


def test_a_wrong_token_is_one_line(service, student_venv_python, tmp_path):
    path = notebook(tmp_path)
    env = {"GRADER_SERVICE_URL": service.url, "GRADER_TOKEN": "not-a-token"}
    for code, name in ((CHECK, "check"), (SUBMIT, "submit")):
        printed, result = run(student_venv_python, code, path, **env)
        assert result is None and len(printed) == 3, printed  # what, where, the error
        assert printed[-1].startswith(f"{name}(): the grading service refused your token (401")
        assert "GRADER_TOKEN" in printed[-1]
    listing = service.request("GET", f"assignments/{STEP}/submissions", user="prof").json()
    assert {row["user"] for row in listing["submissions"]} <= {"bob"}  # nothing recorded


def test_a_stopped_service_is_one_line(service, student_venv_python, tmp_path):
    """Last in the module: stops the service."""
    path = notebook(tmp_path)
    assert service.stop() == 0
    for code, name in ((CHECK, "check"), (SUBMIT, "submit")):
        printed, result = run(student_venv_python, code, path, **as_env(service, "dave"))
        assert result is None and len(printed) == 3, printed
        assert printed[-1].startswith(
            f"{name}(): cannot reach the grading service at {service.url} ("
        )
        assert "GRADER_SERVICE_URL" in printed[-1]


# --- a late receipt, from the stand-in server -------------------------------------------

LATE = {
    "penalty": (
        {"penalty": 0.2, "score_after_penalty": 8.0, "counted": True},
        "received 2 days after the deadline (2030-01-01T00:00:00+00:00): 20% off the score",
        ["Score after the late penalty (20% off): 8/20 (graded 10)"],
        "<submission: 8/20 points after the late penalty, 1/2 exercises passed>",
    ),
    "refuse": (
        {"penalty": 0.0, "score_after_penalty": 10.0, "counted": False},
        "received 2 days after the deadline (2030-01-01T00:00:00+00:00): recorded, but not counted",
        [
            "This submission is not counted for a grade (see the course's late rules): "
            "your latest counted submission stands."
        ],
        "<submission: 10/20 points, 1/2 exercises passed>",
    ),
}


@pytest.mark.parametrize("policy", sorted(LATE))
def test_a_late_submission_says_so_with_the_penalized_score(policy, tmp_path, monkeypatch, capsys):
    fields, message, more, summary = LATE[policy]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [], "metadata": {}}))
    with fake_service() as fake:
        fake.body = {
            **student_result("submission"),
            "id": 42,
            "received_at": "2030-01-03T01:04:05+01:00",
            "late": True,
            "late_days": 2,
            "late_message": message,
            **fields,
        }
        monkeypatch.setenv("GRADER_SERVICE_URL", fake.url)
        monkeypatch.setenv("GRADER_TOKEN", "t")
        monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
        result = grader_student.submit(path)
    lines = capsys.readouterr().out.splitlines()
    receipt = ["Submitted: receipt 42, received 2030-01-03 00:04:05 UTC, LATE by 2 days"]
    assert lines[-2 - len(more) :] == [*receipt, f"Late: {message}", *more]
    assert result is not None and result.summary() == summary
