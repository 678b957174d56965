"""Feedback a student can act on: the cause before its effect, cells named as Jupyter shows
them, an untouched exercise said once."""

from __future__ import annotations

from pathlib import Path

import pytest

import grader
from grader.assignments.dnn_step_by_step.samples import NOTEBOOK, with_function
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.reports import feedback_markdown

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"


def graded_cell_number(notebook, name: str) -> int:
    """The number Jupyter shows for the cell defining ``name`` (all cells counted, from 1)."""
    return next(
        i
        for i, cell in enumerate(notebook.cells, 1)
        if cell.cell_type == "code" and f"def {name}(" in cell.source
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("actionable")
    solved = read_notebook(SOLUTIONS / NOTEBOOK)
    cell = next(c for c in solved.cells if "def linear_forward(" in c.source).source
    broken = with_function(solved, "linear_forward", cell.replace("np.dot(", "np.dot((", 1))
    cost = next(c for c in solved.cells if "def compute_cost(" in c.source).source
    failing_import = with_function(solved, "compute_cost", "import no_such_module\n" + cost)
    for name, notebook in (("syntax", broken), ("import", failing_import)):
        (folder / f"{name}.ipynb").write_bytes(notebook_bytes(notebook))
    (folder / "untouched.ipynb").write_bytes((RELEASE / NOTEBOOK).read_bytes())
    batch = grader.grade([folder], release_dir=RELEASE)
    return {s.student: s for s in batch.submissions}, broken, failing_import


def test_a_syntax_error_is_told_before_the_missing_function(graded):
    results, broken, _ = graded
    exercise = results["syntax"].exercise("linear_forward")
    number = graded_cell_number(broken, "linear_forward")
    assert exercise.status == "missing" and exercise.score == 0
    assert exercise.error.startswith(
        f"linear_forward could not be defined: the cell that defines it, cell {number} "
        "(Exercise 3 - linear_forward), stopped at line "
    )
    assert "SyntaxError" in exercise.error
    page = feedback_markdown(results["syntax"], "DNN")
    section = page.split("## linear\\_forward: missing", 1)[1]
    assert section.lstrip().startswith("Its cell stopped with an error")
    assert "not found" not in section.split("##")[0]
    # the functions that call it are graded with the reference's linear_forward
    assert results["syntax"].score == 90


def test_a_failing_import_at_the_top_of_a_graded_cell(graded):
    results, _, failing_import = graded
    exercise = results["import"].exercise("compute_cost")
    number = graded_cell_number(failing_import, "compute_cost")
    assert (
        f"cell {number} (Exercise 6 - compute_cost), stopped at line 2 with "
        "ModuleNotFoundError: No module named 'no_such_module'" in exercise.error
    )
    assert any(
        line.startswith(f"cell {number} (Exercise 6 - compute_cost): ModuleNotFoundError")
        for line in results["import"].cell_errors
    )


def test_cells_are_numbered_as_the_notebook_shows_them_everywhere(graded):
    results, broken, _ = graded
    number = graded_cell_number(broken, "linear_forward")
    line = results["syntax"].cell_errors[0]
    assert line.startswith(f"cell {number} (Exercise 3 - linear_forward): SyntaxError")
    assert f"<cell {number}>" in line  # Python's own message names the same number


def test_an_untouched_exercise_is_said_once(graded):
    results, _, _ = graded
    page = feedback_markdown(results["untouched"], "DNN")
    section = page.split("## linear\\_forward: error", 1)[1].split("\n## ", 1)[0]
    assert section.count("NotImplementedError: Not done yet") == 1
    assert (
        "All 5 checks stopped on the same error" in section
        or "checks stopped on the same error" in section
    )
    assert "Failed check" not in section


def test_resolved_imports_are_listed_for_the_student():
    from grader.reports import feedback_html, gradescope_results
    from grader.results import SubmissionResult

    line = (
        "`dnn_app_utils_v3` is not part of this assignment: the release's `dnn_utils` "
        "was used instead (it defines sigmoid, relu)"
    )
    result = SubmissionResult("s", "/course/s.ipynb", 100.0, 100.0, "graded", substitutions=(line,))
    assert "Imports the grader resolved" in feedback_markdown(result, "DNN")
    assert "dnn\\_app\\_utils\\_v3" in feedback_markdown(result, "DNN")  # escaped
    page = feedback_html(result, "DNN")
    assert "Imports the grader resolved" in page and "dnn_app_utils_v3" in page
    assert "/course/" not in page and "s.ipynb" in page  # the file's name, not its path
    assert "dnn_app_utils_v3" in gradescope_results(result)
