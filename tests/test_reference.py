"""grader.reference prints every "Expected output" of the seed, and behaves like a reference.

The inputs are the notebook's own examples (the source folder's testCases module); the
expected strings are tests/data/expected_prints.txt (the seed's numbers, numpy 2 spacing).
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from support import EXERCISES, SOURCE_DIR, load_module, read_expected_prints, split_prints

from grader.assignments import dnn_step_by_step as kit
from grader.assignments.dnn_step_by_step import reference


def _outputs(name: str, t) -> list[tuple[str, object]]:
    """(label, value) in the order the notebook's test cell of `name` prints them."""
    r = reference
    if name == "initialize_parameters":
        p = r.initialize_parameters(3, 2, 1)
        return [(f"{k} = ", p[k]) for k in ("W1", "b1", "W2", "b2")]
    if name == "initialize_parameters_deep":
        p = r.initialize_parameters_deep([5, 4, 3])
        return [(f"{k} = ", p[k]) for k in ("W1", "b1", "W2", "b2")]
    if name == "linear_forward":
        return [("Z = ", r.linear_forward(*t.linear_forward_test_case())[0])]
    if name == "linear_activation_forward":
        A_prev, W, b = t.linear_activation_forward_test_case()
        return [
            ("With sigmoid: A = ", r.linear_activation_forward(A_prev, W, b, "sigmoid")[0]),
            ("With ReLU: A = ", r.linear_activation_forward(A_prev, W, b, "relu")[0]),
        ]
    if name == "L_model_forward":
        return [("AL = ", r.L_model_forward(*t.L_model_forward_test_case_2hidden())[0])]
    if name == "compute_cost":
        Y, AL = t.compute_cost_test_case()
        return [("Cost: ", r.compute_cost(AL, Y))]
    if name == "linear_backward":
        dA_prev, dW, db = r.linear_backward(*t.linear_backward_test_case())
        return [("dA_prev: ", dA_prev), ("dW: ", dW), ("db: ", db)]
    if name == "linear_activation_backward":
        dA, cache = t.linear_activation_backward_test_case()
        found = []
        for label, act in (("sigmoid", "sigmoid"), ("relu", "relu")):
            values = r.linear_activation_backward(dA, cache, act)
            found += [(f"With {label}: {k} = ", v) for k, v in zip(("dA_prev", "dW", "db"), values)]
        return found
    if name == "L_model_backward":
        grads = r.L_model_backward(*t.L_model_backward_test_case())
        return [(f"{k} = ", grads[k]) for k in ("dA0", "dA1", "dW1", "dW2", "db1", "db2")]
    if name == "update_parameters":
        params, grads = t.update_parameters_test_case()
        p = r.update_parameters(params, grads, 0.1)
        return [(f"{k} = ", p[k]) for k in ("W1", "b1", "W2", "b2")]
    raise AssertionError(name)


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_prints_the_expected_output(name, test_cases, expected_prints):
    expected = split_prints(expected_prints[name])
    got = [(label, str(value)) for label, value in _outputs(name, test_cases)]
    assert [label for label, _ in got] == [label for label, _ in expected]
    for (label, text), (_, want) in zip(got, expected):
        assert text == want, f"{name}: {label}"


def test_cost_prints_exactly(test_cases):
    Y, AL = test_cases.compute_cost_test_case()
    cost = reference.compute_cost(AL, Y)
    assert np.ndim(cost) == 0
    assert str(cost) == "0.2797765635793422"
    assert float(cost) == 0.2797765635793422


def test_kit_helper_loader_gives_the_same_cases(test_cases):
    """load_helper (used to build the public fixture) loads the same testCases."""
    loaded = kit.load_helper(SOURCE_DIR, "testCases")
    names = sorted(name for name in dir(test_cases) if "_test_case" in name)
    assert len(names) == 8 and names == sorted(name for name in dir(loaded) if "_test_case" in name)
    for name in names:  # nested tuples, lists and dicts of arrays, compared all the way down
        np.testing.assert_equal(getattr(loaded, name)(), getattr(test_cases, name)(), err_msg=name)


