"""The Grader dashboard's server extension (grader.jupyter) over real HTTP, with
pytest-jupyter: a Jupyter server whose root is a temporary course (source_notebooks/,
release/, solutions/ and a few sample submissions)."""

from __future__ import annotations

import ast
import asyncio
import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from tornado.httpclient import HTTPClientError

from grader.assignments.dnn_step_by_step.samples import sample_batch
from grader.cli import cli
from grader.jupyter import handlers
from grader.service.store import Store

pytest_plugins = ("pytest_jupyter.jupyter_server",)

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "dnn_step_by_step"
JUPYTER_PACKAGE = REPO / "grader" / "jupyter"
VERBS = {"get", "post", "put", "patch", "delete", "head"}
SAMPLES = (
    "alice_correct.ipynb",
    "dave_infinite_loop.ipynb",
    "frank_not_a_notebook.ipynb",
    "mistake_compute_cost.ipynb",
)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
JOB_LIMIT = 300  # seconds a job may take on a slow, shared machine


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"grader.jupyter": True}}}


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    batch = sample_batch(REPO / "solutions" / ASSIGNMENT, REPO / "release" / ASSIGNMENT)
    return {name: batch[name] for name in SAMPLES}


@pytest.fixture
def course(jp_root_dir: Path, samples: dict[str, bytes]) -> Path:
    """The server root: one assignment's folders and ``submissions/``."""
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for kind in ("source_notebooks", "release", "solutions"):
        shutil.copytree(REPO / kind / ASSIGNMENT, jp_root_dir / kind / ASSIGNMENT, ignore=ignore)
    (jp_root_dir / "submissions").mkdir()
    for name, data in samples.items():
        (jp_root_dir / "submissions" / name).write_bytes(data)
    return jp_root_dir


async def call(
    jp_fetch, method: str, *parts: str, body: dict | None = None, raw: bool = False, **kwargs
):
    """The API's JSON answer; with ``raw``, the response itself."""
    response = await jp_fetch(
        "grader",
        "api",
        *parts,
        method=method,
        body=None if body is None else json.dumps(body),
        **kwargs,
    )
    return response if raw else json.loads(response.body)


async def refused(jp_fetch, method: str, *parts: str, body: dict | None = None, **kwargs):
    """The status and the one-line error of a request that must fail."""
    with pytest.raises(HTTPClientError) as caught:
        await call(jp_fetch, method, *parts, body=body, **kwargs)
    text = caught.value.response.body.decode()
    assert "\n" not in text.strip()
    return caught.value.code, json.loads(text).get("error", "")


async def finished(jp_fetch, job: dict) -> dict:
    deadline = time.monotonic() + JOB_LIMIT
    while True:
        status = await call(jp_fetch, "GET", "jobs", job["id"])
        if status["state"] != "running":
            return status
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.5)


def test_every_handler_method_is_authenticated():
    """A static scan: each HTTP method of every class of the extension is decorated."""
    checked, missing = [], []
    for path in sorted(JUPYTER_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for method in node.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    method.name in VERBS
                ):
                    names = {ast.unparse(d) for d in method.decorator_list}
                    checked.append(f"{node.name}.{method.name}")
                    if not names & {"tornado.web.authenticated", "web.authenticated"}:
                        missing.append(f"{path.name}: {node.name}.{method.name}")
    assert missing == []
    routed = {cls for _, cls in handlers.routes()}
    assert len(checked) >= len(routed) >= 8
    for cls in routed:  # and at run time: tornado's decorator wraps each of them
        for verb in VERBS & set(vars(cls)):
            assert hasattr(vars(cls)[verb], "__wrapped__"), f"{cls.__name__}.{verb}"


@pytest.mark.parametrize(
    "method, parts, body",
    [
        ("GET", ("assignments",), None),
        ("POST", ("grade",), {"folder": "submissions"}),
        ("POST", ("release",), {"assignment": ASSIGNMENT}),
        ("GET", ("jobs",), None),
        ("GET", ("jobs", "0123456789ab"), None),
        ("GET", ("jobs", "0123456789ab", "results"), None),
        ("GET", ("jobs", "0123456789ab", "download", "grades.csv"), None),
        ("GET", ("jobs", "0123456789ab", "feedback", "alice"), None),
    ],
)
async def test_every_route_needs_the_token(jp_fetch, course, method, parts, body):
    code, _ = await refused(jp_fetch, method, *parts, body=body, headers={"Authorization": ""})
    assert code in (401, 403)
    assert not (course / "grading-output").exists()


async def test_the_assignments_of_the_course(jp_fetch, course):
    (course / "source_notebooks" / "broken").mkdir()
    (course / "source_notebooks" / "broken" / "x.ipynb").write_text("{ not json")
    listed = {a["folder"]: a for a in (await call(jp_fetch, "GET", "assignments"))["assignments"]}
    assert set(listed) == {ASSIGNMENT, "broken"}
    ours = listed[ASSIGNMENT]
    assert (ours["name"], ours["release"], ours["solutions"]) == (ASSIGNMENT, True, True)
    assert len(ours["exercises"]) == 10 and ours["max_score"] == 100
    assert ours["exercises"][0] == {"name": "initialize_parameters", "points": 10}
    assert ours["title"].startswith("Building your Deep Neural Network")
    assert listed["broken"]["error"] and listed["broken"]["release"] is False


