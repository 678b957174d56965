"""Sample submissions of dnn_application, for the demo batch and tests.

Built from the solved notebook: a correct one, the untouched release, a model that never
updates its parameters, one that forgets to seed numpy, one that trains forever, and
one whose own cells still train for the notebook's thousands of iterations (the grader
leaves those cells out).
"""

from __future__ import annotations

import copy
from pathlib import Path

from nbformat import NotebookNode

from grader.grading.notebooks import notebook_bytes, read_notebook

NOTEBOOK = "Deep_Neural_Network_Application.ipynb"

# an L-layer model that computes everything but never applies the update
FROZEN = (
    "L_layer_model",
    """
def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                  print_cost=False):
    np.random.seed(1)
    costs = []
    parameters = initialize_parameters_deep(layers_dims)
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        # forgot: parameters = update_parameters(parameters, grads, learning_rate)
        if print_cost and (i % 100 == 0 or i == num_iterations - 1):
            print(f"Cost after iteration {i}: {float(cost):.6f}")
        if i % 100 == 0:
            costs.append(cost)
    return parameters, costs
""",
)
# a two-layer model that forgets np.random.seed(1): its weights change from run to run
UNSEEDED = (
    "two_layer_model",
    """
def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                    print_cost=False):
    costs = []
    (n_x, n_h, n_y) = layers_dims
    W1, b1 = np.random.randn(n_h, n_x) * 0.01, np.zeros((n_h, 1))
    W2, b2 = np.random.randn(n_y, n_h) * 0.01, np.zeros((n_y, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    for i in range(num_iterations):
        A1, cache1 = linear_activation_forward(X, parameters["W1"], parameters["b1"], "relu")
        A2, cache2 = linear_activation_forward(A1, parameters["W2"], parameters["b2"],
                                               "sigmoid")
        cost = compute_cost(A2, Y)
        dA2 = -(np.divide(Y, A2) - np.divide(1 - Y, 1 - A2))
        dA1, dW2, db2 = linear_activation_backward(dA2, cache2, "sigmoid")
        _, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        parameters = update_parameters(parameters, grads, learning_rate)
        if i % 100 == 0:
            costs.append(cost)
    return parameters, costs
""",
)
# trains until the end of time
HANG = (
    "two_layer_model",
    """
def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                    print_cost=False):
    i = 0
    while i < num_iterations or True:           # never terminates
        i += 1
""",
)


def _graded_cell(notebook: NotebookNode, exercise: str) -> NotebookNode:
    tag = f"# GRADED FUNCTION: {exercise}"
    return next(
        cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith(tag)
    )


def with_function(solved: NotebookNode, exercise: str, source: str) -> NotebookNode:
    """A copy of the solved notebook whose graded cell of ``exercise`` is ``source``."""
    notebook = copy.deepcopy(solved)
    _graded_cell(notebook, exercise).source = f"# GRADED FUNCTION: {exercise}\n{source}"
    return notebook


def sample_batch(solutions_dir: Path, release_dir: Path) -> dict[str, bytes]:
    """File name -> notebook bytes: a small batch showing every status."""
    solved = read_notebook(Path(solutions_dir) / NOTEBOOK)
    release = read_notebook(Path(release_dir) / NOTEBOOK)
    return {
        "alice_correct.ipynb": notebook_bytes(solved),
        "bob_untouched_release.ipynb": notebook_bytes(release),
        "carol_never_updates_parameters.ipynb": notebook_bytes(with_function(solved, *FROZEN)),
        "dave_forgot_the_seed.ipynb": notebook_bytes(with_function(solved, *UNSEEDED)),
        "erin_trains_forever.ipynb": notebook_bytes(with_function(solved, *HANG)),
    }
