"""Compare a decoded student value with the reference value, in the grader's process.

Both sides are plain data built by the grader itself (the student's value comes
from :mod:`grader.sandbox.wire`), so no method of a student object is ever called. The
messages follow the public tests' style: which output, expected versus got.

Each problem is told twice (:class:`Problem`): in full for the instructor, and without
the expected values for a student looking at a hidden check (the kind of problem, the
shapes, the keys, how many entries are wrong and by how much), so that feedback never
hands out a hidden case's answer.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

RTOL, ATOL = 1e-6, 1e-9
SHOW_VALUES_UP_TO = 48  # larger arrays are printed shortened, as numpy does
EDGE_ITEMS = 3  # rows and columns kept at each edge of a shortened array


class Problem(NamedTuple):
    message: str  # in full, expected values included
    hidden: str  # the same problem, without the expected values


def _same(message: str) -> Problem:
    return Problem(message, message)


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


def show_array(array: np.ndarray) -> str:
    """An array as numpy prints it, columns aligned, shortened in the middle when large."""
    return np.array2string(
        array,
        precision=8,
        separator=" ",
        threshold=SHOW_VALUES_UP_TO,
        edgeitems=EDGE_ITEMS,
        max_line_width=100,
    )


def _wrong_entries(expected: np.ndarray, got: np.ndarray) -> tuple[int, float, tuple]:
    """How many entries are off, the largest relative error, and where it is."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        have = got.astype(float)
        wrong = ~np.isclose(have, expected, rtol=RTOL, atol=ATOL)
        error = np.abs(have - expected) / np.maximum(np.abs(expected), ATOL)
    error = np.where(np.isnan(error), np.inf, error)
    where = np.unravel_index(int(np.argmax(np.where(wrong, error, -1.0))), expected.shape)
    return int(wrong.sum()), float(error[where]), tuple(int(i) for i in where)


def _values_problem(name: str, expected: np.ndarray, got: np.ndarray) -> Problem:
    count, error, where = _wrong_entries(expected, got)
    largest = "not a finite number" if not np.isfinite(error) else f"{error:.2g}"
    summary = (
        f"{count} of {expected.size} entries differ from the expected values; "
        f"the largest relative error is {largest}, at index {where}"
    )
    return Problem(
        f"Wrong values in `{name}`: {summary}.\nexpected:\n{show_array(expected)}"
        f"\ngot:\n{show_array(got)}",
        f"Wrong values in `{name}`: {summary}.",
    )


def _keys(keys: list, limit: int = 10) -> str:
    """A readable list of dict keys; a student's dict may have millions."""
    shown = ", ".join(repr(key)[:40] for key in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _array_problems(name: str, expected: np.ndarray, got: Any) -> list[Problem]:
    if not isinstance(got, np.ndarray):
        return [_same(f"`{name}` should be a numpy array, but it is {describe(got)}.")]
    if got.shape != expected.shape:
        return [_same(f"Wrong shape for `{name}`: expected {expected.shape}, got {got.shape}.")]
    if got.dtype.kind not in "biuf":
        return [_same(f"`{name}` should hold real numbers, but its dtype is {got.dtype}.")]
    if (
        got.dtype == expected.dtype
        and got.tobytes() == expected.tobytes()
        and (got.dtype.kind != "f" or not np.isnan(got).any())
    ):
        return []  # bit-identical and no NaN (never close to itself): allclose would agree
    if not np.allclose(got.astype(float), expected, rtol=RTOL, atol=ATOL, equal_nan=False):
        return [_values_problem(name, expected, got)]
    return []


def problems(name: str, expected: Any, got: Any) -> list[Problem]:
    """Every problem with ``got``; empty when it matches ``expected``."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [_same(f"`{name}` should be a dict, but it is {describe(got)}.")]
        found = []
        missing = [key for key in expected if key not in got]
        extra = [key for key in got if key not in expected]
        if missing:
            found.append(
                _same(
                    f"`{name}` is missing the "
                    f"{'key' if len(missing) == 1 else 'keys'} {_keys(missing)}."
                )
            )
        if extra:
            found.append(
                _same(
                    f"`{name}` has unexpected "
                    f"{'key' if len(extra) == 1 else 'keys'} {_keys(extra)}."
                )
            )
        for key, value in expected.items():
            if key in got:
                found += problems(f"{name}[{key!r}]", value, got[key])
        return found
    if isinstance(expected, (tuple, list)):
        kind = "tuple" if isinstance(expected, tuple) else "list"
        if not isinstance(got, (tuple, list)):
            return [_same(f"`{name}` should be a {kind}, but it is {describe(got)}.")]
        if len(got) != len(expected):
            return [
                _same(
                    f"`{name}` should hold {_plural(len(expected), 'item')}, "
                    f"but it holds {len(got)}."
                )
            ]
        return [
            problem
            for index, (want, have) in enumerate(zip(expected, got))
            for problem in problems(f"{name}[{index}]", want, have)
        ]
    if isinstance(expected, str):
        return (
            []
            if isinstance(got, str) and got == expected
            else [_same(f"`{name}` should be {expected!r}, but it is {describe(got)}.")]
        )
    if isinstance(expected, np.ndarray) and expected.shape != ():
        return _array_problems(name, expected, got)
    if not _is_number(got):
        return [_same(f"`{name}` should be a number, but it is {describe(got)}.")]
    want = float(expected)
    try:
        have = float(got)
    except (OverflowError, ValueError):
        return [
            _same(
                f"`{name}` should be a number close to the expected one, but it does "
                "not fit in a float."
            )
        ]
    if have != want and not np.isclose(have, want, rtol=RTOL, atol=ATOL):  # equal: close
        return [
            Problem(
                f"Wrong value for `{name}`: expected {want!r}, got {have!r}.",
                f"Wrong value for `{name}`: got {have!r}, which is not the expected value.",
            )
        ]
    return []


def compare(name: str, expected: Any, got: Any) -> list[str]:
    """Every problem with ``got``, in full; empty when it matches ``expected``."""
    return [problem.message for problem in problems(name, expected, got)]


def output_problems(
    function: str, output_names: tuple[str, ...], expected: Any, got: Any
) -> list[Problem]:
    """The problems of a whole return value: one named output, or a tuple of several."""
    if len(output_names) == 1:
        return problems(output_names[0], expected, got)
    if not isinstance(got, (tuple, list)) or len(got) != len(output_names):
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        return [
            _same(
                f"{function} should return {len(output_names)} values "
                f"({', '.join(output_names)}), but it returned {describe(got)}{length}."
            )
        ]
    return [
        problem
        for name, want, have in zip(output_names, expected, got)
        for problem in problems(name, want, have)
    ]


def compare_outputs(
    function: str, output_names: tuple[str, ...], expected: Any, got: Any
) -> list[str]:
    """:func:`output_problems`, in full."""
    return [p.message for p in output_problems(function, output_names, expected, got)]
