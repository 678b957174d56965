"""The "Deep Neural Network: Application" kit: data set, reference, cases, helper module.

The kit trains networks, so these tests keep every training run short: the full data
set only for a few hundred iterations of the two-layer model, everything else on the
hidden cases' small problems.
"""

from __future__ import annotations

import contextlib
import copy
import io
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from grader.assignments import dnn_application as kit, get_kit
from grader.assignments.dnn_application import cases, dataset, helper
from grader.assignments.dnn_step_by_step import reference as step_by_step

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = REPO_ROOT / "source_notebooks" / "dnn_application"
DATA_DIR = SOURCE_DIR / "datasets"


def same(a, b) -> bool:
    """Equal structure, types of containers, dict keys, and values within 1e-6."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) and a.shape != ():
        return (
            isinstance(b, np.ndarray)
            and a.shape == b.shape
            and np.allclose(a, b, rtol=1e-6, atol=1e-9)
        )
    return np.isclose(float(a), float(b), rtol=1e-6, atol=1e-9)


def quietly(function, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args)


def no_update_L_layer_model(
    X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False
):
    """A classic mistake: the update's result is thrown away."""
    np.random.seed(1)
    costs = []
    parameters = helper.initialize_parameters_deep(layers_dims)
    for i in range(num_iterations):
        AL, caches = step_by_step.L_model_forward(X, parameters)
        cost = step_by_step.compute_cost(AL, Y)
        grads = step_by_step.L_model_backward(AL, Y, caches)
        step_by_step.update_parameters(parameters, grads, learning_rate)
        if i % 100 == 0:
            costs.append(cost)
    return parameters, costs


@pytest.fixture(scope="module")
def hidden():
    return kit.hidden_cases(SOURCE_DIR)


@pytest.fixture(scope="module")
def full_data():
    with (
        h5py.File(DATA_DIR / "train_catvnoncat.h5", "r") as train,
        h5py.File(DATA_DIR / "test_catvnoncat.h5", "r") as test,
    ):
        train_x, train_y = train["train_set_x"][:], train["train_set_y"][:]
        test_x, test_y = test["test_set_x"][:], test["test_set_y"][:]
    return (
        train_x.reshape(len(train_x), -1).T / 255.0,
        train_y.reshape(1, -1),
        test_x.reshape(len(test_x), -1).T / 255.0,
        test_y.reshape(1, -1),
    )


# --- the data set -----------------------------------------------------------------------


def test_dataset_is_deterministic_and_committed():
    first, second = dataset.dataset_files(), dataset.dataset_files()
    assert first == second  # byte for byte
    assert sorted(first) == ["test_catvnoncat.h5", "train_catvnoncat.h5"]
    for name, data in first.items():  # the committed files are what the generator writes
        assert (DATA_DIR / name).read_bytes() == data, f"{name} is stale: regenerate it"
    assert sum(len(data) for data in first.values()) < 1_500_000


def test_dataset_has_the_course_layout():
    expected = {"train": (209, 104), "test": (50, 25)}  # half cats (see dataset.SPLITS)
    for split, (count, cats) in expected.items():
        with h5py.File(DATA_DIR / f"{split}_catvnoncat.h5", "r") as handle:
            assert sorted(handle) == ["list_classes", f"{split}_set_x", f"{split}_set_y"]
            x, y = handle[f"{split}_set_x"], handle[f"{split}_set_y"]
            assert (x.dtype, x.shape) == (np.uint8, (count, 64, 64, 3))
            assert (y.dtype, y.shape) == (np.int64, (count,))
            assert set(np.unique(y[:])) == {0, 1} and int(y[:].sum()) == cats
            assert list(handle["list_classes"][:]) == [b"non-cat", b"cat"]
            assert handle["list_classes"].dtype.kind == "S"


def test_the_pictures_differ():
    x, y = dataset.make_datasets()["train"]
    assert len({picture.tobytes() for picture in x}) == len(x)
    assert x.min() == 0 or x.max() > 200  # a real range of values, not a flat grey


# --- the reference ----------------------------------------------------------------------


def test_reference_learns_the_full_data_set(full_data):
    """201 of the notebook's 2500 iterations: already well above chance (half the
    pictures are cats); the whole run reaches about 0.9 on the test pictures."""
    train_x, train_y, test_x, test_y = full_data
    parameters, costs = kit.reference.two_layer_model(
        train_x, train_y, (12288, 7, 1), 0.0075, 201, False
    )
    assert len(costs) == 3 and float(costs[0]) == pytest.approx(np.log(2), abs=2e-3)
    assert float(costs[-1]) < float(costs[0]) - 0.05
    train_accuracy = cases.accuracy(parameters, train_x, train_y)
    test_accuracy = cases.accuracy(parameters, test_x, test_y)
    assert train_accuracy >= 0.8, train_accuracy
    assert test_accuracy >= 0.7, test_accuracy


