"""Inputs for the checks of each exercise.

The notebook trains on 209 pictures of 12288 values for thousands of iterations; a
check cannot (the grader would spend seconds per student). So the checks train briefly:

- small random problems (2 to 20 features, 3 to 30 examples, a few layer shapes and
  learning rates, 1 to 10 iterations, with and without ``print_cost``), compared with
  the reference exactly (values within the usual relative tolerance);
- one short training run on the assignment's own pictures, averaged down to 8x8x3
  (192 values each), judged by what training is for: the trained network must classify
  the (equally shrunk) test pictures about as well as the reference's does: that case
  carries a ``judge`` (:class:`AccuracyJudge`), which the grader calls instead of
  comparing values whenever the student's result differs from the reference's.

Every generator takes a ``numpy.random.Generator``, so the public tests and the hidden
checks draw different, fixed cases. Every case stays inside the notebook's contract:
one output unit, labels 0/1 of shape (1, m).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from grader.assignments.dnn_step_by_step.reference import L_model_forward
from grader.assignments.kit import Case

from . import reference as ref

POOL = 8  # the dataset case averages POOL x POOL pixel blocks: 64x64x3 -> 8x8x3
ACCURACY_MARGIN = 0.05
# the notebook's networks on the shrunk pictures: (layers, learning rate, iterations); 101
# iterations record two costs; the reference classifies about 3/4 of the test pictures
# correctly after them (an untrained network: about half)
DATASET_RUN = {
    "two_layer_model": ((192, 7, 1), 0.2, 101),
    "L_layer_model": ([192, 20, 7, 5, 1], 0.1, 101),
}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _problem(rng: np.random.Generator, n_x: int, m: int, kind: str) -> tuple:
    """X of shape (n_x, m) (pixel-like values in [0, 1] or standard normal) and 0/1
    labels Y of shape (1, m) holding both classes."""
    X = rng.uniform(size=(n_x, m)) if kind == "pixels" else rng.standard_normal((n_x, m))
    Y = np.zeros((1, m))
    Y[0, rng.permutation(m)[: int(rng.integers(1, m))]] = 1.0
    return X, Y


def _label(dims, m: int, rate: float, iterations: int, print_cost: bool) -> str:
    printing = ", printing the cost" if print_cost else ""
    return (
        f"layers {list(dims)}, {_count(m, 'example')}, learning rate {rate}, "
        f"{_count(iterations, 'iteration')}{printing}"
    )


def two_layer_model(rng: np.random.Generator) -> list[Case]:
    cases = []
    for iterations, rate, print_cost, kind in (
        (1, 0.0075, False, "pixels"),
        (3, 0.1, True, "normal"),
        (10, 0.5, False, "pixels"),
    ):
        n_x, n_h, m = int(rng.integers(2, 21)), int(rng.integers(1, 8)), int(rng.integers(3, 31))
        X, Y = _problem(rng, n_x, m, kind)
        dims = (n_x, n_h, 1)
        cases.append(
            Case(
                _label(dims, m, rate, iterations, print_cost),
                (X, Y, dims, rate, iterations, print_cost),
            )
        )
    return cases


def L_layer_model(rng: np.random.Generator) -> list[Case]:
    cases = []
    for hidden, iterations, rate, print_cost, kind in (
        (1, 1, 0.0075, False, "pixels"),
        (0, 3, 0.5, False, "normal"),
        (2, 3, 0.1, True, "normal"),
        (3, 10, 0.05, False, "pixels"),
    ):
        n_x, m = int(rng.integers(2, 21)), int(rng.integers(3, 31))
        dims = [n_x] + [int(n) for n in rng.integers(1, 8, size=hidden)] + [1]
        X, Y = _problem(rng, n_x, m, kind)
        cases.append(
            Case(
                _label(dims, m, rate, iterations, print_cost),
                (X, Y, dims, rate, iterations, print_cost),
            )
        )
    return cases


GENERATORS: dict[str, Callable[[np.random.Generator], list[Case]]] = {
    "two_layer_model": two_layer_model,
    "L_layer_model": L_layer_model,
}


def generated_cases(seed: int) -> dict[str, list[Case]]:
    """Cases drawn with ``seed``: the same seed gives the same cases on every machine."""
    return {
        name: GENERATORS[name](np.random.default_rng([seed, index]))
        for index, name in enumerate(ref.EXERCISES)
    }


# --- the short training run on the pictures -----------------------------------------------


def shrink(images: np.ndarray) -> np.ndarray:
    """(m, 64, 64, 3) uint8 pictures -> (192, m) values in [0, 1]: the mean of each 8x8
    block of pixels, per colour (sums of integers divided by 64: exact everywhere)."""
    m, size = images.shape[0], images.shape[1]
    blocks = images.reshape(m, size // POOL, POOL, size // POOL, POOL, 3).astype(np.float64)
    return (blocks.sum(axis=(2, 4)) / (POOL * POOL)).reshape(m, -1).T / 255.0


def shrunk_data(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """train_x, train_y, test_x, test_y of the data sets in ``data_dir``, shrunk."""
    from .dataset import FILE_NAMES  # here: `python -m ...dataset` must not import it first

    arrays = []
    for split in ("train", "test"):
        with h5py.File(Path(data_dir) / FILE_NAMES[split], "r") as handle:
            arrays += [
                shrink(handle[f"{split}_set_x"][:]),
                handle[f"{split}_set_y"][:].reshape(1, -1).astype(np.float64),
            ]
    return tuple(arrays)


def accuracy(parameters: dict, X: np.ndarray, Y: np.ndarray) -> float:
    """Share of the columns of X the network classifies as Y says (output above 0.5)."""
    probabilities, _caches = L_model_forward(X, parameters)
    return float(np.mean((probabilities > 0.5) == Y))


class AccuracyJudge:
    """Judges a training run by the test accuracy of the parameters it returns: within
    ``ACCURACY_MARGIN`` of the reference's. The structure is checked first (a pair of a
    dict with the reference's keys and shapes and a list with one cost per 100
    iterations), so nothing is computed on arrays of unexpected sizes."""

    def __init__(self, test_x: np.ndarray, test_y: np.ndarray):
        self.test_x, self.test_y = test_x, test_y

    def __call__(self, output: Any, expected: Any) -> str | None:
        expected_parameters, expected_costs = expected
        if not isinstance(output, (tuple, list)) or len(output) != 2:
            return "The function should return the pair (parameters, costs)."
        parameters, costs = output
        if not isinstance(parameters, dict):
            return "`parameters` should be a dict."
        if sorted(parameters) != sorted(expected_parameters):
            return f"`parameters` should have exactly the keys {', '.join(expected_parameters)}."
        for key, value in expected_parameters.items():
            got = parameters[key]
            if (
                not isinstance(got, np.ndarray)
                or got.shape != value.shape
                or got.dtype.kind not in "iuf"
            ):
                return f"`parameters[{key!r}]` should be a numpy array of shape {value.shape}."
        if not isinstance(costs, list) or len(costs) != len(expected_costs):
            return (
                f"`costs` should be a list of {len(expected_costs)} costs, one every "
                "100 iterations (iteration 0, 100, ...)."
            )
        if not all(np.all(np.isfinite(parameters[key])) for key in parameters):
            return "The trained parameters hold NaN or infinite values."
        got, want = (
            accuracy(p, self.test_x, self.test_y) for p in (parameters, expected_parameters)
        )
        if abs(got - want) > ACCURACY_MARGIN:
            return (
                f"After training, the network classifies {got:.0%} of the test pictures "
                f"correctly; the model solution classifies {want:.0%} (they should be "
                f"within {100 * ACCURACY_MARGIN:g} percentage points)."
            )
        return None


def dataset_cases(data_dir: Path) -> dict[str, list[Case]]:
    """Per exercise, one short training run on the shrunk pictures, judged by accuracy."""
    train_x, train_y, test_x, test_y = shrunk_data(data_dir)
    judge = AccuracyJudge(test_x, test_y)
    cases = {}
    for name, (dims, rate, iterations) in DATASET_RUN.items():
        label = (
            f"the cat pictures shrunk to 8x8x3, layers {list(dims)}, learning rate "
            f"{rate}, {iterations} iterations"
        )
        cases[name] = [Case(label, (train_x, train_y, dims, rate, iterations, False), judge)]
    return cases


def all_cases(data_dir: Path, *seeds: int) -> dict[str, list[Case]]:
    """The cases generated with each seed, then the training run on the pictures."""
    cases: dict[str, list[Case]] = {name: [] for name in ref.EXERCISES}
    for seed in seeds:
        for name, generated in generated_cases(seed).items():
            cases[name] += generated
    for name, judged in dataset_cases(data_dir).items():
        cases[name] += judged
    return cases
