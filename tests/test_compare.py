"""grader.grading.compare: the shortcuts for identical values agree with the full comparison."""

import numpy as np
import pytest

from grader.grading.compare import compare, output_problems, problems


@pytest.mark.parametrize(
    "expected",
    [
        np.array([[1.5, -2.0], [0.0, 3.25]]),
        np.arange(6).reshape(2, 3),
        np.array([np.inf, -np.inf, 1.0]),
        np.array([True, False]),
    ],
)
def test_identical_arrays_match(expected):
    assert compare("x", expected, expected.copy()) == []


def test_nan_never_matches_even_when_identical():
    expected = np.array([1.0, np.nan])
    assert compare("x", expected, expected.copy()) == [
        "Wrong values in `x`: 1 of 2 entries differ from the expected values; the largest "
        "relative error is not a finite number, at index (1,).\nexpected:\n[ 1. nan]\n"
        "got:\n[ 1. nan]"
    ]
    assert compare("x", float("nan"), float("nan")) == [
        "Wrong value for `x`: expected nan, got nan."
    ]


def test_close_but_not_identical_values_still_match():
    expected = np.array([1.0, 2.0])
    assert compare("x", expected, expected + 1e-12) == []
    assert compare("x", expected, expected.astype(np.float32)) == []
    assert compare("x", 0.5, 0.5 + 1e-12) == [] and compare("x", np.float64(2.0), 2) == []


def test_identical_bytes_of_another_dtype_are_compared_by_value():
    expected = np.array([1.0, 2.0])
    assert compare("x", expected, expected.view(np.int64))[0].startswith("Wrong values in `x`")
    assert compare("x", 1.0, 1.5) == ["Wrong value for `x`: expected 1.0, got 1.5."]
    assert problems("x", 1.0, 1.5)[0].hidden == (
        "Wrong value for `x`: got 1.5, which is not the expected value."
    )


def test_matrices_are_printed_aligned_one_row_a_line():
    expected = np.array([[1.5, -20.25], [0.125, 3.0]])
    message = compare("Z", expected, expected * 2)[0]
    assert message.splitlines()[1:] == [
        "expected:",
        "[[  1.5   -20.25 ]",
        " [  0.125   3.   ]]",
        "got:",
        "[[  3.   -40.5 ]",
        " [  0.25   6.  ]]",
    ]
    assert "4 of 4 entries differ" in message and "relative error is 1" in message


def test_large_arrays_are_shortened_as_numpy_does():
    expected = np.arange(400.0).reshape(20, 20)
    got = expected.copy()
    got[7, 11] += 1.0
    message = compare("W", expected, got)[0]
    assert "..." in message and len(message.splitlines()) < 20
    assert "1 of 400 entries differ" in message and "at index (7, 11)" in message


@pytest.mark.parametrize(
    "expected, got",
    [
        (np.array([[0.123456789, 2.5]]), np.array([[0.5, 2.5]])),
        (0.27977656, 0.5),
        (
            {"W1": np.array([[0.31415926]]), "b1": np.array([[0.0]])},
            {"W1": np.array([[1.0]]), "b1": np.array([[0.0]]), "W9": 1},
        ),
        ((np.array([[0.31415926, 7.25]]), (1, 2)), (np.array([[1.0, 1.0]]), (1,))),
    ],
)
def test_hidden_messages_never_show_the_expected_values(expected, got):
    found = output_problems("f", ("out",), expected, got)
    assert found
    numbers = ["0.123456789", "0.12345679", "0.27977656", "0.31415926", "7.25"]
    for problem in found:
        assert not any(number in problem.hidden for number in numbers), problem.hidden
    full = " ".join(p.message for p in found)
    assert any(number in full for number in numbers)


def test_hidden_messages_keep_the_kind_of_problem():
    (shape,) = problems("db", np.zeros((5, 1)), np.zeros(5))
    assert shape.hidden == shape.message == "Wrong shape for `db`: expected (5, 1), got (5,)."
    (values,) = problems("Z", np.array([[1.0, 2.0, 4.0]]), np.array([[1.0, 2.0, 5.0]]))
    assert values.hidden == (
        "Wrong values in `Z`: 1 of 3 entries differ from the expected "
        "values; the largest relative error is 0.25, at index (0, 2)."
    )
    (keys,) = problems("grads", {"dW1": 1.0}, {})
    assert keys.hidden == "`grads` is missing the key 'dW1'."