async def test_paths_outside_the_root_are_refused(jp_fetch, course, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (course / "escape").symlink_to(outside)
    for folder in ("../", "/etc", "submissions/../../outside", "escape", "escape/x"):
        code, error = await refused(jp_fetch, "POST", "grade", body={"folder": folder})
        assert code == 400, folder
        assert "server root" in error
    assert await refused(jp_fetch, "POST", "grade", body={"folder": "nothing"}) == (
        404,
        "folder nothing does not exist",
    )
    assert (await refused(jp_fetch, "POST", "grade", body={"folder": "."}))[0] == 400
    assert (await refused(jp_fetch, "POST", "grade", body={"db": "none.db"}))[0] == 404
    assert (await refused(jp_fetch, "POST", "grade", body={}))[0] == 400
    for name in ("../release", "", "a/b"):
        assert (await refused(jp_fetch, "POST", "release", body={"assignment": name}))[0] == 400
    assert (await refused(jp_fetch, "POST", "release", body={"assignment": "nope"}))[0] == 404
    assert (await refused(jp_fetch, "GET", "jobs", "0123456789ab"))[0] == 404
    assert not (course / "grading-output").exists() and not list(outside.iterdir())


async def test_a_broken_notebook_is_a_result_not_a_failed_job(jp_fetch, course):
    folder = course / "two"
    folder.mkdir()
    for name in ("alice_correct.ipynb", "frank_not_a_notebook.ipynb"):
        shutil.copy(course / "submissions" / name, folder / name)
    job = await call(jp_fetch, "POST", "grade", body={"folder": "two"})
    assert (job["state"], job["out"]) == ("running", "grading-output/two")
    status = await finished(jp_fetch, job)
    assert (status["state"], status["done"], status["total"]) == ("done", 2, 2)
    rows = {
        r["student"]: r for r in (await call(jp_fetch, "GET", "jobs", job["id"], "results"))["rows"]
    }
    assert rows["frank_not_a_notebook"]["status"] == "unreadable"
    assert rows["frank_not_a_notebook"]["error"]
    assert (rows["alice_correct"]["status"], rows["alice_correct"]["score"]) == ("graded", 100)


async def test_a_folder_without_notebooks_fails_the_job_with_one_line(jp_fetch, course):
    (course / "empty").mkdir()
    status = await finished(
        jp_fetch, await call(jp_fetch, "POST", "grade", body={"folder": "empty"})
    )
    assert status["state"] == "failed"
    assert status["error"] == "no notebooks (*.ipynb) found in empty; nothing graded"
    code, error = await refused(jp_fetch, "GET", "jobs", status["id"], "results")
    assert code == 409 and "failed" in error


async def test_a_looping_notebook_blocks_nothing_and_results_are_grader_grades(
    jp_fetch, course, monkeypatch, tmp_path
):
    job = await call(jp_fetch, "POST", "grade", body={"folder": "submissions"})
    assert job["state"] == "running"
    code, error = await refused(jp_fetch, "POST", "grade", body={"folder": "submissions"})
    assert code == 409 and job["id"] in error  # one job at a time writes a folder
    # while the loop waits out its time limit in the job's sandbox, the server answers
    answered = []
    while (status := await call(jp_fetch, "GET", "jobs", job["id"]))["state"] == "running":
        start = time.monotonic()
        listed = await call(jp_fetch, "GET", "assignments")
        answered.append(time.monotonic() - start)
        assert listed["assignments"][0]["name"] == ASSIGNMENT
        await asyncio.sleep(0.5)
    assert len(answered) >= 5 and max(answered) < 3, answered
    assert (status["state"], status["done"], status["total"]) == ("done", 4, 4), status

    # the same folder through `grader grade`
    monkeypatch.setenv("GRADER_RELEASE_ROOT", str(course / "release"))
    out = tmp_path / "cli-out"
    ran = CliRunner().invoke(cli, ["grade", str(course / "submissions"), "--out", str(out), "-q"])
    assert ran.exit_code == 0, ran.output
    expected = json.loads((out / "grades.json").read_text())

    results = await call(jp_fetch, "GET", "jobs", job["id"], "results")
    assert results["assignments"] == [ASSIGNMENT] and results["out"] == "grading-output/submissions"
    rows = [
        (
            r["student"],
            r["submission"],
            r["status"],
            r["score"],
            r["max_score"],
            {name: e["score"] for name, e in r["exercises"].items()},
        )
        for r in results["rows"]
    ]
    assert rows == [
        (
            s["student"],
            s["submission"],
            s["status"],
            s["score"],
            s["max_score"],
            {name: e["score"] for name, e in s["exercises"].items()},
        )
        for s in expected["submissions"]
    ]
    statuses = {r["student"]: r["exercises"] for r in results["rows"]}
    assert "timeout" in {e["status"] for e in statuses["dave_infinite_loop"].values()}
    assert sum(b["count"] for b in results["histogram"]) == 4  # unreadable counts as 0
    assert results["histogram"][-1]["high"] == 100
    assert [p["exercise"] for p in results["pass_rates"]] == expected["exercises"]
    rate = {p["exercise"]: p["rate"] for p in results["pass_rates"]}
    assert rate["compute_cost"] == pytest.approx(2 / 3)  # of the 3 graded
    assert results["stats"]["unreadable"] == 1

    reports = course / "grading-output" / "submissions"
    for name in ("grades.csv", "grades.json", "junit.xml"):
        download = await call(jp_fetch, "GET", "jobs", job["id"], "download", name, raw=True)
        assert download.body == (reports / name).read_bytes()
        assert "attachment" in download.headers["Content-Disposition"]
    assert (reports / "grades.csv").read_bytes() == (out / "grades.csv").read_bytes()
    page = await call(jp_fetch, "GET", "jobs", job["id"], "feedback", "alice_correct", raw=True)
    assert page.body == (reports / "feedback" / "alice_correct.html").read_bytes()
    assert page.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in page.headers["Content-Security-Policy"]
    for parts in (("download", "index.html"), ("feedback", "nobody")):
        assert (await refused(jp_fetch, "GET", "jobs", job["id"], *parts))[0] == 404


async def test_the_service_store_as_grader_export_writes_it(jp_fetch, course, tmp_path):
    from grader.results import GRADED, ExerciseResult, SubmissionResult

    def result(user: str, score: float) -> SubmissionResult:
        exercise = ExerciseResult("first", score, 5.0, "passed" if score == 5 else "failed")
        return SubmissionResult(user, "upload.ipynb", score, 5.0, GRADED, exercises=(exercise,))

    with Store(course / "service.db") as store:
        for user, score in (("alice", 5.0), ("bob", 2.5)):
            sid = store.accept(
                user=user, assignment="hw1", kind="submission", data=user.encode(), received_at=T0
            )
            store.finish(sid, result(user, score), "1.0")
    job = await call(jp_fetch, "POST", "grade", body={"db": "service.db"})
    assert (await finished(jp_fetch, job))["state"] == "done"
    results = await call(jp_fetch, "GET", "jobs", job["id"], "results")
    assert [(r["student"], r["score"]) for r in results["rows"]] == [("alice", 5), ("bob", 2.5)]
    assert [(p["exercise"], p["rate"]) for p in results["pass_rates"]] == [("first", 0.5)]
    out = tmp_path / "export"
    ran = CliRunner().invoke(cli, ["export", "--db", str(course / "service.db"), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    written = course / results["out"] / "grades.csv"
    assert written.read_bytes() == (out / "grades.csv").read_bytes()


async def test_regenerating_a_release_lists_what_changed(jp_fetch, course):
    release = course / "release" / ASSIGNMENT
    helpers = sorted(p.name for p in release.glob("*.py"))
    (release / helpers[0]).unlink()  # to be added back
    (release / helpers[1]).write_text("# edited by hand\n")  # to be changed back
    (release / "stray.txt").write_text("not generated")  # to be removed
    job = await call(jp_fetch, "POST", "release", body={"assignment": ASSIGNMENT})
    assert (await refused(jp_fetch, "POST", "release", body={"assignment": ASSIGNMENT}))[0] == 409
    status = await finished(jp_fetch, job)
    assert status["state"] == "done", status
    changes = {
        c["path"]: c["change"]
        for c in status["result"]["changes"]
        if c["path"].startswith(("release/", "solutions/"))
    }
    assert changes == {
        f"release/{ASSIGNMENT}/{helpers[0]}": "added",
        f"release/{ASSIGNMENT}/{helpers[1]}": "changed",
        f"release/{ASSIGNMENT}/stray.txt": "removed",
    }
    for path in (REPO / "release" / ASSIGNMENT).iterdir():
        if path.is_file():
            assert (release / path.name).read_bytes() == path.read_bytes(), path.name


async def test_a_job_stopped_leaves_no_process(jp_fetch, jp_serverapp, course):
    job = await call(jp_fetch, "POST", "grade", body={"folder": "submissions"})
    stopped = await call(jp_fetch, "DELETE", "jobs", job["id"])
    assert stopped["state"] == "failed" and "stop" in stopped["error"]
    process = jp_serverapp.web_app.settings[handlers.JOBS_SETTING].find(job["id"]).process
    assert process.returncode is not None


def test_a_worker_whose_server_is_gone_stops(course):
    """The server killed (its end of the worker's stdin closed): the worker stops."""
    request = {"kind": "grade", "root": str(course), "folder": "submissions", "out": "o"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "grader.jupyter.worker", json.dumps(request)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=course,
    )
    try:
        assert json.loads(worker.stdout.readline()) == {"total": 4, "done": 0}
        worker.stdin.close()
        assert worker.wait(timeout=30) == 143
        last = worker.stdout.read().decode().strip().splitlines()[-1]
        assert "stopped" in json.loads(last)["error"]
    finally:
        worker.kill()
        worker.wait()
