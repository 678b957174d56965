"""The student package (student/, distribution nb-grader-student, import grader_student).

Its wheel holds nothing of the grader (no module, import, reference or hidden-case line,
dependency); installed alone in a fresh venv it checks a release notebook locally and with
a service; the client's one-line errors are tested against a stand-in server."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from student_support import (
    STUDENT_DIR,
    code_cell,
    fake_ipython,
    fake_service,
    filled_release,
    grade_cell,
    grader_imports,
    hidden_lines,
    run_python,
    solution_lines,
    table_rows,
)

# isort: split
# from student/ (student_support puts it on sys.path): the source tree, not an install
import grader_student
from grader_student import errors, local, locate

BROKEN = "def compute_cost(AL, Y):\n    return 0.5\n"
HIDDEN_LINE = "the hidden checks need the grading service"


# student_wheel and student_venv_python: session fixtures in conftest.py


@pytest.fixture
def no_service(monkeypatch):
    for name in ("GRADER_SERVICE_URL", "GRADER_TOKEN", "JUPYTERHUB_API_TOKEN", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)


# --- (a) the wheel holds only the student package -------------------------------------


LABEXTENSION = "share/jupyter/labextensions/nb-grader-student/"


def test_the_wheel_holds_nothing_of_the_grader(student_wheel):
    with zipfile.ZipFile(student_wheel) as wheel:
        names = wheel.namelist()
        texts = {name: wheel.read(name).decode("utf-8") for name in names}
    assert any(name == "grader_student/api.py" for name in names)
    assert any(name == "grader_student/_run.py" for name in names)
    assert "grader_student/handlers.py" in names and "grader_student/server.py" in names
    dist = student_wheel.name.split("-")[0] + "-0.1.0"
    tops = {name.split("/")[0] for name in names}
    assert tops == {"grader_student", f"{dist}.dist-info", f"{dist}.data"}
    data = [name for name in names if name.startswith(f"{dist}.data/")]
    assert {name.split("/", 2)[2] for name in data} >= {
        "etc/jupyter/jupyter_server_config.d/grader_student.json",
        LABEXTENSION + "package.json",
        LABEXTENSION + "install.json",
        LABEXTENSION + "static/style.js",
    }
    # the prebuilt panel (the JS bundle) ships, and is scanned below like every file
    bundle = [name for name in names if LABEXTENSION in name and name.endswith(".js")]
    assert any("/static/remoteEntry." in name for name in bundle) and len(bundle) >= 3
    assert sum(len(texts[name]) for name in bundle) > 10_000
    assert not [n for n in names if n.endswith((".ipynb", ".h5", ".csv", ".sqlite", ".ts"))]
    forbidden = ("reference.py", "cases.py", "samples.py", "callbacks.py", "dataset.py")
    assert not [n for n in names if n.rsplit("/", 1)[-1] in forbidden]

    for name, text in texts.items():
        assert not re.search(r"\bgrader\b(?!_)[.\w]*\s+import|import\s+grader\b(?!_)", text), name
        assert not (name.endswith(".py") and grader_imports(text)), name

    solutions, hidden = solution_lines(), hidden_lines()
    assert len(solutions) > 20 and len(hidden) > 50  # the lists are real
    everything = "\n".join(texts.values())
    assert not [line for line in solutions if line in everything]
    assert not [line for line in hidden if line in everything]

    metadata = next(t for n, t in texts.items() if n.endswith(".dist-info/METADATA"))
    headers = Parser().parsestr(metadata)
    assert headers["Name"] == "nb-grader-student"
    assert headers.get_all("Requires-Dist") is None  # the standard library only
    assert not [v for _, v in headers.items() if "autograder" in v.lower()]  # no Requires-*


def test_the_student_sources_never_import_grader():
    """Also what a source checkout or an sdist would carry: the Python modules, and the
    frontend's sources and its prebuilt bundle (no grader name, no solution line)."""
    built = {"node_modules", "lib", "coverage", "build", "dist"}
    files = [
        path
        for path in STUDENT_DIR.rglob("*")
        if path.is_file() and not built & set(path.relative_to(STUDENT_DIR).parts)
    ]
    sources = [path for path in files if path.suffix == ".py"]
    assert len(sources) >= 8
    assert not [path for path in sources if grader_imports(path.read_text())]
    frontend = [path for path in files if path.suffix in (".ts", ".js", ".css", ".json")]
    assert any(path.name == "index.ts" for path in frontend)
    assert any(path.name.startswith("remoteEntry.") for path in frontend)
    solutions = solution_lines()
    for path in frontend:
        if path.name == "yarn.lock":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"import\s+grader\b(?!_)|from\s+grader\b(?!_)", text), path
        assert not [line for line in solutions if line in text], path


# --- (b) installed alone in a fresh venv, without a service -----------------------------

