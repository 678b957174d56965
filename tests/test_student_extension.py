"""The student package's Jupyter server extension (grader_student.handlers), in a real
Jupyter server (pytest-jupyter): authentication and XSRF, paths confined to the root,
one-line errors, local runs (solved, broken, looping, cancelled) that never block the
server, and a real ``grader serve`` behind it; then its install as the wheel lays it
out (``jupyter server extension list`` / ``jupyter labextension list``)."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from service_support import running_service, token_of
from student_support import (
    NOTEBOOK_NAME,
    SERVICE_VARIABLES,
    STUDENT_DIR,
    clean_env,
    code_cell,
    filled_release,
    grade_cell,
)
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from traitlets.config import Config

# isort: split
# from student/ (student_support puts it on sys.path): the source tree, not an install
from grader_student import handlers

pytest_plugins = ("pytest_jupyter.jupyter_server",)

STEP = "dnn_step_by_step"
PATH = f"{STEP}/{NOTEBOOK_NAME}"
BROKEN = "def compute_cost(AL, Y):\n    return 0.5\n"
VERBS = {"get", "head", "post", "put", "patch", "delete", "options"}


@pytest.fixture
def local_timeout() -> float:
    """Seconds a local run may take (a test parametrizes it to shorten it)."""
    return 120.0


@pytest.fixture
def jp_server_config(local_timeout):
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"grader_student": True}},
            "GraderStudent": {"local_timeout": local_timeout},
        }
    )


@pytest.fixture(autouse=True)
def no_service(monkeypatch):
    for name in SERVICE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


async def post(jp_fetch, endpoint: str, body: dict) -> tuple[int, dict]:
    """POST JSON to grader-student/<endpoint> (with the token); status and JSON body."""
    response = await jp_fetch(
        "grader-student", endpoint, method="POST", body=json.dumps(body), raise_error=False
    )
    return response.code, json.loads(response.body or b"null")


def one_line_error(body: dict) -> str:
    assert set(body) == {"error"}, body
    assert body["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


def looping_notebook(path: Path, pid_file: Path) -> Path:
    """f passes; g's public test loops forever (after writing its process id)."""
    save_pid = f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
    cells = [
        code_cell("def f():\n    return 1\n", solution=True, grade_id="f"),
        grade_cell("f", "assert f() == 1\n"),
        grade_cell("g", save_pid + "while True:\n    pass\n"),
        grade_cell("h", "assert True\n"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    return path


# --- authentication, XSRF, paths, errors ------------------------------------------------


async def test_every_endpoint_refuses_a_request_without_the_token(
    jp_fetch, jp_http_port, jp_base_url, jp_root_dir
):
    filled_release(jp_root_dir / STEP)
    client = AsyncHTTPClient()
    for endpoint in handlers.HANDLERS:
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}grader-student/{endpoint}"
        body = json.dumps({"path": PATH, "request_id": "x"})
        response = await client.fetch(url, method="POST", body=body, raise_error=False)
        assert response.code in (401, 403), (endpoint, response.code)
        assert b"exercises" not in response.body
    status, _ = await post(jp_fetch, "cancel", {"request_id": "x"})  # the token: let in
    assert status == 200


async def test_a_cookie_authenticated_post_needs_the_xsrf_token(
    jp_fetch, jp_http_port, jp_base_url, jp_serverapp
):
    """What a browser does: the login cookie alone is not enough for a POST (a page of
    another site could send it); with the _xsrf cookie and header, as
    ServerConnection.makeRequest sends them, it is let in."""
    client = AsyncHTTPClient()
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    token = jp_serverapp.identity_provider.token
    login = await client.fetch(f"{base}api/status?token={token}", raise_error=False)
    assert login.code == 200
    cookies = [c.split(";")[0] for c in login.headers.get_list("Set-Cookie")]
    login_cookie = next(c for c in cookies if c.startswith("username-"))
    url = f"{base}grader-student/cancel"
    body = json.dumps({"request_id": "nothing-running"})
    refused = await client.fetch(
        url, method="POST", body=body, headers={"Cookie": login_cookie}, raise_error=False
    )
    assert refused.code == 403 and b"xsrf" in refused.body.lower()
    xsrf = "0123456789abcdef0123456789abcdef"
    allowed = await client.fetch(
        url,
        method="POST",
        body=body,
        headers={"Cookie": f"{login_cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        raise_error=False,
    )
    assert allowed.code == 200 and json.loads(allowed.body) == {"cancelled": False}


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("../outside.ipynb", {400}),
        (f"{STEP}/../../outside.ipynb", {400}),
        ("/etc/outside.ipynb", {400}),
        ("C:\\outside.ipynb", {400}),
        ("link/outside.ipynb", {403}),  # a symlink out of the root
        ("missing.ipynb", {404}),
        ("notes.txt", {400}),
        ("", {400}),
    ],
)
async def test_paths_outside_the_root_are_refused(jp_fetch, jp_root_dir, tmp_path, path, statuses):
    outside = tmp_path / "elsewhere"
    filled_release(outside)
    (outside / "outside.ipynb").write_bytes((outside / NOTEBOOK_NAME).read_bytes())
    (jp_root_dir / "link").symlink_to(outside, target_is_directory=True)
    (jp_root_dir / "notes.txt").write_text("x")
    for endpoint in ("check", "submit"):
        status, body = await post(jp_fetch, endpoint, {"path": path})
        assert status in statuses, (endpoint, status, body)
        line = one_line_error(body)
        assert str(outside) not in line and str(jp_root_dir) not in line


