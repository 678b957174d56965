"""Issue 13's "done when": one batch holding every grader-side attack at once.

Each attack has its own test elsewhere in this folder; here they meet in a single
`grader grade` run beside correct notebooks, and the run as a whole must stay bounded:
it finishes within what one submission alone may take (120 s), the grader's whole
process tree stays under 1 GiB (sampled while it runs), every report file has a sane
size, and the correct notebooks still get full marks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from grader.assignments.dnn_step_by_step.samples import NOTEBOOK, with_function
from grader.grading.notebooks import notebook_bytes, read_notebook

from .attack_notebooks import RELEASE, SOLUTIONS, Paths
from .test_gaming import EXITING
from .test_grader_side import ATTACKS

TIMEOUT = 2.0
# ~15 notebooks on two workers, three of them costing a limit or more: ~11 s on two busy
# cores; a hang guard, so generous, yet below what one submission may take (120 s)
BOUND = 40 * TIMEOUT
TREE_BYTES = 1 << 30
REPORT_BYTES = 1 << 20


def _magic_bomb(solved) -> bytes:
    notebook = read_notebook(SOLUTIONS / NOTEBOOK)
    lines = [f"%x{i}" if i % 7 == 0 else f"y{i} = {i}" for i in range(4600)]
    notebook.cells.insert(1, nbformat.v4.new_code_cell("\n".join(lines)))
    notebook.cells.insert(2, nbformat.v4.new_code_cell("\n".join(lines[::-1])))
    return notebook_bytes(notebook)


def _big_integer(solved) -> bytes:
    text = notebook_bytes(solved).decode()
    return text.replace('"metadata": {', '"metadata": {"n": ' + "9" * 5000 + ", ", 1).encode()


def _malformed_metadata(solved) -> bytes:
    notebook = read_notebook(SOLUTIONS / NOTEBOOK)
    notebook.cells[3].metadata["nbgrader"] = "oops"
    return notebook_bytes(notebook)


def _tamper_decoy(solved) -> bytes:
    notebook = read_notebook(SOLUTIONS / NOTEBOOK)
    index = next(
        i
        for i, c in enumerate(notebook.cells)
        if (c.metadata.get("nbgrader") or {}).get("locked") and "linear_forward_test" in c.source
    )
    decoy = nbformat.from_dict(json.loads(json.dumps(notebook.cells[index])))
    notebook.cells[index].source += "\nprint('All tests passed.')"
    notebook.cells.insert(index, decoy)
    return notebook_bytes(notebook)


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("attack-batch")
    folder, out = root / "submissions", root / "out"
    folder.mkdir()
    solved = read_notebook(SOLUTIONS / NOTEBOOK)
    correct = notebook_bytes(solved)
    files = {
        "correct_1.ipynb": correct,
        "Alice.ipynb": correct,
        "alice.ipynb": correct,
        "index.ipynb": correct,
        "\x1b]0;pwned\x07\x1b[2J.ipynb": correct,
        "exiting.ipynb": notebook_bytes(
            with_function(solved, "linear_activation_backward", EXITING)
        ),
        "magic_bomb.ipynb": _magic_bomb(solved),
        "big_integer.ipynb": _big_integer(solved),
        "malformed_metadata.ipynb": _malformed_metadata(solved),
        "tamper_decoy.ipynb": _tamper_decoy(solved),
    }
    paths = Paths("attack-batch", folder / "correct_1.ipynb", out, root / "sentinel")
    for attack in ATTACKS:
        files[f"{attack.name}.ipynb"] = notebook_bytes(attack.build(solved, paths))
    for name, data in files.items():
        (folder / name).write_bytes(data)
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--release",
        str(RELEASE),
        "--timeout",
        str(TIMEOUT),
        "--memory",
        "512",
        "--jobs",
        "2",
        "--fail-under",
        "50",
    ]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None and time.monotonic() - started < 600:
        peak = max(peak, _tree_rss(tree))
        time.sleep(0.05)
    stdout, stderr = process.communicate(timeout=600)
    elapsed = time.monotonic() - started
    grades = json.loads((out / "grades.json").read_text())
    return {
        "code": process.returncode,
        "elapsed": elapsed,
        "peak": peak,
        "stdout": stdout,
        "stderr": stderr,
        "out": out,
        "by_file": {Path(s["submission"]).name: s for s in grades["submissions"]},
    }


def test_the_whole_batch_is_bounded(graded):
    assert graded["code"] == 1, graded["stderr"][-2000:]  # graded; some below --fail-under
    assert graded["elapsed"] < BOUND, graded["elapsed"]
    assert graded["peak"] < TREE_BYTES, graded["peak"]
    sizes = {p.name: p.stat().st_size for p in graded["out"].rglob("*") if p.is_file()}
    assert {"grades.json", "grades.csv", "junit.xml", "index.html"} <= set(sizes)
    assert max(sizes.values()) < REPORT_BYTES, sizes


def test_correct_notebooks_keep_full_marks_and_nothing_is_blamed_on_the_grader(graded):
    by_file = graded["by_file"]
    for name in ("correct_1.ipynb", "Alice.ipynb", "alice.ipynb", "index.ipynb"):
        assert by_file[name]["score"] == 100, name
    assert not [s for s in by_file.values() if s["status"] == "not_graded"]
    assert by_file["big_integer.ipynb"]["status"] == "unreadable"
    assert by_file["malformed_metadata.ipynb"]["status"] in ("graded", "unreadable")
    assert by_file["tamper_decoy.ipynb"]["tampered"] is True
    assert by_file["exiting.ipynb"]["score"] < 100


def test_nothing_a_submission_named_reaches_the_terminal_raw(graded):
    for stream in (graded["stdout"], graded["stderr"]):
        assert "\x1b" not in stream and "\x07" not in stream
    pages = sorted(p.name.casefold() for p in (graded["out"] / "feedback").glob("*.html"))
    assert len(pages) == len(set(pages)) == len(graded["by_file"])
    assert "index.html" not in pages and "alice.html" not in pages
