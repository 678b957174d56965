"""Reference solution of "Building your Deep Neural Network: Step by Step".

This module is the single source of truth for expected values: the public-test
fixtures and the hidden checks are computed from it. It never ships to students.
"""

from __future__ import annotations

import numpy as np

# --- activations (given to students in dnn_utils; the cache is Z itself) -------------


def sigmoid(Z):
    """Logistic function; returns (A, Z) so the backward pass can reuse Z."""
    return 1.0 / (1.0 + np.exp(-Z)), Z


def relu(Z):
    """Rectified linear unit; returns (A, Z)."""
    return np.maximum(Z, 0), Z


def sigmoid_backward(dA, cache):
    """dZ = dA * s * (1 - s) with s = sigmoid(Z)."""
    s = 1.0 / (1.0 + np.exp(-cache))
    return dA * s * (1.0 - s)


def relu_backward(dA, cache):
    """The gradient passes where Z > 0 and is cut to zero elsewhere."""
    return np.where(cache > 0, dA, 0.0)


# --- exercise 1-2: initialization ------------------------------------------------------


def initialize_parameters(n_x, n_h, n_y):
    """Two-layer network; seeded with 1 so every caller gets the same weights."""
    np.random.seed(1)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def initialize_parameters_deep(layer_dims):
    """L-layer network; seeded with 3; W then b for each layer in order."""
    np.random.seed(3)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        rows, cols = layer_dims[layer], layer_dims[layer - 1]
        parameters[f"W{layer}"] = np.random.randn(rows, cols) * 0.01
        parameters[f"b{layer}"] = np.zeros((rows, 1))
    return parameters


# --- exercise 3-5: forward pass ----------------------------------------------------------


def linear_forward(A, W, b):
    """Z = W A + b; the cache (A, W, b) feeds linear_backward."""
    return W @ A + b, (A, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    """One layer; the cache is (linear_cache, activation_cache)."""
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z)
    elif activation == "relu":
        A, activation_cache = relu(Z)
    else:
        raise ValueError(f"unknown activation {activation!r}")
    return A, (linear_cache, activation_cache)


def L_model_forward(X, parameters):
    """[LINEAR->RELU] x (L-1) then LINEAR->SIGMOID; one cache per layer, in order."""
    n_layers = len(parameters) // 2
    caches = []
    A = X
    for layer in range(1, n_layers):
        A, cache = linear_activation_forward(
            A, parameters[f"W{layer}"], parameters[f"b{layer}"], "relu"
        )
        caches.append(cache)
    AL, cache = linear_activation_forward(
        A, parameters[f"W{n_layers}"], parameters[f"b{n_layers}"], "sigmoid"
    )
    caches.append(cache)
    return AL, caches


# --- exercise 6: cost ----------------------------------------------------------------------


def compute_cost(AL, Y):
    """Mean cross-entropy, squeezed to a 0-d value."""
    m = Y.shape[1]
    log_likelihood = np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    # (-1/m) * sum, in this order: it rounds to the notebook's printed 0.2797765635793422
    return np.squeeze((-1 / m) * log_likelihood)


# --- exercise 7-9: backward pass -----------------------------------------------------------


def linear_backward(dZ, cache):
    """Gradients of the linear step, averaged over the m examples."""
    A_prev, W, _b = cache
    m = A_prev.shape[1]
    dW = (dZ @ A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    """One layer backward: through the activation, then the linear step."""
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    elif activation == "sigmoid":
        dZ = sigmoid_backward(dA, activation_cache)
    else:
        raise ValueError(f"unknown activation {activation!r}")
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches):
    """Keys dA{l-1}, dW{l}, db{l} for every layer l, from the sigmoid layer down."""
    grads = {}
    n_layers = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(Y / AL - (1 - Y) / (1 - AL))
    grads[f"dA{n_layers - 1}"], grads[f"dW{n_layers}"], grads[f"db{n_layers}"] = (
        linear_activation_backward(dAL, caches[n_layers - 1], "sigmoid")
    )
    for layer in range(n_layers - 1, 0, -1):
        grads[f"dA{layer - 1}"], grads[f"dW{layer}"], grads[f"db{layer}"] = (
            linear_activation_backward(grads[f"dA{layer}"], caches[layer - 1], "relu")
        )
    return grads


# --- exercise 10: update ------------------------------------------------------------------


def update_parameters(params, grads, learning_rate):
    """One gradient-descent step; returns a new dict and leaves `params` untouched."""
    updated = dict(params)
    for layer in range(1, len(params) // 2 + 1):
        updated[f"W{layer}"] = params[f"W{layer}"] - learning_rate * grads[f"dW{layer}"]
        updated[f"b{layer}"] = params[f"b{layer}"] - learning_rate * grads[f"db{layer}"]
    return updated


__all__ = [
    "sigmoid",
    "relu",
    "sigmoid_backward",
    "relu_backward",
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
]

EXERCISES = (
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
)
