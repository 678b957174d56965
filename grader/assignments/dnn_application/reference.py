"""Reference solution of "Deep Neural Network: Application".

Two training loops built from the first assignment's functions, which students get in
the helper module ``dnn_app_utils_v3`` (see :mod:`.helper`): the same functions are
imported here from where they are defined, so the reference and the students' helper
cannot disagree. Expected values of the public tests and hidden checks come from here;
this module never ships to students.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.dnn_step_by_step.reference import (
    L_model_backward,
    L_model_forward,
    compute_cost,
    initialize_parameters,
    linear_activation_backward,
    linear_activation_forward,
    update_parameters,
)

from .helper import initialize_parameters_deep

EXERCISES = ("two_layer_model", "L_layer_model")
COST_EVERY = 100  # costs are recorded (and printed) every COST_EVERY iterations


def _report(i, cost, num_iterations, print_cost, costs):
    """The course's bookkeeping: keep the cost of every 100th iteration (0, 100, ...);
    with print_cost, print it then and at the last iteration (rounded, so the printed
    text is the same on every machine)."""
    if print_cost and (i % COST_EVERY == 0 or i == num_iterations - 1):
        print(f"Cost after iteration {i}: {float(cost):.6f}")
    if i % COST_EVERY == 0:
        costs.append(cost)


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """LINEAR -> RELU -> LINEAR -> SIGMOID, trained by gradient descent.

    Returns (parameters, costs): the trained W1, b1, W2, b2 and the cost of every 100th
    iteration, starting with iteration 0.
    """
    np.random.seed(1)
    grads = {}
    costs = []
    n_x, n_h, n_y = layers_dims
    parameters = initialize_parameters(n_x, n_h, n_y)
    W1, b1, W2, b2 = (parameters[key] for key in ("W1", "b1", "W2", "b2"))
    for i in range(num_iterations):
        A1, cache1 = linear_activation_forward(X, W1, b1, "relu")
        A2, cache2 = linear_activation_forward(A1, W2, b2, "sigmoid")
        cost = compute_cost(A2, Y)
        dA2 = -(np.divide(Y, A2) - np.divide(1 - Y, 1 - A2))
        dA1, dW2, db2 = linear_activation_backward(dA2, cache2, "sigmoid")
        _dA0, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")
        grads["dW1"], grads["db1"], grads["dW2"], grads["db2"] = dW1, db1, dW2, db2
        parameters = update_parameters(parameters, grads, learning_rate)
        W1, b1, W2, b2 = (parameters[key] for key in ("W1", "b1", "W2", "b2"))
        _report(i, cost, num_iterations, print_cost, costs)
    return parameters, costs


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID, trained by gradient descent.

    Returns (parameters, costs) as two_layer_model does, for every layer in layers_dims.
    """
    np.random.seed(1)
    costs = []
    parameters = initialize_parameters_deep(layers_dims)
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
        _report(i, cost, num_iterations, print_cost, costs)
    return parameters, costs