def test_reference_prints_the_rounded_cost_every_100_iterations():
    X, Y = np.random.default_rng(0).uniform(size=(3, 5)), np.array([[1.0, 0, 1, 0, 0]])
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        _parameters, costs = kit.reference.L_layer_model(X, Y, [3, 2, 1], 0.1, 201, True)
    lines = output.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Cost after iteration 0",
        "Cost after iteration 100",
        "Cost after iteration 200",
    ]
    assert lines[-1] == f"Cost after iteration 200: {float(costs[-1]):.6f}"


def test_the_grader_runs_the_reference_quietly(capsys):
    X, Y = np.random.default_rng(0).uniform(size=(3, 5)), np.array([[1.0, 0, 1, 0, 0]])
    quiet = kit.KIT.reference_function("L_layer_model")(X, Y, [3, 2, 1], 0.1, 101, True)
    assert capsys.readouterr().out == ""
    assert same(quiet, quietly(kit.reference.L_layer_model, X, Y, [3, 2, 1], 0.1, 101, True))
    assert kit.KIT.reference.EXERCISES == kit.EXERCISES


# --- cases ------------------------------------------------------------------------------


def test_hidden_cases_are_deterministic_and_in_contract(hidden):
    again = kit.hidden_cases(SOURCE_DIR)
    assert set(hidden) == set(kit.EXERCISES)
    for name in kit.EXERCISES:
        assert [c.label for c in hidden[name]] == [c.label for c in again[name]]
        assert all(same(c.args, d.args) for c, d in zip(hidden[name], again[name]))
        assert len(set(c.label for c in hidden[name])) == len(hidden[name])
        for case in hidden[name]:
            X, Y, dims, rate, iterations, print_cost = case.args
            assert X.shape == (dims[0], Y.shape[1]) and Y.shape[0] == 1 and dims[-1] == 1
            assert set(np.unique(Y)) == {0.0, 1.0}
            assert 1 <= iterations <= 10 if case.judge is None else iterations <= 300
        assert [c.judge is not None for c in hidden[name]][-1]  # the run on the pictures


def test_hidden_cases_are_fast_with_the_reference(hidden):
    """The best of three runs of every case: about 0.015 s for two_layer_model and
    0.03 s for L_layer_model on an idle machine, nearly all of it the run on the
    pictures; the bound leaves room for a busy one."""
    for name in kit.EXERCISES:
        function = getattr(kit.reference, name)
        total = 0.0
        for case in hidden[name]:
            times = []
            for _ in range(3):
                args = copy.deepcopy(case.args)
                started = time.perf_counter()
                quietly(function, *args)
                times.append(time.perf_counter() - started)
            total += min(times)
        assert total < 2.0, f"{name}: {total:.3f} s"


def test_the_reference_passes_every_check_and_seeds_itself(hidden):
    for name in kit.EXERCISES:
        function = getattr(kit.reference, name)
        for case in hidden[name]:
            expected = quietly(function, *copy.deepcopy(case.args))
            np.random.seed(12345)  # another global state: the same results
            args = copy.deepcopy(case.args)
            got = quietly(function, *args)
            assert same(args, case.args)  # arguments left unchanged
            assert same(expected, got)
            if case.judge is not None:
                assert case.judge(got, expected) is None


def test_a_model_that_never_updates_fails_every_hidden_case(hidden):
    for case in hidden["L_layer_model"]:
        expected = quietly(kit.reference.L_layer_model, *copy.deepcopy(case.args))
        got = no_update_L_layer_model(*copy.deepcopy(case.args))
        if case.judge is None:
            assert not same(expected, got), case.label
        else:
            message = case.judge(got, expected)
            assert message and "test pictures correctly" in message


def test_the_judge_explains_without_raising(hidden):
    case = hidden["two_layer_model"][-1]
    expected = quietly(kit.reference.two_layer_model, *copy.deepcopy(case.args))
    parameters, costs = expected
    wrong = {"W1": parameters["W1"][:2]} | {k: v for k, v in parameters.items() if k != "W1"}
    nan = {k: v * np.nan for k, v in parameters.items()}
    for output, words in (
        (None, "pair"),
        ((parameters,), "pair"),
        (([], costs), "dict"),
        (({"W1": 1}, costs), "keys"),
        ((wrong, costs), "shape"),
        ((parameters, costs[:1]), "one every 100 iterations"),
        ((parameters, tuple(costs)), "list"),
        ((nan, costs), "NaN"),
    ):
        message = case.judge(output, expected)
        assert message and words in message, (words, message)
        assert "\n" not in message


