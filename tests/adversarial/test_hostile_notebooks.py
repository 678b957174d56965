"""Notebooks aimed at the grader's own side: its reader, its reading of metadata, and its
rewriting of IPython syntax, all of which run outside every limit of the sandbox.

Each hostile file must end ``graded`` (full marks: the code is the solution's) or
``unreadable`` with a one-line reason, never ``not_graded`` (which is never journaled
and exits 3: a student could dodge a zero for ever), in bounded time; the rest of the
batch is graded, and ``grader grade`` exits 0 and writes every report.
"""

from __future__ import annotations

import copy
import json
import time

import pytest
from click.testing import CliRunner

from grader.assignments.dnn_step_by_step.samples import NOTEBOOK
from grader.cli import cli
from grader.grading.extract import CELL_BUDGET, code_cells, ipython_cost
from grader.grading.locations import _named_in_metadata
from grader.grading.notebooks import notebook_bytes, read_notebook

from .attack_notebooks import RELEASE, SOLUTIONS

SOLVED = json.loads(notebook_bytes(read_notebook(SOLUTIONS / NOTEBOOK)))
HOLE = '"@@hostile@@"'  # a JSON value replaced by raw text after dumping


def _solved() -> dict:
    return copy.deepcopy(SOLVED)


def _with(change) -> bytes:
    notebook = _solved()
    change(notebook)
    return json.dumps(notebook).encode()


def _raw_in_metadata(raw: str, where: str = "notebook") -> bytes:
    """The solved notebook with ``raw`` (any text, valid JSON or not) as a metadata value
    of the notebook or of its first code cell."""
    notebook = _solved()
    target = (
        notebook["metadata"]
        if where == "notebook"
        else next(c for c in notebook["cells"] if c["cell_type"] == "code")["metadata"]
    )
    target["hostile"] = "@@hostile@@"
    return json.dumps(notebook).replace(HOLE, raw, 1).encode()


def _nbgrader(key: str | None, value) -> bytes:
    """Every cell's nbgrader metadata (``key=None``: all of it) set to ``value``."""

    def change(notebook):
        for cell in notebook["cells"]:
            if key is None:
                cell["metadata"]["nbgrader"] = value
            elif isinstance(cell["metadata"].get("nbgrader"), dict):
                cell["metadata"]["nbgrader"][key] = value

    return _with(change)


def _first(kind: str, change) -> bytes:
    def edit(notebook):
        change(next(c for c in notebook["cells"] if c["cell_type"] == kind))

    return _with(edit)


def _markdown(text: str) -> bytes:
    return _first("markdown", lambda cell: cell.update(source=text))


