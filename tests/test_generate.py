"""Generation: the solved notebook, the student release, regeneration and --check.

The release + solutions are generated once per session by the real CLI into a tmp folder
(conftest.generated); the committed release/ and solutions/ are only read.
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from click.testing import CliRunner
from nbgrader.utils import compute_checksum
from support import (
    ASSIGNMENT,
    EXERCISES,
    NOTEBOOK_NAME,
    PASS_LINE,
    RELEASE_DIR,
    REPO_ROOT,
    SOLUTIONS_DIR,
    SOURCE_DIR,
    SOURCE_ROOT,
    STUB_MESSAGE,
    cell_by_id,
    code_cells,
    error_outputs,
    nbgrader,
    stream_text,
)

from grader.atomic import read_tree
from grader.authoring import generate
from grader.authoring.execute import run_notebook
from grader.cli import cli
from grader.grading.notebooks import read_notebook

HELPERS = ("dnn_utils.py", "public_tests.py", "testCases.py")
RELEASE_FILES = sorted(HELPERS + ("public_tests_data.h5", NOTEBOOK_NAME))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


@pytest.fixture(scope="session")
def source_nb():
    return read_notebook(SOURCE_DIR / NOTEBOOK_NAME)


@pytest.fixture(scope="session")
def release_nb(generated):
    return read_notebook(generated.release_notebook)


@pytest.fixture(scope="session")
def solved_nb(generated):
    return read_notebook(generated.solved_notebook)


@pytest.fixture(scope="session")
def rebuilt():
    """A second, independent build of the same source (in memory)."""
    return generate.build(SOURCE_DIR)


def student_files(folder) -> dict[str, bytes]:
    return {name: data for name, data in read_tree(folder).items() if name != NOTEBOOK_NAME}


def test_cli_wrote_both_folders(generated):
    assert sorted(read_tree(generated.release_dir)) == RELEASE_FILES
    assert sorted(read_tree(generated.solutions_dir)) == [NOTEBOOK_NAME]
    assert generated.stdout.startswith(f"{ASSIGNMENT}: 10 exercises, 100 points -> ")
    for name in HELPERS:  # helpers ship byte for byte
        assert (generated.release_dir / name).read_bytes() == (SOURCE_DIR / name).read_bytes()


# --- (a) the solved notebook's saved outputs ------------------------------------------------


@pytest.mark.parametrize("exercise", EXERCISES)
def test_solved_notebook_shows_expected_output(exercise, solved_nb, expected_prints):
    cell = cell_by_id(solved_nb, f"{exercise}_test")
    assert stream_text(cell) == expected_prints[exercise] + PASS_LINE + "\n"
    assert not error_outputs(cell)


def test_solved_notebook_passes_ten_times_and_never_errors(solved_nb):
    texts = [stream_text(cell) for _, cell in code_cells(solved_nb)]
    assert sum(text.count(PASS_LINE) for text in texts) == 10
    assert all(not error_outputs(cell) for _, cell in code_cells(solved_nb))
    assert stream_text(cell_by_id(solved_nb, "compute_cost_test")).startswith(
        "Cost: 0.2797765635793422\n"
    )
    # every code cell ran, in order
    counts = [cell.execution_count for _, cell in code_cells(solved_nb)]
    assert counts == list(range(1, len(counts) + 1))


def test_solved_notebook_has_no_markers_and_keeps_solutions(solved_nb, source_nb):
    for (_, cell), (_, src) in zip(code_cells(solved_nb), code_cells(source_nb)):
        assert BEGIN not in cell.source and END not in cell.source
        kept = [line for line in src.source.split("\n") if BEGIN not in line and END not in line]
        assert cell.source == "\n".join(kept)
    # no machine-specific kernel info; only the digest of what it was executed from
    recorded = copy.deepcopy(solved_nb.metadata)
    assert len(recorded["grader"].pop(generate.INPUTS_KEY)) == 64
    assert recorded == source_nb.metadata


# --- (b) the solved notebook in a fresh kernel, without grader ----------------------------

NO_GRADER_CELL = """\
import os, sys
try:
    import grader
except ImportError as exc:
    print("grader is blocked:", exc)
else:
    raise AssertionError(f"grader is importable from {grader.__file__}")
