"""Synthetic submissions of dnn_step_by_step, for the demo batch, tests and benchmarks.

Built from the solved notebook: a correct one, the untouched release, one per
typical mistake (the graded cell replaced by a plausible wrong version), one that
hangs, one that crashes, and one in the original course's layout (tags removed,
old helper module names, cells reordered, a function defined twice).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.grading.notebooks import notebook_bytes, read_notebook

NOTEBOOK = "Building_your_Deep_Neural_Network_Step_by_Step.ipynb"

# exercise -> a wrong version a student might write
MISTAKES: dict[str, str] = {
    "initialize_parameters": """
def initialize_parameters(n_x, n_h, n_y):
    W1 = np.random.randn(n_h, n_x) * 0.01      # forgot np.random.seed(1)
    W2 = np.random.randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}
""",
    "linear_forward": """
def linear_forward(A, W, b):
    Z = np.dot(W, A)                             # forgot + b
    return Z, (A, W, b)
""",
    "linear_activation_forward": """
def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, activation_cache = relu(Z) if activation == "sigmoid" else sigmoid(Z)   # swapped
    return A, (linear_cache, activation_cache)
""",
    "compute_cost": """
def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = 1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))   # sign error
    return np.squeeze(cost)
""",
    "linear_backward": """
def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1) / m                  # no keepdims
    return np.dot(W.T, dZ), dW, db
""",
    "update_parameters": """
def update_parameters(params, grads, learning_rate):
    L = len(params) // 2
    for l in range(1, L + 1):                    # edits the caller's dict, only W
        params["W" + str(l)] = params["W" + str(l)] - learning_rate * grads["dW" + str(l)]
    return params
""",
}
HANG = (
    "L_model_backward",
    """
def L_model_backward(AL, Y, caches):
    grads = {}
    while True:                                   # never terminates
        pass
""",
)
CRASH = (
    "linear_activation_backward",
    """
def linear_activation_backward(dA, cache, activation):
    linear_cache, activation_cache = cache
    dZ = relu_backward(dA, activation_cache) if activation == "relu" else undefined_name
    return linear_backward(dZ, linear_cache)
""",
)


def without_function(solved: NotebookNode, exercise: str) -> NotebookNode:
    """A copy of the solved notebook whose graded cell of ``exercise`` was deleted."""
    notebook = copy.deepcopy(solved)
    notebook.cells.remove(_graded_cell(notebook, exercise))
    return notebook


def with_edited_test(solved: NotebookNode, exercise: str) -> NotebookNode:
    """The solved notebook whose locked test cell of ``exercise`` only claims success."""
    notebook = copy.deepcopy(solved)
    _graded_cell(notebook, f"{exercise}_test").source = 'print("All tests passed.")'
    return notebook


def _graded_cell(notebook: NotebookNode, exercise: str) -> NotebookNode:
    for cell in notebook.cells:
        if (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") == exercise:
            return cell
    raise KeyError(exercise)


def with_function(solved: NotebookNode, exercise: str, source: str) -> NotebookNode:
    """A copy of the solved notebook whose graded cell of ``exercise`` is ``source``."""
    notebook = copy.deepcopy(solved)
    _graded_cell(notebook, exercise).source = f"# GRADED FUNCTION: {exercise}\n{source}"
    return notebook


def original_layout(solved: NotebookNode) -> NotebookNode:
    """The course's own layout: old module names, no tags, moved cells, a redefinition."""
    notebook = copy.deepcopy(solved)
    for cell in notebook.cells:
        cell.metadata = {}
        if cell.cell_type != "code":
            continue
        cell.source = cell.source.replace(
            "from testCases import", "from testCases_v4a import"
        ).replace("from dnn_utils import", "from dnn_utils_v2 import")
        if cell.source.startswith("# GRADED FUNCTION"):
            cell.source = cell.source.split("\n", 1)[1]
    cells = notebook.cells
    # move the compute_cost cell to the end, and add an early wrong update_parameters
    # that the real one (defined later) overrides
    cost = next(i for i, c in enumerate(cells) if "def compute_cost(" in c.source)
    cells.append(cells.pop(cost))
    early = nbformat.v4.new_code_cell(
        "def update_parameters(params, grads, learning_rate):\n    return params\n"
    )
    cells.insert(3, early)
    notebook.metadata.pop("grader", None)
    return notebook


def with_faked_outputs(release: NotebookNode) -> NotebookNode:
    """The untouched release, with every test cell claiming it passed (outputs never count)."""
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        if (cell.get("metadata", {}).get("nbgrader") or {}).get("grade"):
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text="All tests passed.\n")
            ]
    return notebook


def sample_batch(solutions_dir: Path, release_dir: Path) -> dict[str, bytes]:
    """File name -> notebook bytes: a small batch showing every status."""
    solved = read_notebook(Path(solutions_dir) / NOTEBOOK)
    batch = {
        "alice_correct.ipynb": notebook_bytes(solved),
        "bob_release_with_faked_outputs.ipynb": notebook_bytes(
            with_faked_outputs(read_notebook(Path(release_dir) / NOTEBOOK))
        ),
        "carol_original_course_layout.ipynb": notebook_bytes(original_layout(solved)),
        "dave_infinite_loop.ipynb": notebook_bytes(with_function(solved, *HANG)),
        "erin_crash.ipynb": notebook_bytes(with_function(solved, *CRASH)),
        "frank_not_a_notebook.ipynb": b"{ this is not json",
        "grace_deleted_compute_cost.ipynb": notebook_bytes(
            without_function(solved, "compute_cost")
        ),
        "heidi_edited_locked_test_cell.ipynb": notebook_bytes(
            with_edited_test(solved, "linear_forward")
        ),
    }
    for exercise, source in MISTAKES.items():
        batch[f"mistake_{exercise}.ipynb"] = notebook_bytes(with_function(solved, exercise, source))
    return batch