# --- the student folder ---------------------------------------------------------------------


def test_helper_module_is_generated_from_the_first_kit(tmp_path):
    source = helper.helper_module_source()
    assert source == helper.helper_module_source()
    assert "import grader" not in source and "from grader" not in source
    assert "generated" in source.splitlines()[5]
    (tmp_path / "dnn_app_utils_v3.py").write_text(source)
    module = kit.load_helper(tmp_path, "dnn_app_utils_v3")
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((4, 6)), (rng.uniform(size=(1, 6)) > 0.5).astype(float)
    parameters = step_by_step.initialize_parameters_deep([4, 3, 2, 1])
    parameters = {k: v + rng.standard_normal(v.shape) for k, v in parameters.items()}
    AL, caches = module.L_model_forward(X, parameters)
    assert same((AL, caches), step_by_step.L_model_forward(X, parameters))
    grads = module.L_model_backward(AL, Y, caches)
    assert same(grads, step_by_step.L_model_backward(AL, Y, caches))
    assert same(
        module.update_parameters(parameters, grads, 0.1),
        step_by_step.update_parameters(parameters, grads, 0.1),
    )
    assert same(module.compute_cost(AL, Y), step_by_step.compute_cost(AL, Y))
    assert same(module.initialize_parameters(5, 3, 1), step_by_step.initialize_parameters(5, 3, 1))
    assert same(
        module.initialize_parameters_deep([6, 4, 1]), helper.initialize_parameters_deep([6, 4, 1])
    )
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        p = module.predict(X, Y, parameters)
    assert same(p, (AL > 0.5).astype(float)) and printed.getvalue().startswith("Accuracy: ")


def test_helper_module_works_without_grader(tmp_path):
    """Imported by a Python that cannot import grader, from a folder holding datasets/."""
    (tmp_path / "dnn_app_utils_v3.py").write_text(helper.helper_module_source())
    (tmp_path / "datasets").mkdir()
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        (tmp_path / "datasets" / name).write_bytes((DATA_DIR / name).read_bytes())
    shadow = tmp_path / "shadow" / "grader"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no grader here')\n")
    script = (
        "import sys; sys.path[:0] = [sys.argv[1], '.']\n"
        "from dnn_app_utils_v3 import *\n"
        "train_x_orig, train_y, test_x_orig, test_y, classes = load_data()\n"
        "print(train_x_orig.shape, train_y.shape, test_x_orig.shape, test_y.shape,"
        " classes.tolist(), 'grader' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(shadow.parent)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "(209, 64, 64, 3) (1, 209) (50, 64, 64, 3) (1, 50) [b'non-cat', b'cat'] False"
    )


def test_public_tests_pass_the_reference_and_catch_a_mistake(tmp_path):
    files = kit.generated_files(SOURCE_DIR)
    assert sorted(files) == ["dnn_app_utils_v3.py", "public_tests_data.h5"]
    assert files == kit.generated_files(SOURCE_DIR)  # byte-identical releases
    (tmp_path / "public_tests_data.h5").write_bytes(files["public_tests_data.h5"])
    (tmp_path / "public_tests.py").write_bytes((SOURCE_DIR / "public_tests.py").read_bytes())
    public = kit.load_helper(tmp_path, "public_tests")
    for name in kit.EXERCISES:
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            started = time.perf_counter()
            getattr(public, f"{name}_test")(getattr(kit.reference, name))
            assert time.perf_counter() - started < 1.0
        assert printed.getvalue().strip() == "All tests passed."
    with contextlib.redirect_stdout(io.StringIO()) as printed, pytest.raises(AssertionError):
        public.L_layer_model_test(no_update_L_layer_model)
    assert "Wrong values in `parameters['W1']`" in printed.getvalue()


def test_source_notebook_follows_the_conventions():
    try:
        from grader.authoring.assignment import load_assignment
    except ImportError:  # before grader's modules moved into subpackages
        from grader.assignment import load_assignment
    assignment, _notebook = load_assignment(SOURCE_DIR)
    assert assignment.name == "dnn_application"
    assert assignment.title == "Deep Neural Network: Application"
    assert [e.name for e in assignment.exercises] == list(kit.EXERCISES)
    assert [e.points for e in assignment.exercises] == [5.0, 5.0]
    assert get_kit("dnn_application") is kit.KIT
    assert set(assignment.helper_files) == {
        "public_tests.py",
        "datasets/test_catvnoncat.h5",
        "datasets/train_catvnoncat.h5",
    }
