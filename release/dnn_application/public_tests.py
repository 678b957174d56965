"""Public tests for the deep-network application assignment.

Each ``<exercise>_test(target)`` trains your model briefly on a few small problems,
compares what it returns with stored expected values (``public_tests_data.h5``, next to
this file) and either prints ``All tests passed.`` or prints what is wrong and raises
``AssertionError``. Only numpy and h5py are used.
"""

import contextlib
import copy
import io
from pathlib import Path

import h5py
import numpy as np

DATA_FILE = Path(__file__).with_name("public_tests_data.h5")
RTOL, ATOL = 1e-6, 1e-8
GLOBALS_HINT = (
    "Your function gives the right answer for the first problem but not for "
    "others. Check that it uses only its arguments (no global variables such as "
    "train_x or layers_dims, no hard-coded sizes, learning rate or number of "
    "iterations)."
)
COSTS_HINT = (
    "`costs` should get the cost of iterations 0, 100, 200, ... (one value whenever i % 100 == 0)."
)


# --- reading the stored cases ------------------------------------------------------------


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _read(node):
    """Rebuild the Python value stored in one HDF5 node (see the 'kind' attribute)."""
    kind = _text(node.attrs["kind"])
    if kind in ("tuple", "list", "dict"):
        items = [_read(node[str(i)]) for i in range(len(node))]
        if kind == "dict":
            return {_text(key): item for key, item in zip(node.attrs["keys"], items)}
        return tuple(items) if kind == "tuple" else items
    if kind == "none":
        return None
    if kind == "str":
        return _text(node[()])
    if kind == "array":
        return node[...] if node.shape else node[()]
    caster = {"int": int, "float": float, "bool": bool}[kind]
    return caster(node[()])


def load_exercise(name):
    """The stored description of one exercise: argument names, output names and cases."""
    with h5py.File(DATA_FILE, "r") as data:
        return _read(data[name])


# --- comparing one output ----------------------------------------------------------------


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _is_number(value):
    if isinstance(value, np.ndarray):
        return value.shape == () and np.issubdtype(value.dtype, np.number)
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def compare(name, expected, got):
    """Problems found when comparing ``got`` with ``expected``; an empty list if none."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"`{name}` should be a dict, but it is {_describe(got)}."]
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        problems = []
        if missing:
            problems.append(f"`{name}` is missing the key(s) {', '.join(map(repr, missing))}.")
        if extra:
            problems.append(f"`{name}` has unexpected key(s) {', '.join(map(repr, extra))}.")
        for key in expected:
            if key in got:
                problems += compare(f"{name}[{key!r}]", expected[key], got[key])
        return problems
    if isinstance(expected, (tuple, list)):
        kind = "tuple" if isinstance(expected, tuple) else "list"
        if not isinstance(got, (tuple, list)):
            return [f"`{name}` should be a {kind}, but it is {_describe(got)}."]
        if len(got) != len(expected):
            problem = f"`{name}` should hold {len(expected)} item(s), but it holds {len(got)}."
            return [problem + (" " + COSTS_HINT if name == "costs" else "")]
        problems = []
        for index, (want, have) in enumerate(zip(expected, got)):
            problems += compare(f"{name}[{index}]", want, have)
        return problems
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)) or bool(got) != bool(expected):
            return [f"`{name}` should be {bool(expected)}, but it is {got!r}."]
        return []
    if isinstance(expected, str):
        if got != expected:
            return [f"`{name}` should be {expected!r}, but it is {got!r}."]
        return []
    if isinstance(expected, np.ndarray) and expected.shape != ():
        if not isinstance(got, np.ndarray):
            return [f"`{name}` should be a numpy array, but it is {_describe(got)}."]
        if got.shape != expected.shape:
            return [f"Wrong shape for `{name}`: expected {expected.shape}, got {got.shape}."]
        if not np.issubdtype(got.dtype, np.number):
            return [f"`{name}` should hold numbers, but its dtype is {got.dtype}."]
        if not np.allclose(got, expected, rtol=RTOL, atol=ATOL):
            return [
                f"Wrong values in `{name}`.\n    expected: {_indent(expected)}"
                f"\n    got:      {_indent(got)}"
            ]
        return []
    # a number: accept a Python or numpy scalar or a 0-d array
    if not _is_number(got):
        return [f"`{name}` should be a number, but it is {_describe(got)}."]
    if not np.isclose(float(got), float(expected), rtol=RTOL, atol=ATOL):
        return [f"Wrong value for `{name}`: expected {float(expected)!r}, got {float(got)!r}."]
    return []


def _indent(array):
    return np.array2string(np.asarray(array), precision=8).replace("\n", "\n" + " " * 14)


# --- running a test ------------------------------------------------------------------------


def _changed_arguments(names, before, after):
    return [name for name, old, new in zip(names, before, after) if compare(name, old, new)]


def run_public_test(exercise, target):
    """Check ``target`` on every stored case of ``exercise``; print and raise on failure."""
    spec = load_exercise(exercise)
    outputs, arg_names = spec["outputs"], spec["args"]
    failures, first_case_passed = [], None
    for number, case in enumerate(spec["cases"], start=1):
        args = copy.deepcopy(case["args"])
        state = np.random.get_state()
        np.random.seed(1000 + number)  # your function must seed numpy itself
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the costs it may print
                result = target(*args)
        except NotImplementedError:
            raise
        except Exception as exc:
            print(
                f"Test {number} of {len(spec['cases'])} ({case['label']}): {exercise} raised "
                f"{type(exc).__name__}: {exc}"
            )
            if first_case_passed:
                print(GLOBALS_HINT)
            raise
        finally:
            np.random.set_state(state)
        expected = case["expected"]
        if not isinstance(result, (tuple, list)) or len(result) != len(outputs):
            problems = [
                f"{exercise} should return {len(outputs)} values "
                f"({', '.join(outputs)}), but it returned {_describe(result)}"
                + (f" of length {len(result)}." if isinstance(result, (tuple, list)) else ".")
            ]
        else:
            problems = [
                p
                for name, want, have in zip(outputs, expected, result)
                for p in compare(name, want, have)
            ]
        changed = _changed_arguments(arg_names, case["args"], args)
        problems += [
            f"{exercise} changed its argument `{name}` in place; work on a copy instead."
            for name in changed
        ]
        if number == 1:
            first_case_passed = not problems
        if problems:
            failures.append((number, case["label"], problems))
    _report(exercise, failures, first_case_passed, len(spec["cases"]))


def _report(exercise, failures, first_case_passed, n_cases):
    if not failures:
        print("All tests passed.")
        return
    for number, label, problems in failures:
        print(f"Test {number} of {n_cases} failed ({label}):")
        for problem in problems:
            print(f"  - {problem}")
    if first_case_passed:
        print(GLOBALS_HINT)
    raise AssertionError(f"{len(failures)} of {n_cases} test(s) failed for {exercise}.")


def _make_test(exercise):
    def test(target):
        run_public_test(exercise, target)

    test.__name__ = f"{exercise}_test"
    test.__doc__ = f"Public test of {exercise}: prints 'All tests passed.' or raises."
    return test


EXERCISES = ("two_layer_model", "L_layer_model")

two_layer_model_test = _make_test("two_layer_model")
L_layer_model_test = _make_test("L_layer_model")

__all__ = [f"{name}_test" for name in EXERCISES]
