"""grader.compare: the shortcuts for identical values agree with the full comparison."""
import numpy as np
import pytest

from grader.compare import compare


@pytest.mark.parametrize("expected", [
    np.array([[1.5, -2.0], [0.0, 3.25]]), np.arange(6).reshape(2, 3),
    np.array([np.inf, -np.inf, 1.0]), np.array([True, False]),
])
def test_identical_arrays_match(expected):
    assert compare("x", expected, expected.copy()) == []


def test_nan_never_matches_even_when_identical():
    expected = np.array([1.0, np.nan])
    assert compare("x", expected, expected.copy()) == [
        "Wrong values in `x`: expected [ 1. nan], got [ 1. nan]."]
    assert compare("x", float("nan"), float("nan")) == [
        "Wrong value for `x`: expected nan, got nan."]


def test_close_but_not_identical_values_still_match():
    expected = np.array([1.0, 2.0])
    assert compare("x", expected, expected + 1e-12) == []
    assert compare("x", expected, expected.astype(np.float32)) == []
    assert compare("x", 0.5, 0.5 + 1e-12) == [] and compare("x", np.float64(2.0), 2) == []


def test_identical_bytes_of_another_dtype_are_compared_by_value():
    expected = np.array([1.0, 2.0])
    assert compare("x", expected, expected.view(np.int64))[0].startswith("Wrong values in `x`")
    assert compare("x", 1.0, 1.5) == ["Wrong value for `x`: expected 1.0, got 1.5."]