CHECK = "import grader_student; r = grader_student.check(); print('SCORE', r['score'])"


def test_the_venv_holds_the_package_alone(student_venv_python, tmp_path):
    done = run_python(
        student_venv_python,
        "import grader_student, importlib.util as u; print(grader_student.__file__); "
        "print(u.find_spec('grader'))",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    where, grader_spec = done.stdout.split()
    assert Path(where).is_relative_to(student_venv_python.parents[1])
    assert grader_spec == "None"


def test_check_passes_a_solved_release_in_the_venv(student_venv_python, tmp_path):
    notebook = filled_release(tmp_path / "work")
    done = run_python(student_venv_python, CHECK, notebook.parent)
    assert done.returncode == 0, done.stderr
    rows = table_rows(done.stdout)
    assert len(rows) == 10 and set(rows.values()) == {"passed"}, done.stdout
    assert "SCORE 100.0" in done.stdout and "100/100" in done.stdout
    assert HIDDEN_LINE in done.stdout
    assert "save the notebook first" in done.stdout


def test_check_fails_exactly_the_broken_exercise_in_the_venv(student_venv_python, tmp_path):
    notebook = filled_release(tmp_path / "work", {"compute_cost": BROKEN})
    done = run_python(student_venv_python, CHECK, notebook.parent)
    assert done.returncode == 0, done.stderr
    rows = table_rows(done.stdout)
    assert len(rows) == 10
    assert {name for name, status in rows.items() if status != "passed"} == {"compute_cost"}
    assert "SCORE 90.0" in done.stdout
    assert "test(s) failed for compute_cost" in done.stdout  # the exception's last line
    assert "expected 0.2797765635793422, got 0.5" in done.stdout  # the public test's words
    assert HIDDEN_LINE in done.stdout


def test_submit_from_the_venv_reaches_a_service(student_venv_python, tmp_path):
    notebook = filled_release(tmp_path / "work")
    code = "import grader_student; grader_student.submit()"
    with fake_service() as service:
        done = run_python(
            student_venv_python,
            code,
            notebook.parent,
            GRADER_SERVICE_URL=service.url,
            GRADER_TOKEN="tok-1",
        )
    assert done.returncode == 0, done.stderr
    assert "receipt 42" in done.stdout and "LATE by 2 days" in done.stdout
    (request,) = service.requests
    assert request["path"] == "/api/v1/assignments/dnn_step_by_step/submissions"
    assert request["headers"]["Authorization"] == "token tok-1"
    assert request["body"] == notebook.read_bytes()


# --- (c) the client against a stand-in for the API ------------------------------------


@pytest.fixture
def solved(tmp_path, no_service) -> Path:
    return filled_release(tmp_path / "work")


def test_check_with_a_service_prints_the_table_and_returns_the_result(solved, monkeypatch, capsys):
    with fake_service() as service:
        monkeypatch.setenv("GRADER_SERVICE_URL", service.url + "/")
        monkeypatch.setenv("GRADER_TOKEN", "tok-1")
        result = grader_student.check(solved)
    out = capsys.readouterr().out
    assert isinstance(result, dict) and result["score"] == 10.0
    assert result["exercises"]["compute_cost"]["status"] == "failed"
    assert re.search(r"^linear_forward\s+passed\s+10/10$", out, re.M)
    assert re.search(r"^compute_cost\s+FAILED\s+0/10$", out, re.M)
    assert "1 of 2 checks failed:" in out
    assert "- hidden case 2\n        wrong value for cost\n" in out  # the service's message
    assert "case 1" not in out  # passed checks are not listed
    assert re.search(r"^total\s+10/20", out, re.M)
    assert HIDDEN_LINE not in out
    (request,) = service.requests
    assert request["path"] == "/api/v1/assignments/dnn_step_by_step/check"
    assert request["headers"]["Authorization"] == "token tok-1"
    assert json.loads(request["body"]) == json.loads(solved.read_bytes())


STATUS_ERRORS = [
    (401, {}, errors.TokenRefusedError, ["refused your token", "GRADER_TOKEN"]),
    (403, {}, errors.TokenRefusedError, ["does not allow", "403"]),
    (413, {}, errors.NotebookTooLargeError, ["too large", "clear large outputs"]),
    (503, {"Retry-After": "30"}, errors.ServiceBusyError, ["busy", "try again in 30 s"]),
    (429, {"Retry-After": "120"}, errors.ServiceBusyError, ["too many", "in 2 min"]),
    (404, {}, errors.UnknownAssignmentError, ["no assignment 'dnn_step_by_step'"]),
    (400, {}, errors.BadNotebookError, ["could not read the notebook: the reason"]),
    (500, {}, errors.GraderClientError, ["failed (500: the reason second line)"]),
]


@pytest.mark.parametrize(("status", "headers", "kind", "words"), STATUS_ERRORS)
def test_each_refusal_is_one_clear_line(solved, monkeypatch, capsys, status, headers, kind, words):
    with fake_service() as service:
        service.status, service.headers = status, headers
        service.body = {"error": "the reason\nsecond line"}
        monkeypatch.setenv("GRADER_SERVICE_URL", service.url)
        monkeypatch.setenv("GRADER_TOKEN", "tok-1")
        with pytest.raises(kind) as raised:
            grader_student.check(solved, raise_errors=True)
        capsys.readouterr()
        assert grader_student.submit(solved) is None
    message = str(raised.value)
    assert "\n" not in message and raised.value.status == status
    for word in words:
        assert word in message
    if "Retry-After" in headers:
        assert raised.value.retry_after == float(headers["Retry-After"])
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1].startswith("submit(): ") and "Traceback" not in "".join(printed)


