"""What a submission may ask of the reference's dependencies, checked before they run.

With isolation on, a student's function calls graded dependencies (``linear_forward``
from ``linear_activation_forward``, ...) and the grader answers with the reference, in
its own process. Arrays that broadcast would make ``W @ A + b`` allocate gigabytes
there, so the arguments must have the shapes the notebook promises: 2-D arrays of real
numbers whose dimensions fit together. From those shapes the size of the answer is
known before anything is computed, so the grader can refuse one that is too large.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

ACTIVATIONS = ("sigmoid", "relu")


def callback_contract(name: str, args: tuple, kwargs: dict) -> int:
    """How many values the reference computes for ``name(*args, **kwargs)``; ValueError,
    in a student's words, when the arguments break the exercise's contract."""
    check = _CONTRACTS.get(name)
    if check is None:
        raise ValueError(f"{name} is not answered by the grader")
    signature = _SIGNATURES[name]
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:  # too many or too few arguments, unknown names...
        raise ValueError(
            f"{name} takes the arguments ({', '.join(signature.parameters)})"
        ) from None
    return check(*bound.args, **bound.kwargs)


def _what(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _matrix(
    value: Any, label: str, rows: int | None = None, columns: int | None = None, why: str = ""
) -> tuple[int, int]:
    """(rows, columns) of a 2-D array of real numbers with the given dimensions."""
    if type(value) is not np.ndarray or value.ndim != 2 or value.dtype.kind not in "iuf":
        raise ValueError(f"`{label}` should be a 2-D numpy array of numbers, not {_what(value)}")
    want = (rows if rows is not None else "any", columns if columns is not None else "any")
    if (
        rows is not None
        and value.shape[0] != rows
        or columns is not None
        and value.shape[1] != columns
    ):
        raise ValueError(
            f"`{label}` should have shape ({want[0]}, {want[1]}){why}, not {value.shape}"
        )
    return value.shape


def _activation(value: Any) -> None:
    if type(value) is not str or value not in ACTIVATIONS:
        shown = repr(value)[:40] if type(value) is str else _what(value)
        raise ValueError(f"`activation` should be 'sigmoid' or 'relu', not {shown}")


def _sequence(value: Any, label: str, length: int) -> tuple:
    if type(value) not in (tuple, list) or len(value) != length:
        raise ValueError(
            f"`{label}` should be a tuple of {length} items, not {_what(value)}"
            + (f" of length {len(value)}" if type(value) in (tuple, list) else "")
        )
    return tuple(value)


def _linear(A: Any, W: Any, b: Any, labels: tuple[str, str, str]) -> tuple[int, int, int]:
    """(n, n_prev, m) of a linear step's A (n_prev, m), W (n, n_prev), b (n, 1)."""
    n_prev, m = _matrix(A, labels[0])
    n, _ = _matrix(W, labels[1], None, n_prev, f" to multiply an A of shape {(n_prev, m)}")
    _matrix(b, labels[2], n, 1, f" for a W of shape {(n, n_prev)}")
    return n, n_prev, m


def _linear_forward(A, W, b) -> int:
    n, _n_prev, m = _linear(A, W, b, ("A", "W", "b"))
    return n * m  # Z


def _linear_activation_forward(A_prev, W, b, activation) -> int:
    _activation(activation)
    n, _n_prev, m = _linear(A_prev, W, b, ("A_prev", "W", "b"))
    return 2 * n * m  # Z and A


def _gradients(dZ: Any, cache: Any, label: str, prefix: str) -> int:
    n, m = _matrix(dZ, label)
    A_prev, W, b = _sequence(cache, prefix, 3)
    labels = (f"{prefix}[0]", f"{prefix}[1]", f"{prefix}[2]")
    n_cache, n_prev, m_cache = _linear(A_prev, W, b, labels)
    if (n_cache, m_cache) != (n, m):
        raise ValueError(
            f"`{label}` of shape {(n, m)} does not fit the cache: "
            f"W gives {n_cache} units, A_prev {m_cache} examples"
        )
    return n_prev * m + n * n_prev + n  # dA_prev, dW, db


def _linear_backward(dZ, cache) -> int:
    return _gradients(dZ, cache, "dZ", "cache")


def _linear_activation_backward(dA, cache, activation) -> int:
    _activation(activation)
    linear_cache, Z = _sequence(cache, "cache", 2)
    n, m = _matrix(dA, "dA")
    _matrix(Z, "cache[1]", n, m, " as dA")
    return n * m + _gradients(dA, linear_cache, "dA", "cache[0]")  # dZ, then the gradients


_CONTRACTS: dict[str, Callable[..., int]] = {
    "linear_forward": _linear_forward,
    "linear_activation_forward": _linear_activation_forward,
    "linear_backward": _linear_backward,
    "linear_activation_backward": _linear_activation_backward,
}
_SIGNATURES = {name: inspect.signature(check) for name, check in _CONTRACTS.items()}
