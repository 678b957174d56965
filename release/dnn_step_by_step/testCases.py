"""Inputs for the examples printed in the notebook.

Every function seeds numpy's generator itself, so the printed numbers are the same
on every run and match the notebook's "Expected output" cells.
"""
import numpy as np


def _draw(*shapes):
    """Standard-normal arrays of the given shapes, drawn in order."""
    return [np.random.randn(*shape) for shape in shapes]


def linear_forward_test_case():
    np.random.seed(1)
    A, W, b = _draw((3, 2), (1, 3), (1, 1))
    return A, W, b


def linear_activation_forward_test_case():
    np.random.seed(2)
    A_prev, W, b = _draw((3, 2), (1, 3), (1, 1))
    return A_prev, W, b


def L_model_forward_test_case_2hidden():
    np.random.seed(6)
    X, W1, b1, W2, b2, W3, b3 = _draw((5, 4), (4, 5), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}
    return X, parameters


def compute_cost_test_case():
    Y = np.asarray([[1, 1, 0]])
    AL = np.array([[0.8, 0.9, 0.4]])
    return Y, AL


def linear_backward_test_case():
    np.random.seed(1)
    dZ, A, W, b = _draw((3, 4), (5, 4), (3, 5), (3, 1))
    return dZ, (A, W, b)


def linear_activation_backward_test_case():
    np.random.seed(2)
    dA, A, W, b, Z = _draw((1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    return dA, ((A, W, b), Z)


def L_model_backward_test_case():
    np.random.seed(3)
    AL = np.random.randn(1, 2)
    Y = np.array([[1, 0]])
    A1, W1, b1, Z1 = _draw((4, 2), (3, 4), (3, 1), (3, 2))
    A2, W2, b2, Z2 = _draw((3, 2), (1, 3), (1, 1), (1, 2))
    caches = (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))
    return AL, Y, caches


def update_parameters_test_case():
    np.random.seed(2)
    W1, b1, W2, b2 = _draw((3, 4), (3, 1), (1, 3), (1, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    np.random.seed(3)
    dW1, db1, dW2, db2 = _draw((3, 4), (3, 1), (1, 3), (1, 1))
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return parameters, grads
