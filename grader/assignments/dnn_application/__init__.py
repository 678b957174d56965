"""Kit for "Deep Neural Network: Application".

Students train a two-layer and an L-layer network to tell cat pictures from others,
with the first assignment's functions given to them in the helper module
``dnn_app_utils_v3`` (generated from that kit's reference, see :mod:`.helper`). The
pictures are synthetic (:mod:`.dataset`), in the course's HDF5 layout; the source
folder holds them under ``datasets/``.

The grader sees only :data:`KIT` (see :mod:`grader.assignments.kit`).
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.assignments.kit import Case, Kit, load_helper_module
from grader.authoring.fixtures import encode

from . import reference
from .cases import all_cases, generated_cases
from .helper import MODULE_NAME, helper_module_source

NAME = "dnn_application"
EXERCISES = reference.EXERCISES
PUBLIC_SEED = 20240918  # generated public cases
HIDDEN_SEEDS = (5087, 6263)  # hidden checks: two rounds of generated cases, other seeds
POINTS = {"two_layer_model": 5, "L_layer_model": 5}  # as the notebook's test cells say

# the graded functions call no other graded function (the building blocks come from the
# helper module), so there is nothing for the grader to answer on their behalf
DEPENDENCIES: dict[str, tuple[str, ...]] = {}
ARGUMENTS_MAY_CHANGE: tuple[str, ...] = ()
# both seed numpy themselves (np.random.seed(1)), as the course's code does: their
# results must not depend on numpy's global random state before the call
RESEEDING = EXERCISES
# the notebook trains both models for thousands of iterations on the full data set (a
# minute or two each): while grading, those demonstration cells are not run; the hidden
# checks train the same functions briefly
SKIP_DEMONSTRATIONS = EXERCISES
# names the course used for this assignment's helper modules over the years
MODULE_ALIASES = {
    "dnn_app_utils": MODULE_NAME,
    "dnn_app_utils_v1": MODULE_NAME,
    "dnn_app_utils_v2": MODULE_NAME,
    "dnn_app_utils_v4": MODULE_NAME,
    "public_tests_v2": "public_tests",
}
# other names that look like a helper module: the first assignment's dnn_utils (the
# activations are in dnn_app_utils_v3), public_tests1, ... (see grader's imports module)
MODULE_LOOKALIKES = {
    "dnn_app_utils": MODULE_NAME,
    "dnn_utils": MODULE_NAME,
    "public_tests": "public_tests",
}

_ARGS = ("X", "Y", "layers_dims", "learning_rate", "num_iterations", "print_cost")
# (argument names, output names) of every graded function, for messages and checks
SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "two_layer_model": (_ARGS, ("parameters", "costs")),
    "L_layer_model": (_ARGS, ("parameters", "costs")),
}
DATA_FOLDER = "datasets"  # in the source and release folders, next to the notebook


def load_helper(source_dir: Path, module: str) -> ModuleType:
    """Import one of the student folder's helper modules by path, without sys.path."""
    return load_helper_module(source_dir, module, NAME)


def public_cases() -> dict[str, list[Case]]:
    """What the public tests run: a round of generated cases plus, per exercise, one
    run of 201 iterations on a tiny problem (three costs: iterations 0, 100 and 200)."""
    cases = generated_cases(PUBLIC_SEED)
    rng = np.random.default_rng([PUBLIC_SEED, len(EXERCISES)])
    X, Y = rng.uniform(size=(3, 4)), np.array([[1.0, 0.0, 0.0, 1.0]])
    for name, dims in (("two_layer_model", (3, 2, 1)), ("L_layer_model", [3, 2, 2, 1])):
        cases[name].append(
            Case(
                f"layers {list(dims)}, 4 examples, learning rate 0.1, 201 iterations (3 costs)",
                (X, Y, dims, 0.1, 201, False),
            )
        )
    return cases


def public_fixture(source_dir: Path) -> dict:
    """Per exercise: argument names, output names and cases with reference outputs."""
    cases = public_cases()
    tree = {}
    for name in EXERCISES:
        function = getattr(reference, name)
        arg_names, outputs = SIGNATURES[name]
        with contextlib.redirect_stdout(io.StringIO()):  # cases with print_cost print
            expected = [function(*case.args) for case in cases[name]]
        tree[name] = {
            "args": list(arg_names),
            "outputs": list(outputs),
            "cases": [
                {"label": case.label, "args": list(case.args), "expected": result}
                for case, result in zip(cases[name], expected)
            ],
        }
    return tree


def hidden_cases(helper_dir: Path) -> dict[str, list[Case]]:
    """Two rounds of generated cases per exercise, then a short training run on the
    release's own pictures (``helper_dir/datasets``), judged by accuracy."""
    return all_cases(Path(helper_dir) / DATA_FOLDER, *HIDDEN_SEEDS)


def generated_files(source_dir: Path) -> dict[str, bytes]:
    """Files the release needs besides the source folder's own: the helper module and
    the public-test data (the pictures are source files, under datasets/)."""
    return {
        f"{MODULE_NAME}.py": helper_module_source().encode("utf-8"),
        "public_tests_data.h5": encode(public_fixture(source_dir)),
    }


class QuietReference:
    """The reference as the grader calls it: what ``print_cost=True`` prints goes
    nowhere. Some hidden cases print the cost (a student's printing must not crash), and
    the grader runs the reference on every case to know the expected values: without
    this, their costs would be printed on the instructor's terminal."""

    def __init__(self, module: ModuleType):
        self.module = module

    def __getattr__(self, name: str) -> Callable:
        if name.startswith("__") or name == "module":  # copy, pickle: no reference here
            raise AttributeError(name)
        function = getattr(self.module, name)
        if not callable(function):
            return function

        @functools.wraps(function)
        def quiet(*args, **kwargs):
            with contextlib.redirect_stdout(io.StringIO()):
                return function(*args, **kwargs)

        return quiet


def sample_batch(solutions_dir: Path, release_dir: Path) -> dict[str, bytes]:
    """The demo batch (imported on use: it reads notebooks with nbformat)."""
    from .samples import sample_batch as build

    return build(solutions_dir, release_dir)


KIT = Kit(
    name=NAME,
    exercises=tuple(EXERCISES),
    signatures=SIGNATURES,
    reference=QuietReference(reference),
    hidden_cases=hidden_cases,
    generated_files=generated_files,
    dependencies=DEPENDENCIES,
    reseeding=RESEEDING,
    arguments_may_change=ARGUMENTS_MAY_CHANGE,
    module_aliases=MODULE_ALIASES,
    module_lookalikes=MODULE_LOOKALIKES,
    preload=("numpy", "numpy.random", "numpy.linalg", "matplotlib", "matplotlib.pyplot", "h5py"),
    skip_demonstrations=SKIP_DEMONSTRATIONS,
    points=POINTS,
    samples=sample_batch,
)