def _normalize(text: str) -> str:
    """Whitespace between numbers is presentation (older numpy padded differently)."""
    text = re.sub(r"\[\s+", "[", text)
    text = re.sub(r"\s+\]", "]", text)
    return re.sub(r"\s+", " ", text).strip()


# blocks copied verbatim from the seed's "Expected output" cells, older spacing included
SEED_VERBATIM = {
    ("L_model_backward", "dA0 = "): "[[ 0.          0.52257901]\n [ 0.          -0.3269206 ]\n"
    " [ 0.          -0.32070404]\n [ 0.          -0.74079187]]",
    ("L_model_backward", "dW1 = "): "[[0.41010002 0.07807203 0.13798444 0.10502167]\n"
    " [0.          0.          0.          0.          ]\n"
    " [0.05283652 0.01005865 0.01777766 0.0135308 ]]",
    ("update_parameters", "W2 = "): "[[-0.55569196  0.0354055  1.32964895]]",
    ("initialize_parameters", "W1 = "): "[[ 0.01624345 -0.00611756 -0.00528172]\n"
    "      [-0.01072969  0.00865408 -0.02301539]]",
    ("linear_activation_forward", "With ReLU: A = "): "[[3.43896131 0.]]",
}


@pytest.mark.parametrize("key", list(SEED_VERBATIM), ids=lambda k: f"{k[0]}-{k[1].strip(' =:')}")
def test_reference_matches_seed_verbatim_modulo_spacing(key, test_cases):
    name, label = key
    value = dict(_outputs(name, test_cases))[label]
    assert _normalize(str(value)) == _normalize(SEED_VERBATIM[key])
    # and the normalization does not hide a wrong digit
    assert _normalize(str(value * 1.001)) != _normalize(SEED_VERBATIM[key]) or not np.any(value)


def test_expected_file_is_what_the_notebook_cells_print():
    """The data file and the parser agree on the shape of every entry (guards the spec file)."""
    prints = read_expected_prints()
    assert len(split_prints(prints["linear_activation_backward"])) == 6
    assert split_prints(prints["compute_cost"]) == [("Cost: ", "0.2797765635793422")]


# --- initialization does not depend on the global random state ----------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: reference.initialize_parameters(3, 2, 1),
        lambda: reference.initialize_parameters(7, 5, 2),
        lambda: reference.initialize_parameters_deep([5, 4, 3]),
        lambda: reference.initialize_parameters_deep([4, 6, 3, 1]),
    ],
    ids=["2layer-example", "2layer-other", "deep-example", "deep-other"],
)
def test_initialization_ignores_global_random_state(call):
    np.random.seed(0)
    first = call()
    np.random.seed(12345)
    np.random.rand(17)  # move the stream along, too
    second = call()
    assert list(first) == list(second)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_initialization_shapes_scale_and_key_order():
    params = reference.initialize_parameters_deep([4, 6, 3, 1])
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for layer, (rows, cols) in enumerate([(6, 4), (3, 6), (1, 3)], start=1):
        assert params[f"W{layer}"].shape == (rows, cols)
        assert params[f"b{layer}"].shape == (rows, 1)
        assert not params[f"b{layer}"].any()
        assert 0 < np.abs(params[f"W{layer}"]).max() < 0.05  # randn * 0.01
    two = reference.initialize_parameters(3, 2, 1)
    assert [two[k].shape for k in ("W1", "b1", "W2", "b2")] == [(2, 3), (2, 1), (1, 2), (1, 1)]


# --- update_parameters leaves its input alone ---------------------------------------------


def test_update_parameters_does_not_modify_its_input(test_cases):
    params, grads = test_cases.update_parameters_test_case()
    params_before, grads_before = copy.deepcopy(params), copy.deepcopy(grads)
    arrays_before = {k: id(v) for k, v in params.items()}
    updated = reference.update_parameters(params, grads, 0.1)
    assert updated is not params
    assert list(params) == list(params_before)
    assert {k: id(v) for k, v in params.items()} == arrays_before
    for key in params:
        np.testing.assert_array_equal(params[key], params_before[key])
        assert not np.shares_memory(updated[key], params[key])
    for key in grads:
        np.testing.assert_array_equal(grads[key], grads_before[key])
    np.testing.assert_allclose(updated["W1"], params["W1"] - 0.1 * grads["dW1"])
    np.testing.assert_allclose(updated["b2"], params["b2"] - 0.1 * grads["db2"])


