"""Helpers for testing the student package (student/): its wheel, a fresh venv with only
that wheel installed, release notebooks filled in, and a stand-in for the service's API.

``student_python(root)`` is what a test against the real service reuses: it builds the
wheel and installs it alone into a new venv under ``root``, and returns that venv's
python. The venv sees the notebook's own libraries (numpy, h5py, matplotlib) through a
path line to this interpreter's site-packages, whose ``.pth`` hooks are not run, so the
editable install of ``grader`` is not importable there (a test asserts it).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import site as site_module
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
STUDENT_DIR = REPO_ROOT / "student"
if str(STUDENT_DIR) not in sys.path:  # the in-process tests import it from the source tree
    sys.path.insert(0, str(STUDENT_DIR))

ASSIGNMENT = "dnn_step_by_step"
NOTEBOOK_NAME = "Building_your_Deep_Neural_Network_Step_by_Step.ipynb"
RELEASE_DIR = REPO_ROOT / "release" / ASSIGNMENT
SOLUTIONS_DIR = REPO_ROOT / "solutions" / ASSIGNMENT
SERVICE_VARIABLES = (
    "GRADER_SERVICE_URL",
    "GRADER_TOKEN",
    "JUPYTERHUB_API_TOKEN",
    "JPY_SESSION_NAME",
)


def build_wheel(out_dir: Path) -> Path:
    """``pip wheel`` of a copy of student/ (the build leaves egg-info and build/ behind,
    which must not land in the repository)."""
    source = out_dir / "source"
    shutil.copytree(
        STUDENT_DIR,
        source,
        ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "node_modules"),
    )
    wheels = out_dir / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("nb_grader_student-*.whl")
    return wheel


def make_venv(root: Path, wheel: Path) -> Path:
    """A new venv at ``root`` with ``wheel`` installed and nothing else; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # the student's scientific stack, without running this interpreter's .pth hooks: its
    # own site-packages and, when it is a venv that sees its base's, the base's too
    libraries = dict.fromkeys([sysconfig.get_paths()["purelib"], *site_module.getsitepackages()])
    Path(site, "notebook_libraries.pth").write_text("".join(f"{p}\n" for p in libraries))
    return python


def student_python(root: Path) -> Path:
    """Build the wheel and install it alone into a fresh venv under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    return make_venv(root / "venv", build_wheel(root))


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any service setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def run_python(python: Path, code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``python -c code`` in ``cwd`` with a clean environment; output as text."""
    return subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def solution_sources(solutions_dir: Path = SOLUTIONS_DIR) -> dict[str, str]:
    """grade_id -> source of every solution cell of the solved notebook."""
    notebook = json.loads((solutions_dir / NOTEBOOK_NAME).read_text())
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"])
        for cell in notebook["cells"]
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    }


def filled_release(dest: Path, replace: dict[str, str] | None = None) -> Path:
    """A copy of the release folder at ``dest`` whose notebook has the solutions filled
    in (``replace``: grade_id -> other source, e.g. a broken exercise); its path."""
    shutil.copytree(RELEASE_DIR, dest)
    path = dest / NOTEBOOK_NAME
    notebook = json.loads(path.read_text())
    replace = replace or {}
    sources = {**solution_sources(), **replace}
    for cell in notebook["cells"]:
        marks = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = marks.get("grade_id")
        if grade_id in sources and (marks.get("solution") or grade_id in replace):
            cell["source"] = sources[grade_id]
    path.write_text(json.dumps(notebook))
    return path


# --- what the tests compare against ---------------------------------------------------


def solution_lines() -> set[str]:
    """Distinctive lines of the source notebooks' solution regions."""
    found = set()
    for path in REPO_ROOT.glob("source_notebooks/*/*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            inside = False
            for line in "".join(cell["source"]).splitlines():
                stripped = line.strip()
                if stripped.startswith("### BEGIN SOLUTION"):
                    inside = True
                elif stripped.startswith("### END SOLUTION"):
                    inside = False
                elif inside and len(stripped) >= 12 and not stripped.startswith("#"):
                    found.add(stripped)
    return found


def hidden_lines() -> set[str]:
    """Distinctive code lines of the reference and the hidden-case generators."""
    found = set()
    for name in ("reference.py", "cases.py", "samples.py"):
        for path in REPO_ROOT.glob(f"grader/assignments/*/{name}"):
            source = path.read_text()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for statement in body:
                    for line in (ast.get_source_segment(source, statement) or "").splitlines():
                        stripped = line.strip()
                        if len(stripped) >= 20 and not stripped.startswith(("#", '"', "'")):
                            found.add(stripped)
    return found


def fake_ipython(namespace: dict[str, Any]) -> ModuleType:
    """A module standing in for IPython whose shell's user namespace is ``namespace``."""
    module = ModuleType("IPython")
    module.get_ipython = lambda: SimpleNamespace(user_ns=namespace)  # type: ignore[attr-defined]
    return module


def grader_imports(source: str) -> list[str]:
    """The modules of ``grader`` that Python ``source`` imports (anywhere in it)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        found += [name for name in names if name.split(".")[0] == "grader"]
    return found


def table_rows(output: str) -> dict[str, str]:
    """exercise -> status word, from the printed table."""
    rows = {}
    for line in output.splitlines():
        match = re.match(r"^(\w+)\s+(passed|FAILED|ERROR|TIMEOUT)\s+\S+/\S+$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def code_cell(source, **marks):
    metadata = {"nbgrader": {"grade_id": "x", **marks}} if marks else {}
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": []}


def grade_cell(name, source, points=2):
    return code_cell(source, grade=True, grade_id=f"{name}_test", points=points, locked=True)


# --- a stand-in for the service's HTTP API (the client side's contract) ------------------


def student_result(kind: str = "check") -> dict[str, Any]:
    """A service answer: one exercise passed, one failed with a hidden check's message."""
    return {
        "status": "graded",
        "score": 10.0,
        "max_score": 20.0,
        "error": None,
        "kind": kind,
        "exercises": {
            "linear_forward": {
                "status": "passed",
                "score": 10.0,
                "max_score": 10.0,
                "message": "",
                "checks": [{"name": "case 1", "passed": True, "message": ""}],
            },
            "compute_cost": {
                "status": "failed",
                "score": 0.0,
                "max_score": 10.0,
                "message": "",
                "checks": [
                    {"name": "case 1", "passed": True, "message": ""},
                    {"name": "hidden case 2", "passed": False, "message": "wrong value for cost"},
                ],
            },
        },
    }


@dataclass
class FakeService:
    """Answers every request with ``status``/``body``/``headers`` and records it."""

    status: int = 200
    body: Any = None  # None: a student_result of the request's kind
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@contextmanager
def fake_service() -> Iterator[FakeService]:
    """A FakeService listening on a free loopback port for the duration."""
    state = FakeService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            body = state.body
            if body is None:
                kind = "submission" if self.path.endswith("/submissions") else "check"
                body = student_result(kind)
                if kind == "submission":
                    body.update(id=42, received_at="2030-01-02T03:04:05Z", late=True, late_days=2)
                    body["counted"] = True
            data = json.dumps(body).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
