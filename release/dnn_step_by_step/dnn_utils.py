"""Activation functions for the deep-network assignment (given to you, not graded).

Each forward function returns the activation and a cache holding Z; each backward
function takes the upstream gradient dA and that cache and returns dZ.
"""
import numpy as np


def sigmoid(Z):
    """Element-wise logistic function. Returns (A, cache) where cache is Z."""
    A = 1 / (1 + np.exp(-Z))
    cache = Z
    return A, cache


def relu(Z):
    """Element-wise max(0, Z). Returns (A, cache) where cache is Z."""
    A = np.maximum(0, Z)
    assert A.shape == Z.shape
    cache = Z
    return A, cache


def sigmoid_backward(dA, cache):
    """Gradient through a sigmoid unit: dZ = dA * s * (1 - s), s = sigmoid(Z)."""
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    dZ = dA * s * (1 - s)
    assert dZ.shape == Z.shape
    return dZ


def relu_backward(dA, cache):
    """Gradient through a ReLU unit: dA where Z > 0, zero elsewhere."""
    Z = cache
    dZ = np.array(dA, dtype=float, copy=True)
    dZ[Z <= 0] = 0
    assert dZ.shape == Z.shape
    return dZ
