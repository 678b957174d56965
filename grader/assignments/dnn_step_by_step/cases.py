"""Inputs for the checks of each exercise: the notebook's own example plus generated ones.

Generated cases vary what a hard-coded or half-right solution gets wrong: the number
of layers, one example versus many, both activations, and values large enough for
the sigmoid to saturate. Every generator takes a ``numpy.random.Generator`` so the
public tests and the hidden checks draw from different, fixed seeds.

Every case stays inside what the notebook promises: the network is a binary classifier
(one output unit; AL and Y of shape (1, m)), so correct notebooks of older course
versions, which assert those shapes, pass (tests/test_cases_contract.py).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

from grader.assignments.kit import EXAMPLE_LABEL, Case

from . import reference as ref


def _count(n: int, noun: str) -> str:
    """'1 example', '5 examples': labels become check names that students read."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _layer_dims(rng: np.random.Generator, n_layers: int) -> list[int]:
    return [int(n) for n in rng.integers(1, 6, size=n_layers + 1)]


def _binary_dims(rng: np.random.Generator, n_layers: int) -> list[int]:
    """Layer sizes of this assignment's network: a binary classifier, so one output unit
    (older notebooks assert ``AL.shape == (1, m)``, and the notebook promises it)."""
    return _layer_dims(rng, n_layers)[:-1] + [1]


def _network(n_layers: int, dims: list[int], m: int | None = None) -> str:
    examples = "" if m is None else f", {_count(m, 'example')}"
    return f"{_count(n_layers, 'layer')}, sizes {dims}{examples}"


def _layer(n: int, n_prev: int, m: int) -> str:
    return f"{_count(n, 'unit')} from {_count(n_prev, 'input')}, {_count(m, 'example')}"


def _params(rng: np.random.Generator, dims: list[int], scale: float = 1.0) -> dict:
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1])) * scale
        params[f"b{layer}"] = rng.standard_normal((dims[layer], 1)) * scale
    return params


def _linear_cache(rng, n_prev: int, n: int, m: int, scale: float = 1.0):
    return (
        rng.standard_normal((n_prev, m)) * scale,
        rng.standard_normal((n, n_prev)) * scale,
        rng.standard_normal((n, 1)) * scale,
    )


