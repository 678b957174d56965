"""The release's public tests accept the reference and reject each plain mistake.

public_tests.py is loaded by path from the committed release/dnn_step_by_step/ (it reads
public_tests_data.h5 next to itself); the mistaken functions below are what students
actually write, each a small function built on the release's own dnn_utils helpers.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from support import EXERCISES, PASS_LINE, RELEASE_DIR, STUB_MESSAGE, load_module

from grader.assignments.dnn_step_by_step import reference as ref

public_tests = load_module(RELEASE_DIR / "public_tests.py", "_release_public_tests")
utils = load_module(RELEASE_DIR / "dnn_utils.py", "_release_dnn_utils")
sigmoid, relu = utils.sigmoid, utils.relu
sigmoid_backward, relu_backward = utils.sigmoid_backward, utils.relu_backward

HARD_CODED_HINT = "no global variables, no hard-coded sizes or values"


def run_test(capsys, exercise, function):
    """Run `<exercise>_test(function)`; return (raised AssertionError or None, printed text)."""
    test = getattr(public_tests, f"{exercise}_test")
    try:
        test(function)
    except AssertionError as exc:
        return exc, capsys.readouterr().out
    return None, capsys.readouterr().out


# --- mistaken initializers ------------------------------------------------------------------


def init_wrong_seed(n_x, n_h, n_y):
    np.random.seed(2)
    return {
        "W1": np.random.randn(n_h, n_x) * 0.01,
        "b1": np.zeros((n_h, 1)),
        "W2": np.random.randn(n_y, n_h) * 0.01,
        "b2": np.zeros((n_y, 1)),
    }


def init_no_seed(n_x, n_h, n_y):
    return {
        "W1": np.random.randn(n_h, n_x) * 0.01,
        "b1": np.zeros((n_h, 1)),
        "W2": np.random.randn(n_y, n_h) * 0.01,
        "b2": np.zeros((n_y, 1)),
    }


def init_missing_scale(n_x, n_h, n_y):
    np.random.seed(1)
    return {
        "W1": np.random.randn(n_h, n_x),
        "b1": np.zeros((n_h, 1)),
        "W2": np.random.randn(n_y, n_h),
        "b2": np.zeros((n_y, 1)),
    }


def init_hard_coded_sizes(n_x, n_h, n_y):
    return ref.initialize_parameters(3, 2, 1)  # the notebook's example, whatever the arguments


def init_bias_as_vector(n_x, n_h, n_y):
    np.random.seed(1)
    return {
        "W1": np.random.randn(n_h, n_x) * 0.01,
        "b1": np.zeros(n_h),
        "W2": np.random.randn(n_y, n_h) * 0.01,
        "b2": np.zeros(n_y),
    }


def deep_wrong_seed(layer_dims):
    np.random.seed(1)
    return {
        key: value
        for layer in range(1, len(layer_dims))
        for key, value in (
            (f"W{layer}", np.random.randn(layer_dims[layer], layer_dims[layer - 1]) * 0.01),
            (f"b{layer}", np.zeros((layer_dims[layer], 1))),
        )
    }


def deep_missing_scale(layer_dims):
    np.random.seed(3)
    return {
        key: value
        for layer in range(1, len(layer_dims))
        for key, value in (
            (f"W{layer}", np.random.randn(layer_dims[layer], layer_dims[layer - 1])),
            (f"b{layer}", np.zeros((layer_dims[layer], 1))),
        )
    }


def deep_transposed_weights(layer_dims):
    np.random.seed(3)
    return {
        key: value
        for layer in range(1, len(layer_dims))
        for key, value in (
            (f"W{layer}", np.random.randn(layer_dims[layer - 1], layer_dims[layer]) * 0.01),
            (f"b{layer}", np.zeros((layer_dims[layer], 1))),
        )
    }


# --- mistaken forward pass ------------------------------------------------------------------


def linear_forward_no_bias(A, W, b):
    return np.dot(W, A), (A, W, b)


def linear_forward_hard_coded(A, W, b):
    return np.array([[3.26295337, -1.23429987]]), (A, W, b)


def linear_forward_flat_list(A, W, b):
    return [np.dot(W, A) + b, A, W, b]  # cache not grouped: 4 values instead of (Z, cache)


def linear_forward_as_list(A, W, b):
    return [np.dot(W, A) + b, [A, W, b]]  # lists where the notebook uses tuples: unpacks the same


def laf_swapped(A_prev, W, b, activation):
    Z, linear_cache = ref.linear_forward(A_prev, W, b)
    A, activation_cache = relu(Z) if activation == "sigmoid" else sigmoid(Z)
    return A, (linear_cache, activation_cache)


def laf_flat_cache(A_prev, W, b, activation):
    Z, linear_cache = ref.linear_forward(A_prev, W, b)
    A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
    return A, linear_cache + (activation_cache,)


def laf_no_bias(A_prev, W, b, activation):
    Z, linear_cache = linear_forward_no_bias(A_prev, W, b)
    A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
    return A, (linear_cache, activation_cache)


def _model_forward(X, parameters, hidden, output, linear_activation=None):
    linear_activation = linear_activation or ref.linear_activation_forward
    L = len(parameters) // 2
    caches, A = [], X
    for layer in range(1, L):
        A, cache = linear_activation(A, parameters[f"W{layer}"], parameters[f"b{layer}"], hidden)
        caches.append(cache)
    AL, cache = linear_activation(A, parameters[f"W{L}"], parameters[f"b{L}"], output)
    caches.append(cache)
    return AL, caches


def lmf_on_no_bias(X, parameters):
    return _model_forward(X, parameters, "relu", "sigmoid", laf_no_bias)


def lmf_sigmoid_hidden(X, parameters):
    return _model_forward(X, parameters, "sigmoid", "sigmoid")


def lmf_missing_last_cache(X, parameters):
    AL, caches = _model_forward(X, parameters, "relu", "sigmoid")
    return AL, caches[:-1]


def lmf_two_layers_only(X, parameters):
    A1, c1 = ref.linear_activation_forward(X, parameters["W1"], parameters["b1"], "relu")
    AL, c2 = ref.linear_activation_forward(A1, parameters["W2"], parameters["b2"], "sigmoid")
    return AL, [c1, c2]  # hard-coded depth (the notebook's example has 3 layers: fails everywhere)


def lmf_global_params(X, parameters):
    return ref.L_model_forward(t_X, t_parameters)  # the notebook's globals instead of the arguments


# --- mistaken cost --------------------------------------------------------------------------


def cost_missing_one_over_m(AL, Y):
    return np.squeeze(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))


def cost_sign_error(AL, Y):
    m = Y.shape[1]
    return np.squeeze(1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))


def cost_not_squeezed(AL, Y):
    m = Y.shape[1]
    return -1 / m * (np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T))


def cost_hard_coded(AL, Y):
    return 0.2797765635793422


def cost_seed_style(AL, Y):  # correct: the seed's own variant, with dot products
    m = Y.shape[1]
    logprods = np.dot(Y, np.log(AL).T) + np.dot((1 - Y), np.log(1 - AL).T)
    return np.squeeze(-1 / m * np.sum(logprods))


# --- mistaken backward pass -----------------------------------------------------------------


def lb_missing_one_over_m(dZ, cache):
    A_prev, W, b = cache
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T), np.sum(dZ, axis=1, keepdims=True)


def lb_db_without_keepdims(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T) / m, np.sum(dZ, axis=1) / m


def lb_db_wrong_axis(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T) / m, np.sum(dZ, axis=0, keepdims=True) / m


def lb_outputs_in_wrong_order(dZ, cache):
    dA_prev, dW, db = ref.linear_backward(dZ, cache)
    return dW, db, dA_prev


def lab_swapped(dA, cache, activation):
    linear_cache, activation_cache = cache
    backward = relu_backward if activation == "sigmoid" else sigmoid_backward
    return ref.linear_backward(backward(dA, activation_cache), linear_cache)


def lab_skips_activation(dA, cache, activation):
    linear_cache, _ = cache
    return ref.linear_backward(dA, linear_cache)


def _model_backward(AL, Y, caches, dAL_sign=1.0, hidden="relu"):
    grads, L = {}, len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -dAL_sign * (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    grads[f"dA{L - 1}"], grads[f"dW{L}"], grads[f"db{L}"] = ref.linear_activation_backward(
        dAL, caches[L - 1], "sigmoid"
    )
    for layer in reversed(range(L - 1)):
        grads[f"dA{layer}"], grads[f"dW{layer + 1}"], grads[f"db{layer + 1}"] = (
            ref.linear_activation_backward(grads[f"dA{layer + 1}"], caches[layer], hidden)
        )
    return grads


def lmb_dAL_sign_error(AL, Y, caches):
    return _model_backward(AL, Y, caches, dAL_sign=-1.0)


def lmb_sigmoid_hidden(AL, Y, caches):
    return _model_backward(AL, Y, caches, hidden="sigmoid")


def lmb_last_layer_only(AL, Y, caches):
    full = _model_backward(AL, Y, caches)
    L = len(caches)
    return {k: full[k] for k in (f"dA{L - 1}", f"dW{L}", f"db{L}")}


# --- mistaken update ------------------------------------------------------------------------


def update_adds_gradient(params, grads, learning_rate):
    parameters = params.copy()
    for layer in range(1, len(params) // 2 + 1):
        parameters[f"W{layer}"] = params[f"W{layer}"] + learning_rate * grads[f"dW{layer}"]
        parameters[f"b{layer}"] = params[f"b{layer}"] + learning_rate * grads[f"db{layer}"]
    return parameters


def update_only_W(params, grads, learning_rate):
    parameters = params.copy()
    for layer in range(1, len(params) // 2 + 1):
        parameters[f"W{layer}"] = params[f"W{layer}"] - learning_rate * grads[f"dW{layer}"]
    return parameters


def update_in_place_dict(params, grads, learning_rate):
    for layer in range(1, len(params) // 2 + 1):
        params[f"W{layer}"] = params[f"W{layer}"] - learning_rate * grads[f"dW{layer}"]
        params[f"b{layer}"] = params[f"b{layer}"] - learning_rate * grads[f"db{layer}"]
    return params


def update_in_place_arrays(params, grads, learning_rate):
    parameters = params.copy()  # a shallow copy: `-=` still writes into the caller's arrays
    for layer in range(1, len(params) // 2 + 1):
        parameters[f"W{layer}"] -= learning_rate * grads[f"dW{layer}"]
        parameters[f"b{layer}"] -= learning_rate * grads[f"db{layer}"]
    return parameters


def update_first_layer_only(params, grads, learning_rate):
    parameters = params.copy()
    parameters["W1"] = params["W1"] - learning_rate * grads["dW1"]
    parameters["b1"] = params["b1"] - learning_rate * grads["db1"]
    return parameters  # the notebook's example has 2 layers: fails there already


def update_hard_coded_rate(params, grads, learning_rate):
    return ref.update_parameters(params, grads, 0.1)  # the notebook's rate, not the argument


def update_returns_list(params, grads, learning_rate):
    return list(ref.update_parameters(params, grads, learning_rate).values())


def update_seed_style(params, grads, learning_rate):  # correct: the seed's own variant
    parameters = params.copy()
    for layer in range(len(parameters) // 2):
        parameters["W" + str(layer + 1)] = (
            parameters["W" + str(layer + 1)] - learning_rate * grads["dW" + str(layer + 1)]
        )
        parameters["b" + str(layer + 1)] = (
            parameters["b" + str(layer + 1)] - learning_rate * grads["db" + str(layer + 1)]
        )
    return parameters


def stub(*args, **kwargs):
    raise NotImplementedError(STUB_MESSAGE)


# the notebook's test cell leaves these globals behind; lmf_global_params uses them
t_X, t_parameters = load_module(
    RELEASE_DIR / "testCases.py", "_release_testCases"
).L_model_forward_test_case_2hidden()


# --- the reference passes -----------------------------------------------------------------


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes(exercise, capsys):
    error, out = run_test(capsys, exercise, getattr(ref, exercise))
    assert error is None, out
    assert out == PASS_LINE + "\n"


@pytest.mark.parametrize(
    "exercise, function",
    [
        ("compute_cost", cost_seed_style),
        ("update_parameters", update_seed_style),
        ("linear_forward", linear_forward_as_list),
    ],
    ids=["cost-with-dot-products", "update-from-copy", "lists-instead-of-tuples"],
)
def test_equivalent_solutions_pass(exercise, function, capsys):
    error, out = run_test(capsys, exercise, function)
    assert error is None, out
    assert out == PASS_LINE + "\n"


# --- every plain mistake fails, and the message names the problem ---------------------------

MISTAKES = [
    # (exercise, mistaken function, text the printed report must contain)
    ("initialize_parameters", init_wrong_seed, "Wrong values in `parameters['W1']`"),
    ("initialize_parameters", init_no_seed, "Wrong values in `parameters['W1']`"),
    ("initialize_parameters", init_missing_scale, "Wrong values in `parameters['W2']`"),
    (
        "initialize_parameters",
        init_bias_as_vector,
        "Wrong shape for `parameters['b1']`: expected (2, 1), got (2,)",
    ),
    ("initialize_parameters_deep", deep_wrong_seed, "Wrong values in `parameters['W1']`"),
    ("initialize_parameters_deep", deep_missing_scale, "Wrong values in `parameters['W2']`"),
    ("initialize_parameters_deep", deep_transposed_weights, "Wrong shape for `parameters['W1']`"),
    ("linear_forward", linear_forward_no_bias, "Wrong values in `Z`"),
    (
        "linear_forward",
        linear_forward_flat_list,
        "linear_forward should return 2 values (Z, cache), but it returned a list of length 4.",
    ),
    ("linear_activation_forward", laf_swapped, "Wrong values in `A`"),
    ("linear_activation_forward", laf_no_bias, "Wrong values in `A`"),
    ("linear_activation_forward", laf_flat_cache, "`cache` should hold 2 item(s), but it holds 4."),
    ("L_model_forward", lmf_on_no_bias, "Wrong values in `AL`"),
    ("L_model_forward", lmf_sigmoid_hidden, "Wrong values in `AL`"),
    ("L_model_forward", lmf_missing_last_cache, "`caches` should hold 3 item(s), but it holds 2."),
    ("compute_cost", cost_missing_one_over_m, "Wrong value for `cost`"),
    (
        "compute_cost",
        cost_sign_error,
        "Wrong value for `cost`: expected 0.2797765635793422, got -0.2797765635793422",
    ),
    (
        "compute_cost",
        cost_not_squeezed,
        "`cost` should be a number, but it is a numpy array of shape (1, 1).",
    ),
    ("linear_backward", lb_missing_one_over_m, "Wrong values in `dW`"),
    ("linear_backward", lb_db_without_keepdims, "Wrong shape for `db`: expected (3, 1), got (3,)"),
    ("linear_backward", lb_db_wrong_axis, "Wrong shape for `db`"),
    ("linear_backward", lb_outputs_in_wrong_order, "Wrong shape for `dA_prev`"),
    ("linear_activation_backward", lab_swapped, "Wrong values in `dA_prev`"),
    ("linear_activation_backward", lab_skips_activation, "Wrong values in `dA_prev`"),
    ("L_model_backward", lmb_dAL_sign_error, "Wrong values in `grads['dA1']`"),
    ("L_model_backward", lmb_sigmoid_hidden, "Wrong values in `grads['dA0']`"),
    ("L_model_backward", lmb_last_layer_only, "`grads` is missing the key(s) 'dA0', 'dW1', 'db1'"),
    ("update_parameters", update_adds_gradient, "Wrong values in `parameters['W1']`"),
    ("update_parameters", update_only_W, "Wrong values in `parameters['b1']`"),
    (
        "update_parameters",
        update_in_place_dict,
        "update_parameters changed its argument `params` in place; work on a copy instead.",
    ),
    (
        "update_parameters",
        update_in_place_arrays,
        "update_parameters changed its argument `params`",
    ),
    ("update_parameters", update_first_layer_only, "Wrong values in `parameters['W2']`"),
    ("update_parameters", update_returns_list, "`parameters` should be a dict, but it is a list."),
]


@pytest.mark.parametrize(
    "exercise, function, message", MISTAKES, ids=[m[1].__name__ for m in MISTAKES]
)
def test_mistake_is_rejected_with_a_clear_message(exercise, function, message, capsys):
    error, out = run_test(capsys, exercise, function)
    assert isinstance(error, AssertionError), f"{function.__name__} passed:\n{out}"
    assert str(error).endswith(f"test(s) failed for {exercise}.")
    assert PASS_LINE not in out
    assert message in out, out
    assert out.startswith("Test 1 of ")  # the notebook's example is always case 1


@pytest.mark.parametrize(
    "exercise, function, field",
    [
        ("update_parameters", update_only_W, "`parameters['b2']`"),
        ("linear_backward", lb_missing_one_over_m, "`db`"),
        ("compute_cost", cost_missing_one_over_m, "`cost`"),
    ],
    ids=["update-only-W", "backward-missing-1/m", "cost-missing-1/m"],
)
def test_every_failing_output_is_named(exercise, function, field, capsys):
    _, out = run_test(capsys, exercise, function)
    assert field in out


def test_missing_one_over_m_passes_only_single_example_cases(capsys):
    """With m == 1 a missing 1/m is invisible; the generated multi-example cases catch it."""
    error, out = run_test(capsys, "linear_backward", lb_missing_one_over_m)
    spec = public_tests.load_exercise("linear_backward")
    single = [n for n, case in enumerate(spec["cases"], start=1) if case["args"][0].shape[1] == 1]
    assert single, "the public cases must include a one-example case"
    for number in single:
        assert f"Test {number} of" not in out
    assert f"{len(spec['cases']) - len(single)} of {len(spec['cases'])} test(s) failed" in str(
        error
    )


def test_crash_on_a_generated_case_propagates(capsys):
    """Hard-coded depth: wrong on the example, then a KeyError on the 1-layer case. The
    exception propagates (the test never reports it as a pass)."""
    with pytest.raises(KeyError, match="W2"):
        run_test(capsys, "L_model_forward", lmf_two_layers_only)


@pytest.mark.parametrize(
    "exercise, function",
    [
        ("compute_cost", cost_hard_coded),
        ("initialize_parameters", init_hard_coded_sizes),
        ("linear_forward", linear_forward_hard_coded),
        ("L_model_forward", lmf_global_params),
        ("update_parameters", update_hard_coded_rate),
    ],
    ids=["cost", "init-sizes", "linear-forward", "global-parameters", "learning-rate"],
)
def test_answer_hard_coded_for_the_example_gets_the_hint(exercise, function, capsys):
    error, out = run_test(capsys, exercise, function)
    assert isinstance(error, AssertionError), out
    assert "Test 1 of" not in out  # the example itself passes...
    assert "Test 2 of" in out  # ...the other inputs do not
    assert "gives the right answer for the notebook's example but not for other inputs" in out
    assert HARD_CODED_HINT in out


def test_hint_is_not_printed_when_the_example_fails(capsys):
    _, out = run_test(capsys, "compute_cost", cost_sign_error)
    assert "notebook's example but not" not in out


@pytest.mark.parametrize("exercise", EXERCISES)
def test_stub_error_propagates(exercise, capsys):
    state = np.random.get_state()
    with pytest.raises(NotImplementedError, match="Not done yet"):
        getattr(public_tests, f"{exercise}_test")(stub)
    assert capsys.readouterr().out == ""
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


def test_public_test_leaves_the_global_random_state_alone(capsys):
    np.random.seed(42)
    state = np.random.get_state()
    public_tests.initialize_parameters_test(ref.initialize_parameters)
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]
    assert capsys.readouterr().out == PASS_LINE + "\n"


def test_public_test_does_not_depend_on_the_callers_random_state(capsys):
    for seed in (0, 1, 99):
        np.random.seed(seed)
        error, out = run_test(capsys, "initialize_parameters_deep", ref.initialize_parameters_deep)
        assert error is None and out == PASS_LINE + "\n"


def test_public_cases_vary_what_a_half_right_solution_gets_wrong():
    """Each exercise has the notebook's example first, then generated cases."""
    for exercise in EXERCISES:
        spec = public_tests.load_exercise(exercise)
        assert spec["cases"][0]["label"].startswith("the notebook's example"), exercise
        assert len(spec["cases"]) >= 3, exercise
    deep = public_tests.load_exercise("L_model_forward")
    depths = {len(case["args"][1]) // 2 for case in deep["cases"]}
    assert len(depths) >= 3
    acts = {
        case["args"][3] for case in public_tests.load_exercise("linear_activation_forward")["cases"]
    }
    assert acts == {"sigmoid", "relu"}


def test_fixture_round_trips_types(test_cases):
    """Stored args/expected come back as the types the reference uses (tuple/list/dict/str)."""
    spec = public_tests.load_exercise("L_model_backward")
    assert spec["args"] == ["AL", "Y", "caches"] and spec["outputs"] == ["grads"]
    AL, Y, caches = spec["cases"][0]["args"]
    want_AL, want_Y, want_caches = test_cases.L_model_backward_test_case()
    np.testing.assert_array_equal(AL, want_AL)
    np.testing.assert_array_equal(Y, want_Y)
    assert isinstance(caches, tuple) and isinstance(caches[0], tuple)
    assert isinstance(spec["cases"][0]["expected"], dict)
    lin = public_tests.load_exercise("linear_activation_forward")["cases"][0]
    assert isinstance(lin["args"][3], str)
    cost = public_tests.load_exercise("compute_cost")["cases"][0]["expected"]
    assert float(cost) == 0.2797765635793422
    # the stored arguments are not modified by a test run
    before = copy.deepcopy(public_tests.load_exercise("update_parameters")["cases"][0]["args"])
    try:
        public_tests.update_parameters_test(update_in_place_dict)
    except AssertionError:
        pass
    after = public_tests.load_exercise("update_parameters")["cases"][0]["args"]
    for key in before[0]:
        np.testing.assert_array_equal(before[0][key], after[0][key])