def test_an_unreachable_service_is_one_line_with_its_url(solved, monkeypatch, capsys):
    with fake_service() as service:
        url = service.url  # closed again on leaving: nothing listens there any more
    monkeypatch.setenv("GRADER_SERVICE_URL", url)
    monkeypatch.setenv("GRADER_TOKEN", "tok-1")
    assert grader_student.check(solved) is None
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("check(): cannot reach the grading service at " + url)


def test_settings_come_from_the_env_then_grader_json_then_the_hub(
    tmp_path, monkeypatch, no_service
):
    assert locate.find_service(tmp_path) is None
    (tmp_path / ".grader.json").write_text('{"service_url": "http://h:1/", "token": "f"}')
    assert locate.find_service(tmp_path) == locate.Service("http://h:1", "f")
    monkeypatch.setenv("GRADER_TOKEN", "e")
    monkeypatch.setenv("GRADER_SERVICE_URL", "https://e")
    assert locate.find_service(tmp_path) == locate.Service("https://e", "e")
    (tmp_path / ".grader.json").write_text('{"service_url": "http://h:1"}')
    monkeypatch.delenv("GRADER_TOKEN")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub")
    assert locate.find_service(tmp_path).token == "hub"
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN")
    with pytest.raises(errors.ConfigurationError, match="no token"):
        locate.find_service(tmp_path)
    (tmp_path / ".grader.json").write_text("{broken")
    with pytest.raises(errors.ConfigurationError, match="not valid JSON"):
        locate.find_service(tmp_path)


def test_submit_without_a_service_says_what_to_set(solved, capsys):
    assert grader_student.submit(solved) is None
    assert capsys.readouterr().out.strip() == (
        "submit(): submitting needs the grading service: set GRADER_SERVICE_URL and "
        "GRADER_TOKEN, or put grader.json next to the notebook"
    )


def test_the_assignment_name_is_quoted_whole(solved, monkeypatch):
    with fake_service() as service:
        monkeypatch.setenv("GRADER_SERVICE_URL", service.url)
        monkeypatch.setenv("GRADER_TOKEN", "t")
        grader_student.check(solved, assignment="../x y")
    assert service.requests[0]["path"] == "/api/v1/assignments/..%2Fx%20y/check"
    assert locate.assignment_name({}, Path("/c/week3/nb.ipynb")) == "week3"
    assert locate.assignment_name({}, Path("/c/week3/nb.ipynb"), "other") == "other"


# --- finding the notebook ---------------------------------------------------------------


def test_the_notebook_is_found_as_each_frontend_tells(tmp_path, monkeypatch, no_service):
    one, two = tmp_path / "one.ipynb", tmp_path / "sub" / "two.ipynb"
    two.parent.mkdir()
    for path in (one, two):
        path.write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert locate.find_notebook() == one.resolve()  # the only notebook here
    assert locate.find_notebook("sub/two.ipynb") == two.resolve()
    monkeypatch.setenv("JPY_SESSION_NAME", str(two))
    assert locate.find_notebook() == two.resolve()
    monkeypatch.delenv("JPY_SESSION_NAME")
    namespace = {}
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython(namespace))
    namespace["__session__"] = "course/sub/two.ipynb"  # a server path; the kernel runs in sub/
    monkeypatch.chdir(two.parent)
    assert locate.find_notebook() == two.resolve()
    namespace["__vsc_ipynb_file__"] = str(one)
    assert locate.find_notebook() == one.resolve()
    namespace.clear()
    (two.parent / "three.ipynb").write_text("{}")
    with pytest.raises(errors.NotebookNotFoundError, match=r'check\("my_notebook.ipynb"\)'):
        locate.find_notebook()
    with pytest.raises(errors.NotebookNotFoundError, match="no notebook at"):
        locate.find_notebook("missing.ipynb")


