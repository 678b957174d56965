"""Without a service: the release's public tests, run locally in a child Python.

Which cells run, in notebook order: the cells nbgrader marks (locked setup cells, the
student's solution cells, the grade cells ``<exercise>_test``) and the cells a student
added that only import or define. IPython magics and shell lines are left out, and so
are demonstrations (a locked cell that calls a graded function to train on the full
data, and what uses its results): the public tests call the functions on small inputs.
Each grade cell decides its exercise: passed when it runs without an exception.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from grader_student.errors import LocalRunError, RunCancelledError

DEFAULT_TIMEOUT = 300.0
TEST_SUFFIX = "_test"
_MAGIC = re.compile(r"^(\s*)(?:[%!]|[\w.,\s\[\]]+=\s*[%!](?!=))")
_DEFINES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
OUTPUT_LINES = 8  # lines of a failing test cell's output shown under its row
POLL_SECONDS = 0.1  # how often a cancellable run looks at its cancel flag


def without_magics(source: str) -> str | None:
    """The cell as plain Python: magic and shell lines become ``pass`` (the indentation
    kept, so blocks stay valid); None for a cell magic (``%%bash``: not Python)."""
    if source.lstrip().startswith("%%"):
        return None
    lines = source.splitlines()
    return "\n".join(
        f"{match.group(1)}pass" if (match := _MAGIC.match(line)) else line for line in lines
    )


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _only_defines(source: str) -> bool:
    tree = _parse(source)
    return tree is not None and all(isinstance(node, _DEFINES) for node in tree.body)


def _role(cell: dict[str, Any]) -> tuple[str, str | None, float]:
    """('test'|'solution'|'locked'|'student', exercise, points) of a code cell."""
    metadata = cell.get("metadata")
    marks = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    marks = marks if isinstance(marks, dict) else {}
    grade_id = marks.get("grade_id") if isinstance(marks.get("grade_id"), str) else None
    if marks.get("grade"):
        name = grade_id or "exercise"
        name = name[: -len(TEST_SUFFIX)] if name.endswith(TEST_SUFFIX) else name
        try:
            points = float(marks.get("points") or 0)
        except (TypeError, ValueError):
            points = 0.0
        return "test", name, points
    if marks.get("solution"):
        return "solution", grade_id, 0.0
    if marks.get("locked"):
        return "locked", None, 0.0
    return "student", None, 0.0


def _stored(tree: ast.Module) -> set[str]:
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del))
    }


def _reads(tree: ast.Module) -> set[str]:
    """Names read before the cell sets them itself (statement by statement)."""
    reads: set[str] = set()
    stored: set[str] = set()
    for statement in tree.body:
        names = [node for node in ast.walk(statement) if isinstance(node, ast.Name)]
        reads |= {n.id for n in names if isinstance(n.ctx, ast.Load)} - stored
        stored |= {n.id for n in names if not isinstance(n.ctx, ast.Load)}
    return reads


def _demonstration(tree: ast.Module, graded: set[str], computed: set[str]) -> bool:
    """A locked cell that defines nothing and calls a graded function, or reads what
    such a cell computed."""
    nodes = list(ast.walk(tree))
    if any(isinstance(node, (*_DEFINES, ast.Global, ast.Nonlocal)) for node in nodes):
        return False
    calls = {
        node.func.id
        for node in nodes
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    return bool(calls & graded or _reads(tree) & computed)


def plan(notebook: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The cells to run (label, role, exercise, points, source) and notes on what was
    left out, one line each."""
    code = [(i + 1, c) for i, c in enumerate(notebook.get("cells", [])) if _is_code(c)]
    roles = [(number, cell, *_role(cell)) for number, cell in code]
    graded = {ex for _, _, role, ex, _ in roles if role == "solution" and ex}
    cells: list[dict[str, Any]] = []
    skipped: list[str] = []
    computed: set[str] = set()  # names only skipped demonstrations set
    for number, cell, role, exercise, points in roles:
        label = f"cell {number}"
        source = without_magics(_text(cell.get("source")))
        if source is None or (role == "student" and not _only_defines(source)):
            continue
        tree = _parse(source)
        if role == "locked" and tree is not None:
            if _demonstration(tree, graded, computed):
                computed |= _stored(tree)
                skipped.append(str(number))
                continue
        if tree is not None:
            computed -= _stored(tree)
        cells.append(
            {"label": label, "role": role, "exercise": exercise, "points": points, "source": source}
        )
    notes = []
    if skipped:
        notes.append(
            f"not run here: {len(skipped)} demonstration cell(s) that train on the full data "
            f"or use what such a cell computed (cells {', '.join(skipped)}, counting from 1)"
        )
    return cells, notes


def _is_code(cell: Any) -> bool:
    return isinstance(cell, dict) and cell.get("cell_type") == "code"


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source or "")


def _tail(output: str) -> str:
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    return "\n".join(lines[-OUTPUT_LINES:])


