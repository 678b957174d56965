"""Kit for "Building your Deep Neural Network: Step by Step".

Everything specific to this assignment lives in this package: the reference
solution, the check cases, and the fixture data the release's public tests read.
The generic generator asks a kit only for :data:`EXERCISES`, :data:`SIGNATURES` and
:func:`generated_files`.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from grader.fixtures import encode

from . import reference
from .cases import all_cases

NAME = "dnn_step_by_step"
EXERCISES = reference.EXERCISES
PUBLIC_SEED = 20240611  # generated public cases; hidden checks use other seeds

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
    path = Path(source_dir) / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"_{NAME}_{module}", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


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
            "cases": [{"label": case.label, "args": list(case.args),
                       "expected": function(*case.args)} for case in cases[name]],
        }
    return tree


def generated_files(source_dir: Path) -> dict[str, bytes]:
    """Files the release needs besides the source folder's own: the public-test data."""
    return {"public_tests_data.h5": encode(public_fixture(source_dir))}
