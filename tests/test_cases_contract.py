"""Every generated case stays inside what the notebook promises, so correct notebooks of
older course versions, which assert those promises, get full marks.

The network is a binary classifier: one output unit, AL and Y of shape (1, m). Older
templates kept scaffold assertions (``assert(AL.shape == (1,X.shape[1]))``, ...) and
imported the helpers under older names; a case outside the contract costs them points.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from support import EXERCISES, NOTEBOOK_NAME, RELEASE_DIR, SOLUTIONS_DIR

import grader
from grader.assignments.dnn_step_by_step import HIDDEN_SEEDS, PUBLIC_SEED, reference
from grader.assignments.dnn_step_by_step.cases import EXAMPLE_LABEL, generated_cases, notebook_cases
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.grading.options import Options
from grader.sandbox.server import Limits

SEEDS = (PUBLIC_SEED, *HIDDEN_SEEDS, 0, 1, 2, 3, 12345)
FAST = Options(limits=Limits(call_timeout=2.0, cells_timeout=4.0, submission_timeout=60.0))


def cases_of(name: str, seed: int) -> list:
    """The cases the grader (hidden seeds) or the public tests (PUBLIC_SEED) use."""
    return generated_cases(seed)[name]


def assert_matrix(value, shape: tuple[int, ...]) -> None:
    assert isinstance(value, np.ndarray) and value.dtype == np.float64, type(value)
    assert value.shape == shape and all(n >= 1 for n in shape), (value.shape, shape)
    assert np.all(np.isfinite(value))


def assert_labels(Y: np.ndarray, m: int) -> None:
    assert_matrix(Y, (1, m))
    assert set(np.unique(Y)) <= {0.0, 1.0}


def assert_probabilities(AL: np.ndarray, m: int) -> None:
    assert_matrix(AL, (1, m))
    assert np.all((AL > 0) & (AL < 1))


def assert_linear_cache(cache, n: int, m: int) -> int:
    """(A_prev, W, b) of a layer of ``n`` units over ``m`` examples; returns n_prev."""
    assert isinstance(cache, tuple) and len(cache) == 3
    A_prev, W, b = cache
    n_prev = A_prev.shape[0]
    assert_matrix(A_prev, (n_prev, m))
    assert_matrix(W, (n, n_prev))
    assert_matrix(b, (n, 1))
    return n_prev


def assert_network(params: dict, prefix: str = "") -> list[int]:
    """W1, b1, ..., WL, bL in order, shapes chained, one output unit; returns the sizes."""
    layers = len(params) // 2
    assert layers >= 1 and list(params) == [
        f"{prefix}{k}{i}" for i in range(1, layers + 1) for k in ("W", "b")
    ]
    dims = [params[f"{prefix}W1"].shape[1]] + [
        params[f"{prefix}W{i}"].shape[0] for i in range(1, layers + 1)
    ]
    for layer in range(1, layers + 1):
        assert_matrix(params[f"{prefix}W{layer}"], (dims[layer], dims[layer - 1]))
        assert_matrix(params[f"{prefix}b{layer}"], (dims[layer], 1))
    assert dims[-1] == 1, f"output layer of {dims[-1]} units: {dims}"
    return dims


def contract_initialize_parameters(n_x, n_h, n_y) -> None:
    assert all(type(n) is int and n >= 1 for n in (n_x, n_h, n_y))
    out = reference.initialize_parameters(n_x, n_h, n_y)  # the older template's asserts
    assert [out[k].shape for k in ("W1", "b1", "W2", "b2")] == [
        (n_h, n_x),
        (n_h, 1),
        (n_y, n_h),
        (n_y, 1),
    ]


def contract_initialize_parameters_deep(layer_dims) -> None:
    # any output size: the notebook's own example is [5, 4, 3]
    assert isinstance(layer_dims, list) and len(layer_dims) >= 2
    assert all(type(n) is int and n >= 1 for n in layer_dims)
    out = reference.initialize_parameters_deep(layer_dims)
    for layer in range(1, len(layer_dims)):
        assert out[f"W{layer}"].shape == (layer_dims[layer], layer_dims[layer - 1])
        assert out[f"b{layer}"].shape == (layer_dims[layer], 1)


def contract_linear_forward(A, W, b) -> None:
    assert_linear_cache((A, W, b), W.shape[0], A.shape[1])
    Z, _ = reference.linear_forward(A, W, b)
    assert Z.shape == (W.shape[0], A.shape[1])


def contract_linear_activation_forward(A_prev, W, b, activation) -> None:
    assert activation in ("sigmoid", "relu")
    assert_linear_cache((A_prev, W, b), W.shape[0], A_prev.shape[1])
    A, _ = reference.linear_activation_forward(A_prev, W, b, activation)
    assert A.shape == (W.shape[0], A_prev.shape[1])


def contract_L_model_forward(X, parameters) -> None:
    dims = assert_network(parameters)
    assert_matrix(X, (dims[0], X.shape[1]))
    AL, caches = reference.L_model_forward(X, parameters)
    assert AL.shape == (1, X.shape[1]) and len(caches) == len(parameters) // 2


def contract_compute_cost(AL, Y) -> None:
    m = Y.shape[1]
    assert_labels(Y, m)
    assert_probabilities(AL, m)
    assert np.shape(reference.compute_cost(AL, Y)) == ()


def contract_linear_backward(dZ, cache) -> None:
    n, m = dZ.shape
    assert_matrix(dZ, (n, m))
    assert_linear_cache(cache, n, m)
    dA_prev, dW, db = reference.linear_backward(dZ, cache)
    A_prev, W, b = cache
    assert (dA_prev.shape, dW.shape, db.shape) == (A_prev.shape, W.shape, b.shape)


def contract_linear_activation_backward(dA, cache, activation) -> None:
    assert activation in ("sigmoid", "relu")
    n, m = dA.shape
    assert_matrix(dA, (n, m))
    linear_cache, Z = cache
    assert_linear_cache(linear_cache, n, m)
    assert_matrix(Z, (n, m))


def contract_L_model_backward(AL, Y, caches) -> None:
    m = AL.shape[1]
    assert_probabilities(AL, m)
    assert_labels(Y, m)
    assert isinstance(caches, list) and caches
    sizes = [caches[0][0][0].shape[0]]  # each layer's input is the previous layer's output
    for layer, (linear_cache, Z) in enumerate(caches, start=1):
        n = 1 if layer == len(caches) else linear_cache[1].shape[0]  # one output unit
        assert assert_linear_cache(linear_cache, n, m) == sizes[-1]
        assert_matrix(Z, (n, m))
        sizes.append(n)
    assert np.allclose(AL, 1 / (1 + np.exp(-caches[-1][1])))  # AL is the network's output
    grads = reference.L_model_backward(AL, Y, caches)
    assert grads[f"dA{len(caches) - 1}"].shape == caches[-1][0][0].shape


def contract_update_parameters(params, grads, learning_rate) -> None:
    dims = assert_network(params)
    assert assert_network(grads, prefix="d") == dims
    assert isinstance(learning_rate, float) and 0 < learning_rate < 1


CONTRACTS = {name: globals()[f"contract_{name}"] for name in EXERCISES}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", EXERCISES)
def test_generated_cases_keep_the_notebooks_contract(name, seed):
    cases = cases_of(name, seed)
    assert len(cases) >= 2
    for case in cases:
        CONTRACTS[name](*case.args)


@pytest.mark.parametrize("name", ["L_model_forward", "L_model_backward"])
def test_network_cases_include_a_single_layer_many_layers_and_one_example(name):
    """The edge cases the text allows still run: they catch real bugs (off-by-one loops,
    a missing 1/m)."""
    for seed in SEEDS:
        cases = cases_of(name, seed)
        caches = [
            c.args[2] if name == "L_model_backward" else reference.L_model_forward(*c.args)[1]
            for c in cases
        ]
        assert min(map(len, caches)) == 1 and max(map(len, caches)) >= 4
        assert min(c[0][0][0].shape[1] for c in caches) == 1


COUNTED = re.compile(r"\b(\d+) (example|unit|input|layer|hidden unit|output unit)(s?)\b")


@pytest.mark.parametrize("seed", SEEDS)
def test_case_labels_are_plain_english(seed, test_cases):
    labels = [c.label for name in EXERCISES for c in cases_of(name, seed)]
    for label in labels:
        assert "(s)" not in label and not label.startswith(EXAMPLE_LABEL), label
        counts = COUNTED.findall(label)
        assert counts, label
        for number, noun, plural in counts:
            assert (number == "1") == (plural == ""), f"{label!r}: {number} {noun}{plural}"
    singular = [n for label in labels for n, _, _ in COUNTED.findall(label) if n == "1"]
    assert singular  # both forms occur
    examples = notebook_cases(test_cases)
    assert set(examples) == set(EXERCISES)
    for name, cases in examples.items():
        assert cases and all(c.label.startswith(EXAMPLE_LABEL) for c in cases), name


# scaffold assertions of older course versions, put before each graded function's return
OLD_ASSERTS = {
    "initialize_parameters": [
        "assert(W1.shape == (n_h, n_x))",
        "assert(b1.shape == (n_h, 1))",
        "assert(W2.shape == (n_y, n_h))",
        "assert(b2.shape == (n_y, 1))",
    ],
    "initialize_parameters_deep": [
        "for l in range(1, len(layer_dims)):",
        "    assert(parameters['W' + str(l)].shape == (layer_dims[l], layer_dims[l-1]))",
        "    assert(parameters['b' + str(l)].shape == (layer_dims[l], 1))",
    ],
    "linear_forward": ["assert(Z.shape == (W.shape[0], A.shape[1]))"],
    "linear_activation_forward": ["assert (A.shape == (W.shape[0], A_prev.shape[1]))"],
    "L_model_forward": ["assert(AL.shape == (1,X.shape[1]))"],
    "compute_cost": ["assert(cost.shape == ())"],
    "linear_backward": [
        "assert (dA_prev.shape == A_prev.shape)",
        "assert (dW.shape == W.shape)",
        "assert (db.shape == b.shape)",
    ],
}
# lines of older code the solved notebook already has, as older templates did
OLD_LINES = {
    "L_model_backward": ["L = len(caches)", "Y = Y.reshape(AL.shape)"],
    "update_parameters": ["L = len(parameters) // 2"],
}
OLD_IMPORTS = (
    ("from testCases import *", "from testCases_v4a import *"),
    ("from dnn_utils import", "from dnn_utils_v2 import"),
)


def with_asserts_before_return(source: str, lines: list[str]) -> str:
    """``source`` with ``lines`` inserted before its last ``return``, at its indentation."""
    body = source.split("\n")
    last = max(i for i, line in enumerate(body) if re.match(r"\s+return\b", line))
    indent = re.match(r"\s*", body[last]).group(0)
    return "\n".join(body[:last] + [indent + line for line in lines] + body[last:])


def older_template(solved: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The solved notebook as an older course version had it: scaffold assertions in every
    graded function and the helpers imported under their older names."""
    for cell in solved.cells:
        exercise = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if cell.cell_type != "code":
            continue
        if exercise in OLD_ASSERTS:
            cell.source = with_asserts_before_return(cell.source, OLD_ASSERTS[exercise])
        for new, old in OLD_IMPORTS:
            cell.source = cell.source.replace(new, old)
    return solved


def test_a_notebook_of_the_older_template_gets_full_marks(tmp_path):
    notebook = older_template(read_notebook(SOLUTIONS_DIR / NOTEBOOK_NAME))
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "assert(AL.shape == (1,X.shape[1]))" in text and "from testCases_v4a import *" in text
    assert "from dnn_utils_v2 import sigmoid" in text
    assert all(line in text for lines in OLD_LINES.values() for line in lines)
    path = tmp_path / "older_template.ipynb"
    path.write_bytes(notebook_bytes(notebook))
    result = grader.grade([path], release_dir=RELEASE_DIR, options=FAST).submissions[0]
    assert result.cell_errors == ()
    assert {e.name: e.status for e in result.exercises} == dict.fromkeys(EXERCISES, "passed")
    assert all(e.score == e.max_score > 0 for e in result.exercises)
    assert result.score == result.max_score == 100
    assert len(result.substitutions) == 2 and all(
        old.split()[1] in " ".join(result.substitutions) for _, old in OLD_IMPORTS
    )
