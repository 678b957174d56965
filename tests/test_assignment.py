"""Bad source folders are refused with one clear line and nothing written; the Assignment model.

Every corruption is applied to a private copy of source_notebooks/ (conftest.source_copy)
and fed to the real `grader release` command through click's CliRunner.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ASSIGNMENT, EXERCISES, NOTEBOOK_NAME, SOURCE_DIR, load_json

from grader.authoring.assignment import load_assignment, solution_regions
from grader.cli import cli
from grader.errors import SourceNotebookError

HELPERS = ("dnn_utils.py", "public_tests.py", "testCases.py")


def release(source_root: Path, out: Path, *extra: str):
    return CliRunner().invoke(
        cli,
        [
            "release",
            *extra,
            "--source",
            str(source_root),
            "--release",
            str(out / "release"),
            "--solutions",
            str(out / "solutions"),
        ],
    )


def edit_notebook(source_root: Path, change) -> Path:
    """Apply `change(notebook_dict)` to the copy's notebook, saved as nbformat JSON."""
    path = source_root / ASSIGNMENT / NOTEBOOK_NAME
    notebook = load_json(path)
    change(notebook)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def index_of(notebook: dict, grade_id: str) -> int:
    return next(
        i
        for i, cell in enumerate(notebook["cells"])
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
    )


