"""The student helper module ``dnn_app_utils_v3.py``, generated from the first kit's reference.

Students of this assignment do not write the building blocks again: they get them, as
the course does, in one module. :func:`helper_module_source` writes that module's text
from the reference functions of ``dnn_step_by_step`` (``inspect.getsource``, so the
two assignments can never disagree) plus the functions defined below, which only this
assignment needs. The text depends on nothing but these sources, so the release is the
same bytes on every run.

Functions below run in the student's folder: they use numpy, h5py and matplotlib only,
never ``grader``. ``load_data`` reads the datasets/ folder next to the module (not the
working directory): the same folder for a student, and one the grader's sandbox, whose
working directory is empty, can read too.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import h5py
import numpy as np

from grader.assignments.dnn_step_by_step import reference as step_by_step

MODULE_NAME = "dnn_app_utils_v3"

# Why initialize_parameters_deep is not the first assignment's: with weights drawn as
# randn * 0.01, the signal shrinks about 0.01 * sqrt(n) times per layer, so the 4-layer
# network [12288, 20, 7, 5, 1] starts with an almost constant output and gradients too
# small to move it: on the cat data set its cost stays at the class-prior level through
# all 2400 iterations (train accuracy 0.66 = "always non-cat"). As the course's own helper
# does, this one scales each layer by 1/sqrt(n_prev) (seeded with 1), which trains.
# The two-layer model keeps the first assignment's initialize_parameters (0.01 scale).


def initialize_parameters_deep(layer_dims):
    """L-layer network; seeded with 1; weights scaled by 1/sqrt(units of the layer before)."""
    np.random.seed(1)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        rows, cols = layer_dims[layer], layer_dims[layer - 1]
        parameters[f"W{layer}"] = np.random.randn(rows, cols) / np.sqrt(cols)
        parameters[f"b{layer}"] = np.zeros((rows, 1))
    return parameters


def load_data():
    """The cat / non-cat pictures of the datasets/ folder next to this module: uint8
    images (m, 64, 64, 3), labels of shape (1, m) and the class names [b'non-cat', b'cat']."""
    folder = Path(__file__).resolve().parent / "datasets"
    with h5py.File(folder / "train_catvnoncat.h5", "r") as train:
        train_x_orig = np.array(train["train_set_x"][:])
        train_y = np.array(train["train_set_y"][:])
    with h5py.File(folder / "test_catvnoncat.h5", "r") as test:
        test_x_orig = np.array(test["test_set_x"][:])
        test_y = np.array(test["test_set_y"][:])
        classes = np.array(test["list_classes"][:])
    train_y = train_y.reshape((1, train_y.shape[0]))
    test_y = test_y.reshape((1, test_y.shape[0]))
    return train_x_orig, train_y, test_x_orig, test_y, classes


def predict(X, y, parameters):
    """Labels the network predicts for the columns of X (1 where the output is above 0.5),
    shape (1, m); prints the share of them that agree with y."""
    probabilities, _caches = L_model_forward(X, parameters)  # noqa: F821 (in the helper module)
    p = (probabilities > 0.5).astype(float)
    print("Accuracy: " + str(np.mean(p == y)))
    return p


def print_mislabeled_images(classes, X, y, p):
    """Show the pictures (columns of X) whose prediction p differs from the label y."""
    import matplotlib.pyplot as plt  # only here: the rest of the module needs no plotting

    wrong = np.flatnonzero(p[0] != y[0])
    if wrong.size == 0:
        print("No mislabeled pictures.")
        return
    columns = min(wrong.size, 6)
    rows = -(-wrong.size // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.5 * columns, 2.8 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, wrong):
        axis.imshow(X[:, index].reshape(64, 64, 3), interpolation="nearest")
        axis.set_title(
            f"predicted: {classes[int(p[0, index])].decode('utf-8')}\n"
            f"label: {classes[int(y[0, index])].decode('utf-8')}",
            fontsize=9,
        )
    figure.tight_layout()
    plt.show()


# what the module holds, in order: (section title, functions)
_SECTIONS = (
    (
        "Activations and their gradients",
        (
            step_by_step.sigmoid,
            step_by_step.relu,
            step_by_step.sigmoid_backward,
            step_by_step.relu_backward,
        ),
    ),
    ("Initialization", (step_by_step.initialize_parameters, initialize_parameters_deep)),
    (
        "Forward pass",
        (
            step_by_step.linear_forward,
            step_by_step.linear_activation_forward,
            step_by_step.L_model_forward,
        ),
    ),
    ("Cost", (step_by_step.compute_cost,)),
    (
        "Backward pass",
        (
            step_by_step.linear_backward,
            step_by_step.linear_activation_backward,
            step_by_step.L_model_backward,
        ),
    ),
    ("Update", (step_by_step.update_parameters,)),
    ("Data and evaluation", (load_data, predict, print_mislabeled_images)),
)

_HEADER = '''"""Helper functions for "Deep Neural Network: Application".

The building blocks of the previous assignment (initialization, forward and backward
passes, cost, update), ready to use, plus load_data, predict and print_mislabeled_images.

This file is generated from the model solution (grader.assignments.dnn_application);
edit the generator, not this file.
"""
from pathlib import Path

import h5py
import numpy as np
'''


def functions() -> tuple:
    """Every function the helper module defines, in the module's order."""
    return tuple(function for _title, group in _SECTIONS for function in group)


def helper_module_source() -> str:
    """The text of ``dnn_app_utils_v3.py``."""
    parts = [_HEADER]
    for title, group in _SECTIONS:
        parts.append(f"\n\n# --- {title} " + "-" * (80 - len(title) - 7) + "\n")
        for function in group:
            parts.append(
                "\n\n"
                + inspect.getsource(function).replace("  # noqa: F821 (in the helper module)", "")
            )
    return "".join(parts).rstrip("\n") + "\n"