# --- activations ---------------------------------------------------------------------------


Z = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0], [40.0, -40.0, 1e-3, -1e-3, 2.0]])


def test_sigmoid_and_relu_return_value_and_cache():
    A, cache = reference.sigmoid(Z)
    assert cache is Z
    np.testing.assert_allclose(A, 1 / (1 + np.exp(-Z)))
    assert A[0, 2] == 0.5 and np.all((A > 0) & (A <= 1))
    A, cache = reference.relu(Z)
    assert cache is Z
    np.testing.assert_array_equal(A, np.where(Z > 0, Z, 0.0))


def test_activation_backward_are_the_derivatives():
    dA = np.arange(1.0, 11.0).reshape(Z.shape)
    eps = 1e-6
    numeric = (reference.sigmoid(Z + eps)[0] - reference.sigmoid(Z - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(
        reference.sigmoid_backward(dA, Z), dA * numeric, rtol=1e-5, atol=1e-9
    )
    relu_dz = reference.relu_backward(dA, Z)
    np.testing.assert_array_equal(relu_dz, np.where(Z > 0, dA, 0.0))
    assert relu_dz[0, 2] == 0.0  # the gradient at Z == 0 is 0, as in dnn_utils


def test_activations_agree_with_the_student_helpers():
    utils = load_module(SOURCE_DIR / "dnn_utils.py", "_tests_dnn_utils")
    dA = np.linspace(-2, 2, Z.size).reshape(Z.shape)
    for ours, theirs in ((reference.sigmoid, utils.sigmoid), (reference.relu, utils.relu)):
        np.testing.assert_allclose(ours(Z)[0], theirs(Z)[0])
    np.testing.assert_allclose(reference.sigmoid_backward(dA, Z), utils.sigmoid_backward(dA, Z))
    np.testing.assert_allclose(reference.relu_backward(dA, Z), utils.relu_backward(dA, Z))


@pytest.mark.parametrize(
    "call",
    [
        lambda: reference.linear_activation_forward(
            np.ones((2, 1)), np.ones((1, 2)), np.ones((1, 1)), "tanh"
        ),
        lambda: reference.linear_activation_backward(
            np.ones((1, 1)),
            ((np.ones((2, 1)), np.ones((1, 2)), np.ones((1, 1))), np.ones((1, 1))),
            "tanh",
        ),
    ],
    ids=["forward", "backward"],
)
def test_unknown_activation_is_an_error(call):
    with pytest.raises(ValueError, match="tanh"):
        call()


# --- the backward pass is the gradient of the cost ------------------------------------------


def test_backward_pass_matches_numerical_gradient():
    rng = np.random.default_rng(7)
    dims, m = [3, 4, 2, 1], 5
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1]))
        params[f"b{layer}"] = rng.standard_normal((dims[layer], 1))
    X = rng.standard_normal((dims[0], m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)

    def cost(p):
        return float(reference.compute_cost(reference.L_model_forward(X, p)[0], Y))

    AL, caches = reference.L_model_forward(X, params)
    assert len(caches) == 3 and AL.shape == (1, m)
    grads = reference.L_model_backward(AL, Y, caches)
    assert sorted(grads) == sorted(["dA0", "dA1", "dA2", "dW1", "dW2", "dW3", "db1", "db2", "db3"])
    eps = 1e-6
    for key, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = copy.deepcopy(params), copy.deepcopy(params)
            plus[key][index] += eps
            minus[key][index] -= eps
            numeric[index] = (cost(plus) - cost(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[f"d{key}"], numeric, rtol=1e-4, atol=1e-7, err_msg=key)


def test_reference_exports():
    assert tuple(reference.EXERCISES) == EXERCISES
    for name in EXERCISES + ("sigmoid", "relu", "sigmoid_backward", "relu_backward"):
        assert name in reference.__all__ and callable(getattr(reference, name))
