"""The reference taken from the source notebook's solution cells (grader.authoring.reference)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from support import REPO_ROOT

from grader.assignments import get_kit
from grader.authoring import reference
from grader.authoring.assignment import BEGIN_SOLUTION, load_assignment

SOURCE = REPO_ROOT / "source_notebooks" / "dnn_step_by_step"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    assignment, notebook = load_assignment(SOURCE)
    folder = tmp_path_factory.mktemp("generated")
    for name, data in reference.generated_files(assignment, notebook).items():
        (folder / name).write_bytes(data)
    return assignment, folder


def test_the_module_holds_the_solutions_and_imports_but_no_public_tests(extracted):
    assignment, folder = extracted
    text = (folder / reference.MODULE).read_text()
    assert BEGIN_SOLUTION not in text and "public_tests" not in text
    assert sorted(p.name for p in folder.iterdir()) == [
        "dnn_utils.py",
        "reference.py",
        "testCases.py",
    ]
    for exercise in assignment.exercises:
        assert f"\ndef {exercise.name}(" in text


def test_loading_leaves_the_interpreter_as_it_was(extracted):
    _, folder = extracted
    before_path, before_modules = list(sys.path), set(sys.modules)
    namespace = reference.load(folder)
    assert sys.path == before_path
    assert not {"dnn_utils", "testCases"} & (set(sys.modules) - before_modules)
    A, W, b = np.ones((3, 2)), np.ones((1, 3)), np.zeros((1, 1))
    Z, cache = namespace["linear_forward"](A, W, b)
    assert Z.tolist() == [[3.0, 3.0]] and cache[0] is A


def test_the_hand_written_reference_agrees_with_the_notebook(extracted):
    _, folder = extracted
    kit = get_kit("dnn_step_by_step")
    cases = kit.hidden_cases(SOURCE)
    assert (
        reference.disagreements(
            kit.reference, reference.load(folder), kit.exercises, cases, kit.signatures
        )
        == []
    )


def test_a_reference_that_differs_from_the_notebook_is_named(extracted):
    _, folder = extracted
    kit = get_kit("dnn_step_by_step")
    namespace = dict(reference.load(folder))
    solved = namespace["compute_cost"]
    namespace["compute_cost"] = lambda AL, Y: solved(AL, Y) * 1.01
    found = reference.disagreements(
        kit.reference, namespace, kit.exercises, kit.hidden_cases(SOURCE), kit.signatures
    )
    assert len(found) == 1 and found[0].startswith("compute_cost, case 1 (")


def test_a_solution_reference_says_how_to_make_it(tmp_path, extracted):
    missing = reference.SolutionReference(tmp_path / "generated")
    with pytest.raises(reference.ReferenceNotGenerated, match="run `grader release` first"):
        _ = missing.linear_forward
    _, folder = extracted
    with missing.pinned(folder):
        assert callable(missing.linear_forward)
    with pytest.raises(reference.ReferenceNotGenerated):
        _ = missing.linear_forward