def _code_cells_added(*sources: str) -> bytes:
    def change(notebook):
        notebook["cells"][1:1] = [
            {
                "cell_type": "code",
                "id": f"hostile-{i}",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
            for i, source in enumerate(sources)
        ]

    return _with(change)


def magic_heavy_cell(magics: int = 600, plain: int = 4000) -> str:
    """``plain`` assignments with a line magic after every few: IPython's transformer
    tokenizes the whole cell again after each magic it rewrites (~40 s for this one)."""
    lines, every = [], max(1, plain // magics)
    for number in range(plain):
        lines.append(f"x{number} = {number}")
        if number % every == 0 and len(lines) - number - 1 < magics:
            lines.append("%x")
    return "\n".join(lines) + "\n"


def _set(key, value):
    return lambda notebook: notebook.__setitem__(key, value)


GRADED, UNREADABLE = ("graded", 100), ("unreadable", 0)
# file name -> (bytes, (status, score), a fragment of the error or None)
# (the first by name is also the first notebook the command reads for its assignment)
CASES = {
    # 1. the notebook's JSON
    "a_nested_too_deeply": (
        _raw_in_metadata("[" * 100_000 + "]" * 100_000),
        UNREADABLE,
        "JSON nested too deeply",
    ),
    "big_integer": (
        _raw_in_metadata("9" * 5000),
        UNREADABLE,
        "not valid JSON (a number of more than 4300 digits)",
    ),
    "big_integer_in_a_cell": (
        _raw_in_metadata("-" + "1" * 5000, "cell"),
        UNREADABLE,
        "a number of more than 4300 digits",
    ),
    "nested_deeply": (_raw_in_metadata("[" * 900 + "]" * 900), GRADED, None),
    "lone_surrogate": (
        _raw_in_metadata('"\\ud800"'),
        UNREADABLE,
        "not valid Unicode (a lone surrogate escape",
    ),
    "lone_surrogate_in_a_heading": (_markdown("# Title \udc00"), UNREADABLE, "not valid Unicode"),
    "surrogate_pair": (_raw_in_metadata('"\\ud83d\\ude00"'), GRADED, None),
    "nan_and_infinity": (_raw_in_metadata("[NaN, Infinity, -Infinity]"), GRADED, None),
    "duplicate_keys": (
        b'{"cells": 5, "nbformat": "x", ' + _with(lambda nb: None)[1:],
        GRADED,
        None,
    ),
    "top_level_list": (b"[" + _with(lambda nb: None) + b"]", UNREADABLE, "JSON but not a notebook"),
    "top_level_string": (
        json.dumps(json.dumps(SOLVED)).encode(),
        UNREADABLE,
        "JSON but not a notebook",
    ),
    "nbformat_as_string": (
        _with(_set("nbformat", "4")),
        UNREADABLE,
        "not a valid notebook (unsupported nbformat version '4')",
    ),
    "nbformat_as_float": (
        _with(_set("nbformat", 4.0)),
        UNREADABLE,
        "unsupported nbformat version 4.0",
    ),
    "nbformat_as_true": (
        _with(_set("nbformat", True)),
        UNREADABLE,
        "unsupported nbformat version True",
    ),
    "nbformat_minor_as_string": (
        _with(_set("nbformat_minor", "5")),
        UNREADABLE,
        "nbformat_minor '5' is not a whole number",
    ),
    "giant_heading": (_markdown("# a" + " " * 20_000 + "b"), GRADED, None),
    "giant_string": (_markdown("x" * (8 << 20)), GRADED, None),
    "error_quoting_a_giant_cell": (
        _first("code", lambda c: c.update(cell_type="weird", source="y = 1\n" * 100_000)),
        UNREADABLE,
        "not a valid notebook (cells/3 is not valid under any of the given schemas)",
    ),
    # 2. metadata of the wrong type, anywhere a student can write it
    "nbgrader_as_string": (_nbgrader(None, "oops"), GRADED, None),
    "nbgrader_as_list": (_nbgrader(None, [1, 2]), GRADED, None),
    "nbgrader_as_number": (_nbgrader(None, 3), GRADED, None),
    "nbgrader_as_true": (_nbgrader(None, True), GRADED, None),
    "nbgrader_as_null": (_nbgrader(None, None), GRADED, None),
    "grade_id_as_number": (_nbgrader("grade_id", 5), GRADED, None),
    "grade_id_as_list": (_nbgrader("grade_id", ["setup"]), GRADED, None),
    "grade_id_as_dict": (_nbgrader("grade_id", {"a": 1}), GRADED, None),
    "checksum_as_list": (_nbgrader("checksum", [1]), GRADED, None),
    "points_as_text": (_nbgrader("points", "ten"), GRADED, None),
    "points_as_list": (_nbgrader("points", [10]), GRADED, None),
    "locked_as_text": (_nbgrader("locked", "yes"), GRADED, None),
    "solution_as_dict": (_nbgrader("solution", {}), GRADED, None),
    "grader_metadata_as_string": (
        _with(lambda nb: nb["metadata"].update(grader="x")),
        GRADED,
        None,
    ),
    "assignment_as_list": (
        _with(lambda nb: nb["metadata"].update(grader={"assignment": ["dnn_step_by_step"]})),
        GRADED,
        None,
    ),
    "cell_metadata_as_string": (
        _first("code", lambda c: c.update(metadata="oops")),
        UNREADABLE,
        "not a valid notebook",
    ),
    "notebook_metadata_as_list": (_with(_set("metadata", [1])), UNREADABLE, "not a valid notebook"),
    "source_of_numbers": (
        _first("code", lambda c: c.update(source=[1, 2])),
        UNREADABLE,
        "source is not valid under any of the given schemas",
    ),
    "cell_type_unknown": (
        _first("markdown", lambda c: c.update(cell_type="weird")),
        UNREADABLE,
        "not a valid notebook",
    ),
    "cell_without_source": (
        _first("code", lambda c: c.pop("source")),
        UNREADABLE,
        "not a valid notebook",
    ),
    "tags_as_string": (
        _first("code", lambda c: c["metadata"].update(tags="x")),
        UNREADABLE,
        "not a valid notebook",
    ),
    # 3. IPython syntax that IPython's transformer takes minutes over
    "magic_heavy_cells": (
        _code_cells_added(magic_heavy_cell(), magic_heavy_cell(601)),
        GRADED,
        None,
    ),
    "long_help_line": (_code_cells_added("%x\n" + "a" * 30_000 + " ?\n"), GRADED, None),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The whole hostile batch through the real command, without --release (so the
    assignment is read from the first notebook, the deeply nested one)."""
    folder = tmp_path_factory.mktemp("hostile")
    for name, (data, *_rest) in CASES.items():
        (folder / f"{name}.ipynb").write_bytes(data)
    out = folder.parent / f"{folder.name}-out"
    started = time.monotonic()
    result = CliRunner().invoke(
        cli, ["grade", str(folder), "--out", str(out), "-q", "--timeout", "5"]
    )
    elapsed = time.monotonic() - started
    report = json.loads((out / "grades.json").read_text()) if out.is_dir() else {}
    return result, out, {s["student"]: s for s in report.get("submissions", [])}, elapsed


def test_the_command_exits_0_and_writes_every_report(graded):
    result, out, submissions, _ = graded
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert set(submissions) == set(CASES)
    assert {"grades.csv", "grades.json", "junit.xml", "index.html"} <= {
        p.name for p in out.iterdir()
    }
    pages = {p.name for p in (out / "feedback").iterdir()}
    assert {f"{name}.html" for name in CASES} <= pages and {f"{name}.md" for name in CASES} <= pages


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_hostile_file_is_graded_or_unreadable_in_one_line(graded, name):
    _, (status, score), fragment = CASES[name]
    found = graded[2][name]
    assert (found["status"], found["score"]) == (status, score), found["error"]
    if status == "unreadable":
        error = found["error"]
        assert error.startswith(f"{name}.ipynb: ") and "\n" not in error, error
        assert len(error) < 300 and error.isprintable(), error
        assert fragment in error, error
    else:
        assert {e["status"] for e in found["exercises"].values()} == {"passed"}


def test_changed_points_of_locked_cells_still_count_as_tampering(graded):
    assert graded[2]["points_as_text"]["tampered"] is True
    assert graded[2]["checksum_as_list"]["tampered"] is False  # nbgrader's checksum ignores it


def test_the_hostile_batch_is_bounded(graded):
    # before: hours (the heading), ~80 s (the magic cells), ~60 s (the help line)
    assert graded[3] < 120.0


def test_gradescope_on_a_big_integer_notebook_says_why(tmp_path):
    notebook = tmp_path / "upload" / "submission.ipynb"
    notebook.parent.mkdir()
    notebook.write_bytes(CASES["big_integer"][0])
    target = tmp_path / "results.json"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(notebook),
            "--out",
            str(tmp_path / "out"),
            "--release",
            str(RELEASE),
            "--gradescope",
            str(target),
            "-q",
        ],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    results = json.loads(target.read_text())
    assert results["score"] == 0
    assert "a number of more than 4300 digits" in results["output"]


def test_the_first_notebooks_metadata_is_only_a_hint(tmp_path):
    """Finding the release reads the first notebook: nothing in it may stop the command."""
    for name in (
        "a_nested_too_deeply",
        "big_integer",
        "top_level_list",
        "top_level_string",
        "assignment_as_list",
        "grader_metadata_as_string",
    ):
        path = tmp_path / f"{name}.ipynb"
        path.write_bytes(CASES[name][0])
        assert _named_in_metadata(path) is None, name
    path.write_bytes(_with(lambda nb: None))
    assert _named_in_metadata(path) == "dnn_step_by_step"


def test_magic_heavy_cells_are_rewritten_in_bounded_time():
    cell = magic_heavy_cell()
    assert ipython_cost(cell) > CELL_BUDGET
    started = time.monotonic()
    (converted,) = code_cells({"cells": [{"cell_type": "code", "source": cell}]})
    assert time.monotonic() - started < 10.0  # ~40 s with IPython's transformer; ~0.03 s
    assert converted.source.count("get_ipython().run_line_magic('x', '')") == 600
    assert "%x" not in converted.source and "x3999 = 3999\n" in converted.source


def test_many_cells_within_the_cell_budget_share_one_notebook_budget():
    """Each cell just within the budget (~0.3 s of IPython's work): 200 of them would be
    a minute; the notebook's budget gives IPython the first few only."""
    cells = []
    for number in range(200):
        text = "".join(f"%m{number}\ny{i} = {i}\n" for i in range(60))
        assert 0 < ipython_cost(text) <= CELL_BUDGET
        cells.append({"cell_type": "code", "source": text})
    started = time.monotonic()
    converted = code_cells({"cells": cells})
    assert time.monotonic() - started < 30.0  # ~3.5 s on two busy cores; without: a minute
    assert all(c.source.count("run_line_magic") == 60 and "%" not in c.source for c in converted)
