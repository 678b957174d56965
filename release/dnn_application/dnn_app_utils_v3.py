"""Helper functions for "Deep Neural Network: Application".

The building blocks of the previous assignment (initialization, forward and backward
passes, cost, update), ready to use, plus load_data, predict and print_mislabeled_images.

This file is generated from the model solution (grader.assignments.dnn_application);
edit the generator, not this file.
"""
from pathlib import Path

import h5py
import numpy as np


# --- Activations and their gradients ------------------------------------------


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


# --- Initialization -----------------------------------------------------------


def initialize_parameters(n_x, n_h, n_y):
    """Two-layer network; seeded with 1 so every caller gets the same weights."""
    np.random.seed(1)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def initialize_parameters_deep(layer_dims):
    """L-layer network; seeded with 1; weights scaled by 1/sqrt(units of the layer before)."""
    np.random.seed(1)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        rows, cols = layer_dims[layer], layer_dims[layer - 1]
        parameters[f"W{layer}"] = np.random.randn(rows, cols) / np.sqrt(cols)
        parameters[f"b{layer}"] = np.zeros((rows, 1))
    return parameters


# --- Forward pass -------------------------------------------------------------


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


# --- Cost ---------------------------------------------------------------------


def compute_cost(AL, Y):
    """Mean cross-entropy, squeezed to a 0-d value."""
    m = Y.shape[1]
    log_likelihood = np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    # (-1/m) * sum, in this order: it rounds to the notebook's printed 0.2797765635793422
    return np.squeeze((-1 / m) * log_likelihood)


# --- Backward pass ------------------------------------------------------------


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


# --- Update -------------------------------------------------------------------


def update_parameters(params, grads, learning_rate):
    """One gradient-descent step; returns a new dict and leaves `params` untouched."""
    updated = dict(params)
    for layer in range(1, len(params) // 2 + 1):
        updated[f"W{layer}"] = params[f"W{layer}"] - learning_rate * grads[f"dW{layer}"]
        updated[f"b{layer}"] = params[f"b{layer}"] - learning_rate * grads[f"db{layer}"]
    return updated


# --- Data and evaluation ------------------------------------------------------


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
    probabilities, _caches = L_model_forward(X, parameters)
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