print("files:", sorted(os.listdir(".")))
"""


@pytest.fixture(scope="session")
def rerun_solved(generated, solved_nb):
    notebook = copy.deepcopy(solved_nb)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.cells.insert(4, nbformat.v4.new_code_cell(NO_GRADER_CELL, id="no-grader"))
    assert nbgrader(notebook.cells[3]).get("grade_id") == "setup"
    return run_notebook(notebook, student_files(generated.release_dir))


def test_grader_is_not_importable_in_the_student_kernel(rerun_solved, generated):
    text = stream_text(rerun_solved.cells[4])
    assert "grader is blocked: the grader package is not available to student notebooks" in text
    files = sorted(student_files(generated.release_dir))
    assert f"files: {files}" in text
    assert not error_outputs(rerun_solved.cells[4])


@pytest.mark.parametrize("exercise", EXERCISES)
def test_solved_notebook_passes_every_public_test_in_a_fresh_kernel(
    exercise, rerun_solved, expected_prints
):
    cell = cell_by_id(rerun_solved, f"{exercise}_test")
    assert stream_text(cell) == expected_prints[exercise] + PASS_LINE + "\n"
    assert not error_outputs(cell)


def test_rerun_is_identical_to_the_saved_solutions(rerun_solved, solved_nb):
    rerun = [c for c in rerun_solved.cells if c.get("id") != "no-grader"]
    new_cells = [c for _, c in code_cells(nbformat.from_dict({"cells": rerun}))]
    old_cells = [c for _, c in code_cells(solved_nb)]
    assert len(new_cells) == len(old_cells)
    for new, old in zip(new_cells, old_cells):
        assert [o.get("text") for o in new.outputs] == [o.get("text") for o in old.outputs]


# --- (c) the release as handed out: every test cell fails with the stub's message ----------


@pytest.fixture(scope="session")
def executed_release(generated, release_nb):
    return run_notebook(release_nb, student_files(generated.release_dir), allow_errors=True)


def test_release_fails_each_exercise_with_the_stub(executed_release):
    test_ids = {f"{name}_test" for name in EXERCISES}
    failed = []
    for index, cell in code_cells(executed_release):
        errors = error_outputs(cell)
        grade_id = nbgrader(cell).get("grade_id")
        if grade_id in test_ids:
            assert len(errors) == 1, grade_id
            assert errors[0]["ename"] == "NotImplementedError"
            assert errors[0]["evalue"] == STUB_MESSAGE
            assert PASS_LINE not in stream_text(cell)
            failed.append(grade_id)
        else:
            assert not errors, f"cell #{index + 1} ({grade_id}) raised {errors[0]['ename']}"
    assert failed == [f"{name}_test" for name in EXERCISES]


def test_release_setup_and_demo_cells_run(executed_release):
    assert not error_outputs(cell_by_id(executed_release, "setup"))
    demo = stream_text(cell_by_id(executed_release, "np-sum-demo"))
    assert "axis=1, keepdims=True: shape (2, 1)\n[[ 6]\n [15]]\n" in demo


# --- (d) no solution line anywhere in the release; no grader import -------------------------


def _solution_lines(notebook) -> list[str]:
    inside, outside = [], set()
    for cell in notebook.cells:
        in_region = False
        for line in cell.source.splitlines():
            if BEGIN in line:
                in_region = True
            elif END in line:
                in_region = False
            elif in_region:
                inside.append(line.strip())
            else:
                outside.add(line.strip())
    return [
        line
        for line in dict.fromkeys(inside)
        if line and line not in outside and not line.startswith("#")
    ]


def _release_text(folder) -> str:
    parts = [data.decode("utf-8", "replace") for data in read_tree(folder).values()]
    notebook = read_notebook(folder / NOTEBOOK_NAME)
    parts += [cell.source for cell in notebook.cells]  # unescaped, whatever the JSON quoting
    return "\n".join(parts)


@pytest.mark.parametrize("which", ["generated", "committed"])
def test_no_solution_line_in_the_release(which, generated, source_nb):
    folder = generated.release_dir if which == "generated" else RELEASE_DIR
    lines = _solution_lines(source_nb)
    assert len(lines) >= 30  # every exercise contributes lines (sanity of the extraction)
    assert "Z = np.dot(W, A) + b" in lines
    text = _release_text(folder)
    leaked = [line for line in lines if line in text]
    assert leaked == []


def test_release_never_imports_grader(generated):
    pattern = re.compile(r"^\s*(from\s+grader\b|import\s+grader\b)|importlib.*grader", re.M)
    notebook = read_notebook(generated.release_notebook)
    for cell in notebook.cells:
        assert not pattern.search(cell.source)
    for name in HELPERS:
        tree = ast.parse((generated.release_dir / name).read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert imported <= {"numpy", "h5py", "copy", "pathlib"}, (name, imported)
    assert b"grader" not in (generated.release_dir / "public_tests_data.h5").read_bytes()


# --- (e) byte-identical regeneration, equal to the committed folders -------------------------


def test_regeneration_is_byte_identical(generated, rebuilt):
    assert rebuilt.release == read_tree(generated.release_dir)
    assert rebuilt.solutions == read_tree(generated.solutions_dir)
    assert sorted(rebuilt.release) == RELEASE_FILES


def test_generated_equals_committed(generated):
    assert read_tree(generated.release_dir) == read_tree(RELEASE_DIR)
    assert read_tree(generated.solutions_dir) == read_tree(SOLUTIONS_DIR)


def test_release_check_passes_on_the_repository():
    result = subprocess.run(
        [sys.executable, "-m", "grader", "release", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "up to date: dnn_application, dnn_step_by_step"


# --- (f) --check on a hand-edited / incomplete copy -----------------------------------------


def _copy_tree(generated, tmp_path):
    release_root, solutions_root = tmp_path / "release", tmp_path / "solutions"
    shutil.copytree(generated.release_dir, release_root / ASSIGNMENT)
    shutil.copytree(generated.solutions_dir, solutions_root / ASSIGNMENT)
    return release_root, solutions_root


def _check(release_root, solutions_root):
    return CliRunner().invoke(
        cli,
        [
            "release",
            ASSIGNMENT,
            "--check",
            "--source",
            str(SOURCE_ROOT),
            "--release",
            str(release_root),
            "--solutions",
            str(solutions_root),
        ],
    )


STATE = re.compile(r"\((differs|missing|unexpected)\)")


def test_check_names_a_hand_edited_file(generated, tmp_path):
    release_root, solutions_root = _copy_tree(generated, tmp_path)
    edited = release_root / ASSIGNMENT / "dnn_utils.py"
    edited.write_bytes(edited.read_bytes() + b"# a hand edit\n")
    before = read_tree(release_root)
    result = _check(release_root, solutions_root)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: stale generated files: ")
    assert f"{edited} (differs)" in lines[0]
    assert len(STATE.findall(lines[0])) == 1
    assert result.stdout == ""
    assert read_tree(release_root) == before  # --check writes nothing


def test_check_reports_missing_and_extra_files(generated, tmp_path):
    release_root, solutions_root = _copy_tree(generated, tmp_path)
    folder = release_root / ASSIGNMENT
    (folder / "testCases.py").unlink()
    (folder / "notes.txt").write_text("mine\n")
    (solutions_root / ASSIGNMENT / NOTEBOOK_NAME).unlink()
    result = _check(release_root, solutions_root)
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert "\n" not in line
    assert f"{folder / 'testCases.py'} (missing)" in line
    assert f"{folder / 'notes.txt'} (unexpected)" in line
    assert f"{solutions_root / ASSIGNMENT / NOTEBOOK_NAME} (missing)" in line
    assert len(STATE.findall(line)) == 3


def test_stale_files_ignores_caches_and_sees_a_missing_folder(generated, rebuilt, tmp_path):
    release_root, solutions_root = _copy_tree(generated, tmp_path)
    cache = release_root / ASSIGNMENT / "__pycache__"
    cache.mkdir()
    (cache / "public_tests.cpython-311.pyc").write_bytes(b"\0")
    checkpoints = release_root / ASSIGNMENT / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "x-checkpoint.ipynb").write_text("{}")
    assert generate.stale_files([rebuilt], release_root, solutions_root) == []
    shutil.rmtree(solutions_root)
    assert generate.stale_files([rebuilt], release_root, solutions_root) == [
        f"{solutions_root / ASSIGNMENT / NOTEBOOK_NAME} (missing)"
    ]


# --- (g) graded cells keep their scaffolding and nbgrader metadata --------------------------

REGION = re.compile(
    r"^([ \t]*)# YOUR CODE STARTS HERE\n[ \t]*\n\1# YOUR CODE ENDS HERE\n"
    r"\1raise NotImplementedError\(\"" + re.escape(STUB_MESSAGE) + r"\"\)$",
    re.M,
)


def _expected_student_source(source: str) -> str:
    """The source cell with each solution region replaced by the empty student region."""
    out, in_region = [], False
    for line in source.split("\n"):
        if BEGIN in line:
            indent = line[: len(line) - len(line.lstrip())]
            out += [
                f"{indent}# YOUR CODE STARTS HERE",
                indent,
                f"{indent}# YOUR CODE ENDS HERE",
                f'{indent}raise NotImplementedError("{STUB_MESSAGE}")',
            ]
            in_region = True
        elif END in line:
            in_region = False
        elif not in_region:
            out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_graded_cell_has_the_student_region_and_hints(exercise, release_nb, source_nb):
    cell, src = cell_by_id(release_nb, exercise), cell_by_id(source_nb, exercise)
    regions = src.source.count(BEGIN)
    assert len(REGION.findall(cell.source)) == regions >= 1
    assert BEGIN not in cell.source and END not in cell.source
    # everything outside the solution regions survives, in order: the tag, the signature,
    # the docstring and the hint comments such as `# Z = ...`
    assert cell.source == _expected_student_source(src.source)
    hints = [line for line in src.source.split("\n") if re.match(r"\s*# .*= \.\.\.", line)]
    assert hints and all(hint in cell.source.split("\n") for hint in hints)
    assert f"# GRADED FUNCTION: {exercise}" in cell.source


def test_linear_forward_hint_is_kept(release_nb):
    assert (
        "    # Z = ...\n    # YOUR CODE STARTS HERE\n"
        in cell_by_id(release_nb, "linear_forward").source
    )


def test_nbgrader_metadata_is_kept(release_nb, source_nb):
    assert [c.get("id") for c in release_nb.cells] == [c.get("id") for c in source_nb.cells]
    assert [nbgrader(c).get("grade_id") for c in release_nb.cells] == [
        nbgrader(c).get("grade_id") for c in source_nb.cells
    ]
    for exercise in EXERCISES:
        solution, test = (
            cell_by_id(release_nb, exercise),
            cell_by_id(release_nb, f"{exercise}_test"),
        )
        assert nbgrader(solution)["solution"] is True and nbgrader(solution)["locked"] is False
        assert nbgrader(solution)["grade"] is False
        assert nbgrader(test)["grade"] is True and nbgrader(test)["locked"] is True
        assert nbgrader(test)["points"] == 10
        assert test.source == cell_by_id(source_nb, f"{exercise}_test").source
    for cell in release_nb.cells:
        meta = nbgrader(cell)
        assert re.fullmatch(r"[0-9a-f]{32}", meta["checksum"]), meta.get("grade_id")
        assert meta["checksum"] == compute_checksum(cell), meta.get("grade_id")
        assert meta["cell_type"] == cell.cell_type
    assert release_nb.metadata == source_nb.metadata


def test_non_graded_cells_are_unchanged(release_nb, source_nb):
    assert len(release_nb.cells) == len(source_nb.cells)
    for new, old in zip(release_nb.cells, source_nb.cells):
        if not nbgrader(old).get("solution"):
            assert new.source == old.source, nbgrader(old).get("grade_id")


# --- (h) the release carries no outputs ------------------------------------------------------


@pytest.mark.parametrize("which", ["generated", "committed"])
def test_release_notebook_has_no_outputs(which, generated):
    path = generated.release_notebook if which == "generated" else RELEASE_DIR / NOTEBOOK_NAME
    notebook = read_notebook(path)
    assert code_cells(notebook)
    for _, cell in code_cells(notebook):
        assert cell.outputs == [] and cell.execution_count is None
        assert "execution" not in cell.metadata
    assert b'"output_type"' not in path.read_bytes()


def test_executed_solutions_are_reused_while_their_inputs_are_unchanged(monkeypatch, tmp_path):
    """A notebook that trains for minutes is executed once per change of its inputs."""

    def not_again(*args, **kwargs):
        raise AssertionError("executed again")

    monkeypatch.setattr(generate, "run_notebook", not_again)
    again = generate.build(SOURCE_DIR, SOLUTIONS_DIR)
    assert again.solutions == read_tree(SOLUTIONS_DIR)
    changed = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS_DIR, changed)
    notebook = changed / next(iter(again.solutions))
    notebook.write_bytes(notebook.read_bytes().replace(b'"inputs": "', b'"inputs": "0'))
    with pytest.raises(AssertionError, match="executed again"):
        generate.build(SOURCE_DIR, changed)
