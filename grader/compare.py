"""Compare a decoded student value with the reference value, in the grader's process.

Both sides are plain data built by the grader itself (the student's value comes
from :mod:`grader.wire`), so no method of a student object is ever called. The
messages follow the public tests' style: which output, expected versus got.
"""
from __future__ import annotations

from typing import Any

import numpy as np

RTOL, ATOL = 1e-6, 1e-9
SHOW_VALUES_UP_TO = 24  # arrays with more elements are summarised, not printed


def describe(value: Any) -> str:
    """A short phrase for a value's type, as a student would say it."""
    type_name = getattr(value, "type_name", None)
    if type_name is not None and type(value).__name__ == "Unsupported":
        return f"a {type_name}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    if isinstance(value, np.generic):
        return f"a numpy {type(value).__name__}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def _is_number(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.shape == () and value.dtype.kind in "iuf"
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (int, float, np.integer, np.floating))


def _show(array: np.ndarray) -> str:
    return np.array2string(array, precision=8, separator=" ").replace("\n", " ")


def _values_message(name: str, expected: np.ndarray, got: np.ndarray) -> str:
    if expected.size <= SHOW_VALUES_UP_TO:
        return f"Wrong values in `{name}`: expected {_show(expected)}, got {_show(got)}."
    with np.errstate(invalid="ignore"):
        difference = np.abs(got.astype(float) - expected)
    where = np.unravel_index(int(np.nanargmax(np.where(np.isnan(difference), np.inf,
                                                        difference))), expected.shape)
    return (f"Wrong values in `{name}`: at index {tuple(int(i) for i in where)} expected "
            f"{expected[where]:.8g}, got {got[where]:.8g}.")


def _keys(keys: list, limit: int = 10) -> str:
    """A readable list of dict keys; a student's dict may have millions."""
    shown = ", ".join(repr(key)[:40] for key in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _compare_array(name: str, expected: np.ndarray, got: Any) -> list[str]:
    if not isinstance(got, np.ndarray):
        return [f"`{name}` should be a numpy array, but it is {describe(got)}."]
    if got.shape != expected.shape:
        return [f"Wrong shape for `{name}`: expected {expected.shape}, got {got.shape}."]
    if got.dtype.kind not in "biuf":
        return [f"`{name}` should hold real numbers, but its dtype is {got.dtype}."]
    if (got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
            and (got.dtype.kind != "f" or not np.isnan(got).any())):
        return []  # bit-identical and no NaN (never close to itself): allclose would agree
    if not np.allclose(got.astype(float), expected, rtol=RTOL, atol=ATOL, equal_nan=False):
        return [_values_message(name, expected, got)]
    return []


def compare(name: str, expected: Any, got: Any) -> list[str]:
    """Every problem with ``got``; empty when it matches ``expected``."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"`{name}` should be a dict, but it is {describe(got)}."]
        problems = []
        missing = [key for key in expected if key not in got]
        extra = [key for key in got if key not in expected]
        if missing:
            problems.append(f"`{name}` is missing the key(s) {_keys(missing)}.")
        if extra:
            problems.append(f"`{name}` has unexpected key(s) {_keys(extra)}.")
        for key, value in expected.items():
            if key in got:
                problems += compare(f"{name}[{key!r}]", value, got[key])
        return problems
    if isinstance(expected, (tuple, list)):
        kind = "tuple" if isinstance(expected, tuple) else "list"
        if not isinstance(got, (tuple, list)):
            return [f"`{name}` should be a {kind}, but it is {describe(got)}."]
        if len(got) != len(expected):
            return [f"`{name}` should hold {len(expected)} item(s), but it holds {len(got)}."]
        return [problem for index, (want, have) in enumerate(zip(expected, got))
                for problem in compare(f"{name}[{index}]", want, have)]
    if isinstance(expected, str):
        return [] if isinstance(got, str) and got == expected else [
            f"`{name}` should be {expected!r}, but it is {describe(got)}."]
    if isinstance(expected, np.ndarray) and expected.shape != ():
        return _compare_array(name, expected, got)
    if not _is_number(got):
        return [f"`{name}` should be a number, but it is {describe(got)}."]
    want = float(expected)
    try:
        have = float(got)
    except (OverflowError, ValueError):
        return [f"`{name}` should be close to {want!r}, but it does not fit in a float."]
    if have != want and not np.isclose(have, want, rtol=RTOL, atol=ATOL):  # equal: close
        return [f"Wrong value for `{name}`: expected {want!r}, got {have!r}."]
    return []


def compare_outputs(function: str, output_names: tuple[str, ...], expected: Any,
                    got: Any) -> list[str]:
    """Compare a whole return value: one named output, or a tuple of several."""
    if len(output_names) == 1:
        return compare(output_names[0], expected, got)
    if not isinstance(got, (tuple, list)) or len(got) != len(output_names):
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        return [f"{function} should return {len(output_names)} values "
                f"({', '.join(output_names)}), but it returned {describe(got)}{length}."]
    return [problem for name, want, have in zip(output_names, expected, got)
            for problem in compare(name, want, have)]
