"""Kit for "Building your Deep Neural Network: Step by Step".

Everything specific to this assignment lives in this package: the reference
solution, the check cases, and the fixture data the release's public tests read.
The grader sees only :data:`KIT` (see :mod:`grader.assignments.kit`).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from grader.assignments.kit import Kit, load_helper_module
from grader.authoring.fixtures import encode

from . import reference
from .callbacks import callback_contract
from .cases import all_cases

NAME = "dnn_step_by_step"
EXERCISES = reference.EXERCISES
PUBLIC_SEED = 20240611  # generated public cases
HIDDEN_SEEDS = (7340, 9151)  # hidden checks: two rounds of generated cases, other seeds

# graded functions an exercise may call; with isolation on, the grader answers those
# calls with the reference so one mistake costs points only once
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "linear_activation_forward": ("linear_forward",),
    "L_model_forward": ("linear_activation_forward", "linear_forward"),
    "linear_activation_backward": ("linear_backward",),
    "L_model_backward": ("linear_activation_backward", "linear_backward"),
}
# exercises whose arguments may be changed in place without losing points: older
# versions of the course had update_parameters write into the caller's dict (the current
# one copies it first), and a student must never lose points for the course's own code
ARGUMENTS_MAY_CHANGE = ("update_parameters",)
# functions whose result must not depend on numpy's global random state before the call
RESEEDING = ("initialize_parameters", "initialize_parameters_deep")
# module names older releases of the course used for the helper modules
MODULE_ALIASES = {
    "testCases_v2": "testCases",
    "testCases_v3": "testCases",
    "testCases_v4": "testCases",
    "testCases_v4a": "testCases",
    "testCases_v5": "testCases",
    "dnn_utils_v2": "dnn_utils",
    "dnn_utils_v3": "dnn_utils",
    "public_tests_v2": "public_tests",
}
# other names that look like a helper module (the follow-up assignment's dnn_app_utils_v3,
# public_tests1): an import of one is given the release module that defines what it
# asks for (see grader.grading.imports)
MODULE_LOOKALIKES = {
    "dnn_utils": "dnn_utils",
    "dnn_app_utils": "dnn_utils",
    "testCases": "testCases",
    "public_tests": "public_tests",
}

# (argument names, output names) of every graded function, for messages and checks
SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "initialize_parameters": (("n_x", "n_h", "n_y"), ("parameters",)),
    "initialize_parameters_deep": (("layer_dims",), ("parameters",)),
    "linear_forward": (("A", "W", "b"), ("Z", "cache")),
    "linear_activation_forward": (("A_prev", "W", "b", "activation"), ("A", "cache")),
    "L_model_forward": (("X", "parameters"), ("AL", "caches")),
    "compute_cost": (("AL", "Y"), ("cost",)),
    "linear_backward": (("dZ", "cache"), ("dA_prev", "dW", "db")),
    "linear_activation_backward": (("dA", "cache", "activation"), ("dA_prev", "dW", "db")),
    "L_model_backward": (("AL", "Y", "caches"), ("grads",)),
    "update_parameters": (("params", "grads", "learning_rate"), ("parameters",)),
}


def load_helper(source_dir: Path, module: str) -> ModuleType:
    """Import one of the student folder's helper modules by path, without sys.path."""
    return load_helper_module(source_dir, module, NAME)


def public_fixture(source_dir: Path) -> dict:
    """Per exercise: argument names, output names and cases with reference outputs."""
    cases = all_cases(load_helper(source_dir, "testCases"), PUBLIC_SEED)
    tree = {}
    for name in EXERCISES:
        function = getattr(reference, name)
        arg_names, outputs = SIGNATURES[name]
        tree[name] = {
            "args": list(arg_names),
            "outputs": list(outputs),
            "cases": [
                {"label": case.label, "args": list(case.args), "expected": function(*case.args)}
                for case in cases[name]
            ],
        }
    return tree


def hidden_cases(helper_dir: Path) -> dict[str, list]:
    """The notebook's examples plus two rounds of generated cases per exercise."""
    return all_cases(load_helper(helper_dir, "testCases"), *HIDDEN_SEEDS)


def generated_files(source_dir: Path) -> dict[str, bytes]:
    """Files the release needs besides the source folder's own: the public-test data."""
    return {"public_tests_data.h5": encode(public_fixture(source_dir))}


def sample_batch(solutions_dir: Path, release_dir: Path) -> dict[str, bytes]:
    """The demo batch (imported on use: it reads notebooks with nbformat)."""
    from .samples import sample_batch as build

    return build(solutions_dir, release_dir)


KIT = Kit(
    name=NAME,
    exercises=tuple(EXERCISES),
    signatures=SIGNATURES,
    reference=reference,
    hidden_cases=hidden_cases,
    generated_files=generated_files,
    dependencies=DEPENDENCIES,
    reseeding=RESEEDING,
    arguments_may_change=ARGUMENTS_MAY_CHANGE,
    module_aliases=MODULE_ALIASES,
    module_lookalikes=MODULE_LOOKALIKES,
    preload=("numpy", "numpy.random", "numpy.linalg", "matplotlib", "matplotlib.pyplot", "h5py"),
    callback_contract=callback_contract,
    samples=sample_batch,
)
