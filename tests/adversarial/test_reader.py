"""Broken and hostile notebook files: each gets a clear status and error, the batch goes on."""

from __future__ import annotations

import json
import time

import nbformat
import pytest

import grader
from grader.assignments.dnn_step_by_step.samples import NOTEBOOK
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.grading.options import Options

from .adversarial_support import LIMITS
from .attack_notebooks import RELEASE, SOLUTIONS

MANY = 3000  # cells added to a correct notebook, half of them raising


def _with_sources_as(kind: str) -> bytes:
    data = json.loads(notebook_bytes(read_notebook(SOLUTIONS / NOTEBOOK)))
    for cell in data["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = {"list": text.splitlines(keepends=True), "string": text, "number": 42}[
            kind
        ]
    return json.dumps(data).encode()


def _many_cells() -> bytes:
    notebook = read_notebook(SOLUTIONS / NOTEBOOK)
    for number in range(MANY):
        source = f"x{number} = {number}" if number % 2 else f"raise ValueError('cell {number}')"
        notebook.cells.append(nbformat.v4.new_code_cell(source))
    return notebook_bytes(notebook)


def _version_3() -> bytes:
    return nbformat.writes(
        nbformat.convert(read_notebook(SOLUTIONS / NOTEBOOK), 3), version=3
    ).encode()


# file -> (status, score, a fragment of the error or None)
CASES = {
    "invalid_json": (
        b"{ this is not json",
        "unreadable",
        0,
        "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 3)",
    ),
    "truncated_json": (None, "unreadable", 0, "not valid JSON"),
    "binary": (bytes(range(256)) * 64, "unreadable", 0, "not UTF-8 text (byte 128)"),
    "latin1_text": (None, "unreadable", 0, "not UTF-8 text"),
    "empty": (b"", "unreadable", 0, "not valid JSON"),
    "deeply_nested": (b"[" * 100_000 + b"]" * 100_000, "unreadable", 0, None),
    "json_not_a_notebook": (
        b'{"cells": []}',
        "unreadable",
        0,
        "JSON but not a notebook (no 'nbformat' field)",
    ),
    "source_not_text": (None, "unreadable", 0, "not a valid notebook"),
    "enormous": (b" " * (65 << 20), "unreadable", 0, "file is larger than 64 MiB"),
    "sources_as_lists": (None, "graded", 100, None),
    "sources_as_strings": (None, "graded", 100, None),
    "nbformat_3": (None, "graded", 100, None),
    "thousands_of_cells": (None, "graded", 100, None),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reader")
    solved = notebook_bytes(read_notebook(SOLUTIONS / NOTEBOOK))
    made = {
        "truncated_json": solved[: len(solved) // 2],
        "latin1_text": solved.decode()
        .replace("Step by Step", "Étape par étape", 1)
        .encode("latin-1", errors="replace"),
        "source_not_text": _with_sources_as("number"),
        "sources_as_lists": _with_sources_as("list"),
        "sources_as_strings": _with_sources_as("string"),
        "nbformat_3": _version_3(),
        "thousands_of_cells": _many_cells(),
    }
    for name, (data, *_rest) in CASES.items():
        (folder / f"{name}.ipynb").write_bytes(data if data is not None else made[name])
    started = time.monotonic()
    batch = grader.grade([folder], release_dir=RELEASE, options=Options(limits=LIMITS))
    return {s.student: s for s in batch.submissions}, time.monotonic() - started


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_file_gets_a_clear_status(graded, name):
    _, status, score, error = CASES[name]
    result = graded[0][name]
    assert (result.status, result.score) == (status, score), result.error
    if status == "unreadable":
        assert result.error.startswith(f"{name}.ipynb: ") and "\n" not in result.error
        assert error is None or error in result.error, result.error
    else:
        assert {e.status for e in result.exercises} == {"passed"}


def test_thousands_of_cells_are_summarised(graded):
    lines = graded[0]["thousands_of_cells"].cell_errors
    assert len(lines) == 50 and lines[0].startswith("cell ") and "ValueError: cell 0" in lines[0]
    assert lines[-1] == f"... and {MANY // 2 - 49} more cells with errors"


def test_the_reader_batch_is_bounded(graded):
    assert graded[1] < 60.0  # ~6 s on two busy cores (generous)