def source_of(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def set_source(notebook: dict, grade_id: str, transform) -> None:
    cell = notebook["cells"][index_of(notebook, grade_id)]
    cell["source"] = transform(source_of(cell))


def drop_lines(text: str, marker: str) -> str:
    return "\n".join(line for line in text.split("\n") if marker not in line)


# (id, change to the notebook dict, text the error line must contain, the grade_id of the cell
#  the error must name, or (grade_id before the change, grade_id shown), or None)
CORRUPTIONS = [
    (
        "missing-end",
        lambda nb: set_source(nb, "linear_forward", lambda s: drop_lines(s, "### END SOLUTION")),
        "'### BEGIN SOLUTION' is never closed by '### END SOLUTION'",
        "linear_forward",
    ),
    (
        "missing-begin",
        lambda nb: set_source(nb, "compute_cost", lambda s: drop_lines(s, "### BEGIN SOLUTION")),
        "'### END SOLUTION' without '### BEGIN SOLUTION'",
        "compute_cost",
    ),
    (
        "no-markers",
        lambda nb: set_source(
            nb,
            "linear_forward",
            lambda s: drop_lines(drop_lines(s, "### BEGIN SOLUTION"), "### END SOLUTION"),
        ),
        "graded cell of 'linear_forward' has no '### BEGIN SOLUTION' / '### END SOLUTION' markers",
        "linear_forward",
    ),
    (
        "unknown-exercise",
        lambda nb: set_source(
            nb,
            "linear_forward",
            lambda s: s.replace(
                "# GRADED FUNCTION: linear_forward", "# GRADED FUNCTION: not_an_exercise"
            ),
        ),
        "unknown exercise 'not_an_exercise'",
        "linear_forward",
    ),
    (
        "graded-cell-deleted",
        lambda nb: nb["cells"].pop(index_of(nb, "L_model_backward")),
        "no '# GRADED FUNCTION: L_model_backward' cell",
        None,
    ),
    (
        "test-cell-without-points",
        lambda nb: nb["cells"][index_of(nb, "linear_forward_test")]["metadata"]["nbgrader"].pop(
            "points"
        ),
        "test cell of 'linear_forward' has no valid points",
        "linear_forward_test",
    ),
    (
        "test-cell-unlocked",
        lambda nb: nb["cells"][index_of(nb, "compute_cost_test")]["metadata"]["nbgrader"].update(
            locked=False
        ),
        "test cell of 'compute_cost' must be an nbgrader grade cell and locked",
        "compute_cost_test",
    ),
    (
        "test-call-removed",
        lambda nb: set_source(
            nb, "update_parameters_test", lambda s: drop_lines(s, "update_parameters_test(")
        ),
        "no test cell calls update_parameters_test() after the graded cell",
        None,
    ),
    (
        "not-a-solution-cell",
        lambda nb: nb["cells"][index_of(nb, "linear_backward")]["metadata"]["nbgrader"].update(
            solution=False
        ),
        "graded cell of 'linear_backward' is not an nbgrader solution cell",
        "linear_backward",
    ),
    (
        "markers-outside-graded-cell",
        lambda nb: set_source(
            nb, "setup", lambda s: s + ("\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
        ),
        "solution markers outside a '# GRADED FUNCTION:' cell",
        "setup",
    ),
    (
        "function-renamed",
        lambda nb: set_source(
            nb, "linear_forward", lambda s: s.replace("def linear_forward(", "def linear_forwards(")
        ),
        "graded cell does not define linear_forward()",
        "linear_forward",
    ),
    (
        "graded-twice",
        lambda nb: set_source(
            nb,
            "linear_backward",
            lambda s: s.replace(
                "# GRADED FUNCTION: linear_backward", "# GRADED FUNCTION: linear_forward"
            ),
        ),
        "exercise 'linear_forward' is graded twice",
        "linear_backward",
    ),
    (
        "no-assignment-metadata",
        lambda nb: nb["metadata"].pop("grader"),
        "notebook metadata has no grader.assignment",
        None,
    ),
    (
        "duplicate-grade-id",
        lambda nb: nb["cells"][index_of(nb, "outline")]["metadata"]["nbgrader"].update(
            grade_id="packages"
        ),
        "grade_id 'packages' is used twice",
        ("outline", "packages"),
    ),
]


def assert_one_error_line(result, *fragments: str) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "change, message, grade_id", [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS]
)
def test_bad_source_notebook_is_refused(change, message, grade_id, source_copy, tmp_path):
    original = load_json(source_copy / ASSIGNMENT / NOTEBOOK_NAME)
    path = edit_notebook(source_copy, change)
    out = tmp_path / "out"
    fragments = [str(path), message]
    if grade_id is not None:  # the cell, numbered as a person counts: "cell #8 (linear_forward)"
        where, shown = grade_id if isinstance(grade_id, tuple) else (grade_id, grade_id)
        fragments.append(f"cell #{index_of(original, where) + 1} ({shown})")
    assert_one_error_line(release(source_copy, out), *fragments)
    assert not (out / "release").exists() and not (out / "solutions").exists()


def test_invalid_json_is_refused(source_copy, tmp_path):
    path = source_copy / ASSIGNMENT / NOTEBOOK_NAME
    path.write_bytes(path.read_bytes()[:-200])  # truncated, as by a crashed editor
    out = tmp_path / "out"
    assert_one_error_line(release(source_copy, out), str(path), "not valid JSON")
    assert not out.exists()


def test_not_a_notebook_is_refused(source_copy, tmp_path):
    path = source_copy / ASSIGNMENT / NOTEBOOK_NAME
    path.write_text('{"cells": []}')
    assert_one_error_line(
        release(source_copy, tmp_path / "out"), str(path), "JSON but not a notebook"
    )


def test_two_notebooks_in_one_folder_are_refused(source_copy, tmp_path):
    folder = source_copy / ASSIGNMENT
    shutil.copy(folder / NOTEBOOK_NAME, folder / "Copy_of_the_notebook.ipynb")
    out = tmp_path / "out"
    assert_one_error_line(
        release(source_copy, out),
        str(folder),
        "expected exactly one .ipynb",
        NOTEBOOK_NAME,
        "Copy_of_the_notebook.ipynb",
    )
    assert not out.exists()


@pytest.mark.parametrize("damage", ["bad-json", "missing-end"])
def test_existing_output_folders_are_left_unchanged(damage, source_copy, tmp_path):
    out = tmp_path / "out"
    for root in ("release", "solutions"):
        folder = out / root / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / "old.txt").write_text(f"previous {root}\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    path = source_copy / ASSIGNMENT / NOTEBOOK_NAME
    if damage == "bad-json":
        path.write_text("{ not json")
    else:
        edit_notebook(source_copy, CORRUPTIONS[0][1])
    assert release(source_copy, out).exit_code == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_wrong_solution_is_refused(source_copy, tmp_path):
    """A solution cell that disagrees with the kit's hand-written reference is refused
    before anything is built (nothing written)."""
    edit_notebook(
        source_copy,
        lambda nb: set_source(
            nb, "linear_forward", lambda s: s.replace("Z = np.dot(W, A) + b", "Z = np.dot(W, A)")
        ),
    )
    out = tmp_path / "out"
    assert_one_error_line(
        release(source_copy, out),
        str(source_copy / ASSIGNMENT),
        "the solution cells and the kit's reference module disagree: linear_forward, case 1",
        "Wrong values in `Z`",
    )
    assert not out.exists()


# --- usage errors: exit 2 -------------------------------------------------------------------


def test_unknown_assignment_folder_is_a_usage_error(source_copy, tmp_path):
    result = release(source_copy, tmp_path / "out", "not_an_assignment")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: no source folder for not_an_assignment in {source_copy}"
    )
    assert not (tmp_path / "out").exists()