def test_the_result_shows_one_summary_line_as_a_cell_value():
    from IPython.lib import pretty  # an nb-autograder dependency, unlike the venv's

    result = grader_student.Result(
        {"kind": "check", "score": 5.0, "max_score": 10.0, "exercises": {"a": {"status": "passed"}}}
    )
    assert pretty.pretty(result) == "<check: 5/10 points, 1/1 exercises passed>"
    assert json.loads(json.dumps(result))["score"] == 5.0


# --- the local run: which cells, and its limits -------------------------------------------


def test_the_plan_keeps_marked_cells_and_definitions_only():
    notebook = {
        "cells": [
            code_cell("import os\n%matplotlib inline\n!pip install x\nfiles = !ls\n", locked=True),
            code_cell("def f():\n    return 1\n", solution=True, grade_id="f"),
            code_cell("import math\ndef helper():\n    return 2\n"),  # the student's: definitions
            code_cell("f()\nprint('exploring')\n"),  # the student's: not only definitions
            code_cell("%%bash\necho hi\n", locked=True),
            code_cell("model = f()\n", locked=True, grade_id="train"),  # a demonstration
            code_cell("print(model)\n", locked=True, grade_id="show"),  # uses its result
            grade_cell("f", "assert f() == 1\n"),
            {"cell_type": "markdown", "metadata": {}, "source": "f()"},
        ]
    }
    cells, notes = local.plan(notebook)
    assert [c["label"] for c in cells] == ["cell 1", "cell 2", "cell 3", "cell 8"]
    assert cells[0]["source"] == "import os\npass\npass\npass"
    assert [c["role"] for c in cells] == ["locked", "solution", "student", "test"]
    assert cells[3]["exercise"] == "f" and cells[3]["points"] == 2.0
    assert notes and "cells 6, 7" in notes[0]


def test_a_raising_solution_is_an_error_and_a_loop_is_stopped(tmp_path):
    notebook = {
        "cells": [
            code_cell("def f():\n    return 1\n", solution=True, grade_id="f"),
            code_cell("def g(:\n", solution=True, grade_id="g"),
            grade_cell("f", "assert f() == 1\n"),
            grade_cell("g", "g()\n"),
            grade_cell("h", "print('trying')\nassert 1 == 2, 'no'\n", points=3),
        ]
    }
    result = local.run_public_tests(notebook, tmp_path, timeout=60)
    exercises = result["exercises"]
    statuses = {name: e["status"] for name, e in exercises.items()}
    assert statuses == dict(f="passed", g="error", h="failed")
    assert exercises["g"]["message"].startswith("cell 2 raised SyntaxError")
    assert exercises["h"]["message"] == "AssertionError: no"
    assert exercises["h"]["checks"][0]["message"] == "trying"
    assert (result["score"], result["max_score"]) == (2.0, 7.0)

    pid_file = tmp_path / "pid"
    save_pid = f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
    looping = {"cells": [code_cell(save_pid, locked=True), grade_cell("f", "while True: pass")]}
    started = time.monotonic()
    with pytest.raises(errors.LocalRunError, match=r"within 1 s \(stopped in cell 2\)"):
        local.run_public_tests(looping, tmp_path, timeout=1)
    assert time.monotonic() - started < 20
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_a_notebook_without_public_tests_says_so(tmp_path, capsys, no_service):
    path = tmp_path / "plain.ipynb"
    path.write_text(json.dumps({"cells": [code_cell("x = 1\n")], "metadata": {}}))
    assert grader_student.check(path) is None
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "check(): this notebook has no public tests (no nbgrader grade cells)"
    )
    path.write_text("not json")
    with pytest.raises(errors.NotebookNotFoundError, match="is not a notebook"):
        grader_student.check(path, raise_errors=True)


def test_check_in_a_jupyter_kernel_finds_its_notebook(tmp_path, monkeypatch, no_service):
    """In a real ipykernel: the notebook comes from ``__session__`` (Jupyter Server's
    JPY_SESSION_NAME; another notebook lies next to it), the table is printed, and the
    cell's value shows as one summary line."""
    import nbclient
    import nbformat

    notebook_path = filled_release(tmp_path / "work")
    (notebook_path.parent / "scratch.ipynb").write_text("{}")
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook_path))
    monkeypatch.setenv("PYTHONPATH", str(STUDENT_DIR))
    cell = nbformat.v4.new_code_cell("import grader_student\ngrader_student.check()")
    notebook = nbformat.v4.new_notebook(cells=[cell])
    nbclient.NotebookClient(
        notebook, timeout=120, resources={"metadata": {"path": str(notebook_path.parent)}}
    ).execute()
    outputs = notebook.cells[0].outputs
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"Checking {notebook_path.name} as last saved" in printed
    assert set(table_rows(printed).values()) == {"passed"} and HIDDEN_LINE in printed
    (value,) = [o for o in outputs if o.output_type == "execute_result"]
    assert value.data["text/plain"] == "<public tests: 100/100 points, 10/10 exercises passed>"