def _probabilities(rng, m: int) -> tuple[np.ndarray, np.ndarray]:
    AL = rng.uniform(0.02, 0.98, size=(1, m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    return AL, Y


def _examples(rng) -> list[int]:
    """One example and several: a missing 1/m or a wrong axis shows only with m > 1."""
    return [1, int(rng.integers(3, 7))]


def initialize_parameters(rng):
    cases = []
    for _ in range(2):
        n_x, n_h, n_y = (int(n) for n in rng.integers(1, 7, size=3))
        cases.append(
            Case(
                f"{_count(n_x, 'input')}, {_count(n_h, 'hidden unit')}, "
                f"{_count(n_y, 'output unit')}",
                (n_x, n_h, n_y),
            )
        )
    return cases


def initialize_parameters_deep(rng):
    # any output size: the notebook's own example, [5, 4, 3], has three output units
    return [
        Case(_network(len(dims) - 1, dims), (dims,))
        for dims in (_layer_dims(rng, 1), _layer_dims(rng, 4))
    ]


def linear_forward(rng):
    cases = []
    for m in _examples(rng):
        n_prev, n = (int(k) for k in rng.integers(1, 6, size=2))
        cases.append(Case(_layer(n, n_prev, m), _linear_cache(rng, n_prev, n, m)))
    return cases


def linear_activation_forward(rng):
    cases = []
    for m in _examples(rng):
        args = _linear_cache(rng, 4, 3, m, scale=3.0)
        cases += [
            Case(f"{act}, {_layer(3, 4, m)}, large values", args + (act,))
            for act in ("sigmoid", "relu")
        ]
    return cases


def L_model_forward(rng):
    cases = []  # one layer (no hidden layer), many layers, one example and several
    for n_layers, m in ((1, 3), (4, 1), (3, 5)):
        dims = _binary_dims(rng, n_layers)
        cases.append(
            Case(
                _network(n_layers, dims, m), (rng.standard_normal((dims[0], m)), _params(rng, dims))
            )
        )
    return cases


def compute_cost(rng):
    cases = []
    for m in (1, 7):
        AL, Y = _probabilities(rng, m)
        cases.append(Case(_count(m, "example"), (AL, Y)))
    return cases


def linear_backward(rng):
    cases = []
    for m in _examples(rng):
        n_prev, n = (int(k) for k in rng.integers(1, 6, size=2))
        cases.append(
            Case(
                _layer(n, n_prev, m),
                (rng.standard_normal((n, m)), _linear_cache(rng, n_prev, n, m)),
            )
        )
    return cases


def linear_activation_backward(rng):
    cases = []
    for m in _examples(rng):
        linear_cache = _linear_cache(rng, 3, 2, m)
        Z = rng.standard_normal((2, m)) * 3.0
        dA = rng.standard_normal((2, m))
        cases += [
            Case(f"{act}, {_layer(2, 3, m)}", (dA, (linear_cache, Z), act))
            for act in ("sigmoid", "relu")
        ]
    return cases


def L_model_backward(rng):
    cases = []
    for n_layers, m in ((1, 4), (3, 1), (4, 6)):
        dims = _binary_dims(rng, n_layers)
        AL, caches = ref.L_model_forward(rng.standard_normal((dims[0], m)), _params(rng, dims))
        Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
        cases.append(Case(_network(n_layers, dims, m), (AL, Y, caches)))
    return cases


def update_parameters(rng):
    cases = []
    for n_layers, rate in ((1, 0.5), (3, 0.01)):
        dims = _binary_dims(rng, n_layers)
        grads = {f"d{k}": v for k, v in _params(rng, dims).items()}
        cases.append(
            Case(
                f"{_network(n_layers, dims)}, learning rate {rate}",
                (_params(rng, dims), grads, rate),
            )
        )
    return cases


def notebook_cases(test_cases: ModuleType) -> dict[str, list[Case]]:
    """The examples the notebook prints, built from the student folder's testCases module."""
    t = test_cases
    seed_example = EXAMPLE_LABEL
    lin_act_f = t.linear_activation_forward_test_case()
    dA, act_cache = t.linear_activation_backward_test_case()
    params, grads = t.update_parameters_test_case()
    Y, AL = t.compute_cost_test_case()
    return {
        "initialize_parameters": [Case(seed_example, (3, 2, 1))],
        "initialize_parameters_deep": [Case(seed_example, ([5, 4, 3],))],
        "linear_forward": [Case(seed_example, t.linear_forward_test_case())],
        "linear_activation_forward": [
            Case(f"{seed_example}, {act}", tuple(lin_act_f) + (act,)) for act in ("sigmoid", "relu")
        ],
        "L_model_forward": [Case(seed_example, t.L_model_forward_test_case_2hidden())],
        "compute_cost": [Case(seed_example, (AL, Y))],
        "linear_backward": [Case(seed_example, t.linear_backward_test_case())],
        "linear_activation_backward": [
            Case(f"{seed_example}, {act}", (dA, act_cache, act)) for act in ("sigmoid", "relu")
        ],
        "L_model_backward": [Case(seed_example, t.L_model_backward_test_case())],
        "update_parameters": [Case(seed_example, (params, grads, 0.1))],
    }


GENERATORS: dict[str, Callable[[np.random.Generator], list[Case]]] = {
    name: globals()[name] for name in ref.EXERCISES
}


def generated_cases(seed: int) -> dict[str, list[Case]]:
    """Cases drawn with ``seed``: the same seed gives the same cases on every machine."""
    return {
        name: GENERATORS[name](np.random.default_rng([seed, index]))
        for index, name in enumerate(ref.EXERCISES)
    }


def all_cases(test_cases: ModuleType, *seeds: int) -> dict[str, list[Case]]:
    """The notebook's example(s) first, then the cases generated with each seed."""
    cases = notebook_cases(test_cases)
    for seed in seeds:
        for name, generated in generated_cases(seed).items():
            cases[name] = cases[name] + generated
    return cases