def test_missing_source_folder_is_a_usage_error(tmp_path):
    missing = tmp_path / "nowhere"
    result = release(missing, tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: source folder {missing} does not exist"
    assert not (tmp_path / "out").exists()


def test_source_root_without_assignments_is_a_usage_error(tmp_path):
    (tmp_path / "empty" / "not_an_assignment").mkdir(parents=True)
    result = release(tmp_path / "empty", tmp_path / "out")
    assert result.exit_code == 2
    assert "no assignment folders" in result.stderr


def test_unknown_kit_in_metadata_names_the_notebook(source_copy, tmp_path):
    edit_notebook(source_copy, lambda nb: nb["metadata"]["grader"].update(assignment="no_such_kit"))
    result = release(source_copy, tmp_path / "out")
    line = assert_one_error_line(result, "unknown assignment 'no_such_kit' (known: ")
    assert ASSIGNMENT in line and ".ipynb" in line
    assert not (tmp_path / "out").exists()


def test_solution_regions_counts_and_rejects():
    assert (
        solution_regions(
            "a\n### BEGIN SOLUTION\nb\n### END SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"
        )
        == 2
    )
    assert solution_regions("no markers") == 0
    with pytest.raises(ValueError, match="line 2: '### BEGIN SOLUTION' inside another region"):
        solution_regions("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION")


def test_source_error_carries_path_and_cell(source_copy):
    edit_notebook(source_copy, CORRUPTIONS[0][1])
    with pytest.raises(SourceNotebookError) as info:
        load_assignment(source_copy / ASSIGNMENT)
    assert info.value.path == source_copy / ASSIGNMENT / NOTEBOOK_NAME
    assert info.value.cell == "#18 (linear_forward)"
    assert info.value.exit_code == 1


# --- the Assignment model -------------------------------------------------------------------


def test_assignment_model():
    assignment, notebook = load_assignment(SOURCE_DIR)
    assert assignment.name == ASSIGNMENT
    assert assignment.title == "Building your Deep Neural Network: Step by Step"
    assert assignment.notebook_name == NOTEBOOK_NAME
    assert assignment.source_dir == SOURCE_DIR
    assert tuple(e.name for e in assignment.exercises) == EXERCISES
    assert len(assignment.exercises) == 10
    assert all(e.points == 10 for e in assignment.exercises)
    assert assignment.max_score == 100
    assert [(e.solution_cell, e.test_cell) for e in assignment.exercises] == [
        (name, f"{name}_test") for name in EXERCISES
    ]
    assert assignment.helper_files == HELPERS
    assert assignment.exercise("compute_cost").points == 10
    assert len(notebook.cells) == 58


def test_helper_files_skip_hidden_files_and_caches(source_copy):
    folder = source_copy / ASSIGNMENT
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "dnn_utils.cpython-311.pyc").write_bytes(b"\0")
    (folder / "extra_data.csv").write_text("a,b\n")
    assignment, _ = load_assignment(folder)
    assert assignment.helper_files == (
        "dnn_utils.py",
        "extra_data.csv",
        "public_tests.py",
        "testCases.py",
    )


# --- the command line -----------------------------------------------------------------------


def test_python_dash_m_grader_help():
    result = subprocess.run(
        [sys.executable, "-m", "grader", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: grader [OPTIONS] COMMAND [ARGS]...")
    assert "release" in result.stdout


def test_grader_version():
    expected = f"grader, version {version('nb-autograder')}"
    script = Path(sys.executable).with_name("grader")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "grader"]
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    assert CliRunner().invoke(cli, ["--version"]).stdout.strip() == expected


def test_release_help_names_the_options():
    result = CliRunner().invoke(cli, ["release", "--help"])
    assert result.exit_code == 0
    for option in ("--source", "--release", "--solutions", "--check"):
        assert option in result.stdout
