"""Helper modules imported under other names (grader.grading.imports): resolved to the release's
module that defines what the import asks for, recorded in words, or left to fail as in
Jupyter."""

from __future__ import annotations

import json

import nbformat
import pytest
from click.testing import CliRunner
from support import EXERCISES, NOTEBOOK_NAME, RELEASE_DIR, SOLUTIONS_DIR

from grader.assignments.dnn_step_by_step import MODULE_ALIASES, MODULE_LOOKALIKES
from grader.cli import cli
from grader.grading import imports
from grader.grading.notebooks import notebook_bytes, read_notebook

ACTIVATIONS = "sigmoid, sigmoid_backward, relu, relu_backward"


@pytest.fixture(scope="module")
def helpers() -> imports.HelperModules:
    return imports.helper_modules(RELEASE_DIR, MODULE_ALIASES, MODULE_LOOKALIKES)


def test_release_modules_are_parsed_once_with_their_top_level_names(helpers):
    assert set(helpers.defines) == {"dnn_utils", "public_tests", "testCases"}
    assert {"sigmoid", "relu_backward"} <= helpers.defines["dnn_utils"]
    assert "linear_forward_test_case" in helpers.defines["testCases"]
    assert "linear_forward_test" in helpers.defines["public_tests"]
    assert "sigmoid" not in helpers.defines["testCases"]


def test_defined_names_sees_definitions_under_if_and_try_but_not_inside_functions():
    source = (
        "import numpy as np\nfrom os import path as p\nX: int = 1\na, (b, c) = 1, (2, 3)\n"
        "if True:\n    def f(): inner = 1\ntry:\n    class K: pass\n"
        "except ImportError:\n    g = None\n"
    )
    assert imports.defined_names(source) == {"np", "p", "X", "a", "b", "c", "f", "K", "g"}


def test_renamed_helpers_resolve_to_the_module_that_defines_the_names(helpers):
    cells = [
        f"import numpy as np\nfrom dnn_app_utils_v3 import {ACTIVATIONS}\n"
        "import public_tests1\nfrom public_tests1 import *\n",
        "%matplotlib inline",
        "public_tests1.linear_forward_test(linear_forward)",
    ]
    resolved = imports.resolve(cells, helpers)
    assert resolved.aliases == {
        **MODULE_ALIASES,
        "dnn_app_utils_v3": "dnn_utils",
        "public_tests1": "public_tests",
    }
    assert resolved.substitutions == (
        "`dnn_app_utils_v3` is not part of this assignment: the release's `dnn_utils` was "
        f"used instead (it defines {ACTIVATIONS})",
        "`public_tests1` is not part of this assignment: the release's `public_tests` was "
        "used instead",
    )


def test_names_decide_over_the_look_of_the_module_name(helpers):
    resolved = imports.resolve(["from testCases_v9 import sigmoid, relu"], helpers)
    assert resolved.aliases["testCases_v9"] == "dnn_utils"
    assert resolved.substitutions[0].endswith(
        "`dnn_utils` was used instead (it defines sigmoid, relu)"
    )


@pytest.mark.parametrize(
    "cell",
    [
        "from dnn_app_utils_v9 import sigmoid, load_data",  # no release module defines load_data
        "import totally_missing\nfrom unrelated_module import *",  # looks like no helper
        "import dnn_app_utils_v2 as u\nu.load_data()",  # asked for an attribute nobody defines
        "import dnn_utils\nfrom testCases import *",  # the release's own names
        "import dnn_utils_v3.sub",  # a package: never a helper
        "def broken(:\n    import dnn_app_utils_v3",  # does not parse: fails in the sandbox
    ],
)
def test_imports_nothing_answers_are_left_to_fail_as_in_jupyter(helpers, cell):
    resolved = imports.resolve([cell], helpers)
    assert resolved.aliases == MODULE_ALIASES and resolved.substitutions == ()


def test_fixed_aliases_are_recorded_only_when_used(helpers):
    used = imports.resolve(["from testCases_v4a import *\nfrom dnn_utils_v2 import relu"], helpers)
    assert used.substitutions == (
        "`testCases_v4a` is not part of this assignment: the release's `testCases` was used "
        "instead",
        "`dnn_utils_v2` is not part of this assignment: the release's `dnn_utils` was used "
        "instead (it defines relu)",
    )
    assert imports.resolve(["from testCases import *"], helpers).substitutions == ()


def with_setup(
    solved: nbformat.NotebookNode, replace: dict[str, str], extra: str | None = None
) -> nbformat.NotebookNode:
    """The solved notebook with its import cell edited, and ``extra`` as a last cell."""
    notebook = nbformat.from_dict(json.loads(json.dumps(solved)))
    setup = next(i for i, c in enumerate(notebook.cells) if "from testCases import" in c.source)
    for old, new in replace.items():
        assert old in notebook.cells[setup].source
        notebook.cells[setup].source = notebook.cells[setup].source.replace(old, new)
    if extra is not None:
        notebook.cells.append(nbformat.v4.new_code_cell(extra))
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """grades.json of one `grader grade` run over three notebooks, by student."""
    folder = tmp_path_factory.mktemp("imports")
    solved = read_notebook(SOLUTIONS_DIR / NOTEBOOK_NAME)
    renamed = {
        "from dnn_utils import": "from dnn_app_utils_v3 import",
        "from public_tests import *": "import public_tests1\nfrom public_tests1 import *",
    }
    notebooks = {
        "renamed": with_setup(solved, renamed, "public_tests1.linear_forward_test(linear_forward)"),
        "unknown_names": with_setup(solved, {}, "from dnn_app_utils_v9 import sigmoid, load_data"),
        "unrelated": with_setup(solved, {}, "import totally_missing"),
    }
    for name, notebook in notebooks.items():
        (folder / f"{name}.ipynb").write_bytes(notebook_bytes(notebook))
    out = folder / "out"
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(folder),
            "--out",
            str(out),
            "--release",
            str(RELEASE_DIR),
            "--timeout",
            "2",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    return {s["student"]: s for s in data["submissions"]}


def test_renamed_helper_imports_get_full_marks_and_say_what_was_used(graded):
    renamed = graded["renamed"]
    assert renamed["score"] == renamed["max_score"] == 100
    assert {n: e["status"] for n, e in renamed["exercises"].items()} == dict.fromkeys(
        EXERCISES, "passed"
    )
    assert renamed["cell_errors"] == []
    assert renamed["substitutions"] == [
        "`dnn_app_utils_v3` is not part of this assignment: the release's `dnn_utils` was "
        f"used instead (it defines {ACTIVATIONS})",
        "`public_tests1` is not part of this assignment: the release's `public_tests` was "
        "used instead",
    ]


@pytest.mark.parametrize(
    "student, module", [("unknown_names", "dnn_app_utils_v9"), ("unrelated", "totally_missing")]
)
def test_imports_nothing_answers_fail_their_cell_only(graded, student, module):
    result = graded[student]
    assert result["substitutions"] == []
    assert len(result["cell_errors"]) == 1
    assert f"No module named '{module}'" in result["cell_errors"][0]
    assert result["score"] == 100  # the rest of the notebook still runs