async def test_a_broken_notebook_is_one_line(jp_fetch, jp_root_dir):
    (jp_root_dir / "broken.ipynb").write_text('{"cells": [ {"cell_type": "code", ')
    (jp_root_dir / "plain.ipynb").write_text(json.dumps({"cells": [code_cell("x = 1\n")]}))
    status, body = await post(jp_fetch, "check", {"path": "broken.ipynb"})
    assert (status, one_line_error(body)) == (400, "broken.ipynb is not a notebook (not JSON)")
    status, body = await post(jp_fetch, "check", {"path": "plain.ipynb"})
    assert status == 422
    assert one_line_error(body) == "this notebook has no public tests (no nbgrader grade cells)"
    for bad in (b"not json", b"[1, 2]"):
        response = await jp_fetch(
            "grader-student", "check", method="POST", body=bad, raise_error=False
        )
        assert response.code == 400 and one_line_error(json.loads(response.body))


async def test_an_unexpected_failure_is_still_one_line(jp_fetch, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk\nfull")

    monkeypatch.setattr(handlers, "run", broken)
    status, body = await post(jp_fetch, "check", {"path": "x.ipynb"})
    assert status == 500
    assert one_line_error(body) == (
        "the check failed on the Jupyter server: RuntimeError('disk\\nfull')"
    )


async def test_submit_without_a_service_says_what_to_set(jp_fetch, jp_root_dir):
    filled_release(jp_root_dir / STEP)
    status, body = await post(jp_fetch, "submit", {"path": PATH})
    assert status == 400
    assert one_line_error(body).startswith("submitting needs the grading service: set ")


# --- local runs ------------------------------------------------------------------------------


async def test_a_solved_release_passes_locally(jp_fetch, jp_root_dir):
    filled_release(jp_root_dir / STEP)
    status, body = await post(jp_fetch, "check", {"path": PATH, "request_id": "r-1"})
    assert status == 200, body
    assert (body["source"], body["assignment"], body["request_id"]) == ("local", STEP, "r-1")
    result = body["result"]
    assert len(result["exercises"]) == 10
    assert {e["status"] for e in result["exercises"].values()} == {"passed"}
    assert (result["score"], result["max_score"], result["kind"]) == (100.0, 100.0, "local")
    assert "receipt" not in body


async def test_a_broken_exercise_fails_alone_locally_with_its_message(jp_fetch, jp_root_dir):
    filled_release(jp_root_dir / "week 3" / STEP, {"compute_cost": BROKEN})
    path = f"week 3/{PATH}"
    status, body = await post(jp_fetch, "check", {"path": path})
    assert status == 200, body
    exercises = body["result"]["exercises"]
    assert {n for n, e in exercises.items() if e["status"] != "passed"} == {"compute_cost"}
    broken = exercises["compute_cost"]
    assert broken["status"] == "failed" and broken["score"] == 0
    assert "test(s) failed for compute_cost" in broken["message"]
    (check,) = broken["checks"]
    assert "expected 0.2797765635793422, got 0.5" in check["message"]
    assert body["result"]["score"] == 90.0


@pytest.mark.parametrize("local_timeout", [4.0])
async def test_a_looping_notebook_times_out_without_blocking_the_server(
    jp_fetch, jp_root_dir, tmp_path, local_timeout
):
    pid_file = tmp_path / "pid"
    looping_notebook(jp_root_dir / "loop" / "loop.ipynb", pid_file)
    started = time.monotonic()
    hostile = asyncio.ensure_future(post(jp_fetch, "check", {"path": "loop/loop.ipynb"}))
    while not pid_file.exists():  # the loop is running
        assert time.monotonic() - started < 30 and not hostile.done()
        await asyncio.sleep(0.05)
    asked = time.monotonic()
    other = await jp_fetch("api", "contents", "loop")  # the server answers meanwhile
    assert other.code == 200 and time.monotonic() - asked < 2
    cancel_status, _ = await post(jp_fetch, "cancel", {"request_id": "not-this-one"})
    assert cancel_status == 200 and not hostile.done()

    status, body = await hostile
    took = time.monotonic() - started
    assert status == 200, body
    assert local_timeout <= took < local_timeout + 15
    result = body["result"]
    assert result["status"] == "timeout" and "did not finish within 4 s" in result["error"]
    statuses = {name: e["status"] for name, e in result["exercises"].items()}
    assert statuses == {"f": "passed", "g": "timeout", "h": "error"}
    assert result["exercises"]["h"]["message"].startswith("not run: the run was stopped")
    with pytest.raises(ProcessLookupError):  # killed at its limit
        os.kill(int(pid_file.read_text()), 0)


async def test_cancel_stops_a_local_run_at_once(jp_fetch, jp_root_dir, tmp_path):
    pid_file = tmp_path / "pid"
    looping_notebook(jp_root_dir / "loop.ipynb", pid_file)
    body = {"path": "loop.ipynb", "request_id": "run-7"}
    running = asyncio.ensure_future(post(jp_fetch, "check", body))
    started = time.monotonic()
    while not pid_file.exists():
        assert time.monotonic() - started < 30 and not running.done()
        await asyncio.sleep(0.05)
    again = await post(jp_fetch, "check", body)  # one run per id
    assert again[0] == 409 and "already running" in one_line_error(again[1])
    assert await post(jp_fetch, "cancel", {"request_id": "run-7"}) == (200, {"cancelled": True})
    status, answer = await running
    assert status == 409 and one_line_error(answer) == "the check was cancelled"
    assert time.monotonic() - started < 20  # not the 120 s limit
    deadline = time.monotonic() + 10
    while True:  # the run's process is gone
        try:
            os.kill(int(pid_file.read_text()), 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert await post(jp_fetch, "cancel", {"request_id": "run-7"}) == (200, {"cancelled": False})


async def test_a_request_the_browser_gives_up_stops_its_run(
    jp_fetch, jp_http_port, jp_base_url, jp_auth_header, jp_root_dir, tmp_path
):
    """The panel's Cancel aborts its fetch: the closed connection alone stops the run."""
    pid_file = tmp_path / "pid"
    looping_notebook(jp_root_dir / "loop.ipynb", pid_file)
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}grader-student/check"
    body = json.dumps({"path": "loop.ipynb", "request_id": "run-8"})
    client = AsyncHTTPClient(force_instance=True)  # its own connection, closed on timeout
    started = time.monotonic()
    fetching = client.fetch(
        url, method="POST", body=body, headers=jp_auth_header, request_timeout=3
    )
    with pytest.raises(HTTPClientError) as raised:
        await fetching
    assert raised.value.code == 599  # the client's own timeout: it gave up
    client.close()
    assert pid_file.exists()
    deadline = time.monotonic() + 10
    while True:
        try:
            os.kill(int(pid_file.read_text()), 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the run outlived its request"
        await asyncio.sleep(0.1)
    assert time.monotonic() - started < 20
    assert await post(jp_fetch, "cancel", {"request_id": "run-8"}) == (200, {"cancelled": False})


# --- with a grading service --------------------------------------------------------------------


async def test_with_a_service_check_and_submit_go_through_it(
    jp_fetch, jp_root_dir, tmp_path, monkeypatch
):
    """A real ``grader serve``: the check answers with its messages (hidden checks
    included), the submission with a receipt; a wrong token is a one-line 502."""
    filled_release(jp_root_dir / STEP, {"compute_cost": BROKEN})
    with running_service(tmp_path / "service", jobs=1) as service:
        monkeypatch.setenv("GRADER_SERVICE_URL", service.url)
        monkeypatch.setenv("GRADER_TOKEN", token_of("alice"))
        status, body = await post(jp_fetch, "check", {"path": PATH})
        assert status == 200, body
        assert (body["source"], body["result"]["kind"]) == ("service", "check")
        exercises = body["result"]["exercises"]
        assert {n for n, e in exercises.items() if e["status"] != "passed"} == {"compute_cost"}
        failed = [c for c in exercises["compute_cost"]["checks"] if not c["passed"]]
        assert failed and all(c["message"] for c in failed)

        status, body = await post(jp_fetch, "submit", {"path": PATH})
        assert status == 200, body
        receipt = body["receipt"]
        assert receipt["id"] == body["result"]["id"] and receipt["late"] is False
        assert receipt["text"].startswith(f"Submitted: receipt {receipt['id']}, received ")
        assert (receipt["score"], receipt["max_score"]) == (90.0, 100.0)
        listing = service.request("GET", f"assignments/{STEP}/submissions", user="prof")
        (row,) = [r for r in listing.json()["submissions"] if r["user"] == "alice"]
        assert row["id"] == receipt["id"]

        monkeypatch.setenv("GRADER_TOKEN", "not-a-token")
        status, body = await post(jp_fetch, "check", {"path": PATH})
        assert status == 502
        assert one_line_error(body).startswith("the grading service refused your token (401")

        # grader.json next to the notebook, as check() reads it
        monkeypatch.delenv("GRADER_SERVICE_URL")
        monkeypatch.delenv("GRADER_TOKEN")
        config = {"service_url": service.url, "token": token_of("bob")}
        (jp_root_dir / STEP / "grader.json").write_text(json.dumps(config))
        status, body = await post(jp_fetch, "check", {"path": PATH})
        assert status == 200 and body["source"] == "service", body
    status, body = await post(jp_fetch, "check", {"path": PATH})
    assert status == 502
    assert one_line_error(body).startswith(f"cannot reach the grading service at {service.url}")


# --- every handler is authenticated ----------------------------------------------------------


def unauthenticated_methods(source: str) -> list[str]:
    """'Class.method' of every HTTP verb method in ``source`` without the
    ``@tornado.web.authenticated`` decorator."""
    missing = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in VERBS:
                names = {ast.unparse(d) for d in item.decorator_list}
                if not names & {"tornado.web.authenticated", "web.authenticated"}:
                    missing.append(f"{node.name}.{item.name}")
    return missing


def test_every_handler_method_is_authenticated():
    source = Path(handlers.__file__).read_text(encoding="utf-8")
    assert unauthenticated_methods(source) == []
    verbs = [
        (cls.__name__, verb)
        for cls in handlers.HANDLERS.values()
        for verb in VERBS
        if verb in vars(cls)
    ]
    assert len(verbs) == 3  # the scan sees every route's method
    for name, verb in verbs:
        assert hasattr(getattr(handlers.HANDLERS[name.lower()[:-7]], verb), "__wrapped__")
    # the scan does catch a missing decorator
    bare = "class H(APIHandler):\n    async def post(self):\n        pass\n"
    assert unauthenticated_methods(bare) == ["H.post"]


def test_the_server_warns_of_no_unauthenticated_endpoint(tmp_path):
    """The extension template's check: a server that allows no unauthenticated access
    warns of every handler method lacking the decorator; there is none."""
    root = repr(str(tmp_path))
    script = (
        "import warnings\n"
        "from jupyter_server.serverapp import ServerApp\n"
        "from jupyter_server.utils import JupyterServerAuthWarning\n"
        f"app = ServerApp(allow_unauthenticated_access=False, root_dir={root},\n"
        "    jpserver_extensions={'grader_student': True},\n"
        "    reraise_server_extension_failures=True)\n"
        "with warnings.catch_warnings(record=True) as records:\n"
        "    warnings.simplefilter('always')\n"
        "    app.initialize(argv=[], find_extensions=False, new_httpserver=False)\n"
        "print([str(r.message) for r in records if issubclass(r.category,"
        " JupyterServerAuthWarning)])\n"
        "print(sorted(app.extension_manager.extensions))\n"
    )
    env = clean_env(PYTHONPATH=str(STUDENT_DIR), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    warned, loaded = done.stdout.strip().splitlines()[-2:]
    assert warned == "[]" and "grader_student" in loaded


# --- installed: jupyter server extension list / labextension list -----------------------------


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter_lists(python: str, env: dict[str, str]) -> tuple[str, str]:
    """What ``jupyter server extension list`` and ``jupyter labextension list`` print
    (colours taken out)."""

    def run(*args: str) -> str:
        done = subprocess.run(
            [python, "-m", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return ANSI.sub("", done.stdout + done.stderr)

    return (
        run("jupyter_server", "extension", "list"),
        run("jupyterlab.labextensions", "list"),
    )


def assert_enabled_and_ok(servers: str, labs: str) -> None:
    assert re.search(r"^\s*grader_student enabled$", servers, re.M), servers
    assert re.search(r"^\s*grader_student 0\.1\.0 OK$", servers, re.M), servers
    lines = [line for line in labs.splitlines() if "nb-grader-student v" in line]
    assert lines, labs
    for line in lines:
        assert re.search(r"nb-grader-student v0\.1\.0 enabled\s+OK", line), labs
        assert "(python, nb-grader-student)" in line, labs


def test_the_wheel_installs_both_extensions_enabled_and_ok(student_wheel, tmp_path):
    """The wheel installed in a venv (seeing this environment's Jupyter): the server
    extension enabled by the config file it brings, the prebuilt labextension found with
    no build step."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + ["--no-index", "--ignore-installed", str(student_wheel)],  # even when installed here
        check=True,
        capture_output=True,
    )
    assert (venv / "etc/jupyter/jupyter_server_config.d/grader_student.json").is_file()
    env = {k: v for k, v in clean_env().items() if not k.startswith("JUPYTER")}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "user-config")
    servers, labs = jupyter_lists(str(python), env)
    assert f"Config dir: {venv}/etc/jupyter" in servers
    assert_enabled_and_ok(servers, labs)
    assert f"{venv}/share/jupyter/labextensions" in labs


def test_this_environment_has_it_installed_enabled_and_ok():
    """``pip install ./student`` (the end-to-end test's JupyterLab needs it)."""
    try:
        installed = metadata.distribution("nb-grader-student")
    except metadata.PackageNotFoundError:
        pytest.skip("nb-grader-student is not installed here: pip install ./student")
    assert installed.version == "0.1.0"
    env = {k: v for k, v in clean_env().items() if not k.startswith("JUPYTER")}
    assert_enabled_and_ok(*jupyter_lists(sys.executable, env))
