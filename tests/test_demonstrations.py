"""Demonstration cells (long training runs in the notebook's own cells) left out of grading."""

from __future__ import annotations

from grader.grading.demonstrations import (
    PLACEHOLDER,
    Demonstration,
    demonstrations,
    described,
    without_demonstrations,
)

TRAIN = ("two_layer_model", "L_layer_model")
CELLS = [
    "import numpy as np\nfrom dnn_app_utils_v3 import *",  # 0 imports
    "train_x = np.zeros((4, 3))\nlayers_dims = (4, 2, 1)",  # 1 data
    "def two_layer_model(X, Y, layers_dims, num_iterations=3000):\n    return {}, []",  # 2
    "two_layer_model_test(two_layer_model)",  # 3 test
    "parameters, costs = two_layer_model(train_x, None, layers_dims, 2500)",  # 4 demo
    "plot_costs(costs, 0.0075)",  # 5 uses it
    "predictions = predict(train_x, None, parameters)",  # 6 uses it
    "print(predictions.mean())",  # 7 transitively
    "layers_dims = [4, 3, 1]",  # 8 unrelated
    "parameters = {'W1': 1}\nprint(parameters)",  # 9 redefines
    "print(parameters)",  # 10 not stale
]


def test_calls_of_named_exercises_and_what_depends_on_them_are_left_out():
    found = demonstrations(CELLS, TRAIN)
    assert found == [
        Demonstration(4, ("two_layer_model",)),
        Demonstration(5, ()),
        Demonstration(6, ()),
        Demonstration(7, ()),
    ]


def test_cells_that_define_or_import_always_run():
    cells = [
        "def helper():\n    return two_layer_model(1, 2, 3)\nhelper()",
        "import os\nparameters, costs = L_layer_model(1, 2, 3)",
        "class A:\n    x = L_layer_model(1, 2, 3)",
    ]
    assert demonstrations(cells, TRAIN) == []


def test_nothing_is_left_out_without_named_exercises_or_with_broken_cells():
    assert demonstrations(CELLS, ()) == []
    assert demonstrations(["two_layer_model(", "x = (" * 200 + ")" * 200], TRAIN) == []


def test_left_out_cells_become_placeholders_and_keep_their_numbers():
    found = demonstrations(CELLS, TRAIN)
    replaced = without_demonstrations(CELLS, found)
    assert len(replaced) == len(CELLS)
    assert [i for i, source in enumerate(replaced) if source == PLACEHOLDER] == [4, 5, 6, 7]
    assert replaced[2] == CELLS[2]  # the student's definition is never touched


def test_the_feedback_says_why_in_words():
    assert "calls two_layer_model" in described(Demonstration(4, ("two_layer_model",)), "cell 9")
    assert described(Demonstration(5, ()), "cell 10").startswith("cell 10: not run")