def summarize(cells: list[dict[str, Any]], report: dict[str, Any]) -> dict[str, Any]:
    """The run's report in the service's student-facing shape (+ ``notes``)."""
    ran = {record["label"]: record for record in report.get("cells", [])}
    exercises: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    broken: dict[str, str] = {}  # exercise -> the error of its solution cell
    for cell in cells:
        record = ran.get(cell["label"])
        if record is None:
            continue
        if cell["role"] == "solution" and not record["ok"] and cell["exercise"]:
            broken.setdefault(cell["exercise"], f"{cell['label']} raised {record['error']}")
        elif cell["role"] in ("locked", "student") and not record["ok"]:
            notes.append(f"{cell['label']} raised {record['error']}")
        if cell["role"] != "test":
            continue
        name, points = cell["exercise"], cell["points"]
        entry = exercises.setdefault(
            name,
            {"status": "passed", "score": 0.0, "max_score": 0.0, "message": "", "checks": []},
        )
        entry["max_score"] += points
        passed = record["ok"] and name not in broken
        entry["checks"].append(
            {
                "name": "public tests",
                "passed": bool(record["ok"]),
                "message": "" if record["ok"] else _tail(record["output"]),
            }
        )
        if name in broken:
            entry["status"], entry["message"] = "error", broken[name]
        elif not record["ok"]:
            entry["status"], entry["message"] = "failed", record["error"]
        if passed:
            entry["score"] += points
    return {
        "status": "graded",
        "score": sum(e["score"] for e in exercises.values()),
        "max_score": sum(e["max_score"] for e in exercises.values()),
        "error": None,
        "exercises": exercises,
        "kind": "local",
        "notes": notes,
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the child and anything it started (its own process group on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass
    process.wait()


def _wait(process: subprocess.Popen[bytes], timeout: float, cancel: threading.Event | None) -> int:
    """The child's exit code; TimeoutExpired at ``timeout``, RunCancelledError as soon as
    ``cancel`` is set (looked at every POLL_SECONDS)."""
    if cancel is None:
        return process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        if cancel.is_set():
            raise RunCancelledError("the check was cancelled")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise subprocess.TimeoutExpired(process.args, timeout)
        try:
            return process.wait(timeout=min(POLL_SECONDS, remaining))
        except subprocess.TimeoutExpired:
            continue


def stopped(cells: list[dict[str, Any]], report: dict[str, Any], why: str) -> dict[str, Any]:
    """The result of a run stopped at its time limit: what ran, as usual; the exercise of
    the cell it was in timed out; every test after it not run (an error saying so)."""
    done = summarize(cells, report)["exercises"]
    ran = {record["label"] for record in report.get("cells", [])}
    current = next((c for c in cells if c["label"] == report.get("running")), None)
    exercises: dict[str, dict[str, Any]] = {}
    for cell in cells:
        if cell["role"] != "test":
            continue
        name = cell["exercise"]
        fresh = {"status": "passed", "score": 0.0, "max_score": 0.0, "message": "", "checks": []}
        entry = exercises.setdefault(name, dict(done.get(name) or fresh))
        if cell["label"] in ran:
            continue
        entry["max_score"] += cell["points"]
        if current is not None and name == current["exercise"]:
            entry["status"], entry["message"] = "timeout", why
        elif entry["status"] == "passed":
            where = f" in {current['label']}" if current else ""
            entry["status"], entry["message"] = "error", f"not run: the run was stopped{where}"
    return {
        "status": "timeout",
        "score": sum(e["score"] for e in exercises.values()),
        "max_score": sum(e["max_score"] for e in exercises.values()),
        "error": why,
        "exercises": exercises,
        "kind": "local",
        "notes": [],
    }


def run_public_tests(
    notebook: dict[str, Any],
    folder: Path,
    timeout: float = DEFAULT_TIMEOUT,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run the public tests of ``notebook`` in a child Python (this kernel's), in
    ``folder``, for at most ``timeout`` seconds; the result, as the service shapes it.

    At the time limit the child is killed and LocalRunError raised, its ``result`` the
    run so far (see :func:`stopped`); setting ``cancel`` (from another thread: the
    server extension's Cancel) kills it at once and raises RunCancelledError.
    """
    cells, skipped = plan(notebook)
    if not any(cell["role"] == "test" for cell in cells):
        raise LocalRunError("this notebook has no public tests (no nbgrader grade cells)")
    with tempfile.TemporaryDirectory(prefix="grader-check-") as scratch:
        plan_path, result_path = Path(scratch, "plan.json"), Path(scratch, "result.json")
        plan_path.write_text(json.dumps({"cells": cells}), encoding="utf-8")
        log_path = Path(scratch, "stderr.txt")
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
        runner = Path(__file__).with_name("_run.py")  # standalone: no import of this package
        command = [sys.executable, str(runner), str(plan_path), str(result_path)]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=os.name == "posix",
            )
            try:
                code = _wait(process, timeout, cancel)
            except subprocess.TimeoutExpired:
                _stop(process)
                report = _read(result_path)
                where = f" (stopped in {report['running']})" if report.get("running") else ""
                why = (
                    f"the public tests did not finish within {timeout:g} s{where}: "
                    "an endless loop? (check(timeout=...) allows more)"
                )
                raise LocalRunError(why, result=stopped(cells, report, why)) from None
            except BaseException:  # KeyboardInterrupt (the student pressed stop), Cancel
                _stop(process)
                raise
        report = _read(result_path)
        if not report.get("done"):
            last = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            why = f": {last[-1]}" if last else ""
            where = f" in {report['running']}" if report.get("running") else ""
            raise LocalRunError(f"the public tests stopped{where} (exit code {code}){why}")
    result = summarize(cells, report)
    result["notes"] = skipped + result["notes"]
    return result


def _read(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}
