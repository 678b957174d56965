"""Shared fixtures: one generated release per session (helpers are in support.py).

Generation executes the solved notebook in a Jupyter kernel (a few seconds), so the
generated release + solutions are produced ONCE per session, with the real CLI, into a
temporary folder, and every test that only reads them shares that result.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from support import (
    ASSIGNMENT,
    SOURCE_DIR,
    SOURCE_ROOT,
    GeneratedTree,
    load_module,
    read_expected_prints,
)

from grader.cli import cli

pytest_plugins = ["pytester"]  # tests/test_pytest_plugin.py runs pytest itself


@pytest.fixture(scope="session")
def expected_prints() -> dict[str, str]:
    return read_expected_prints()


@pytest.fixture(scope="session")
def test_cases() -> ModuleType:
    """The source folder's testCases module (the notebook's example inputs)."""
    return load_module(SOURCE_DIR / "testCases.py", "_tests_testCases")


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> GeneratedTree:
    """`grader release dnn_step_by_step` into a fresh temporary folder, once per session."""
    root = tmp_path_factory.mktemp("generated")
    release_root, solutions_root = root / "release", root / "solutions"
    result = CliRunner().invoke(
        cli,
        [
            "release",
            ASSIGNMENT,
            "--source",
            str(SOURCE_ROOT),
            "--release",
            str(release_root),
            "--solutions",
            str(solutions_root),
        ],
    )
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    # tests only read these folders; a test that needs to change one copies it first
    return GeneratedTree(
        root,
        release_root,
        solutions_root,
        release_root / ASSIGNMENT,
        solutions_root / ASSIGNMENT,
        result.stdout,
    )


@pytest.fixture
def source_copy(tmp_path) -> Path:
    """A private copy of source_notebooks/ holding only this assignment (to corrupt)."""
    root = tmp_path / "source_notebooks"
    shutil.copytree(
        SOURCE_DIR,
        root / ASSIGNMENT,
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    return root


@pytest.fixture(scope="session")
def student_wheel(tmp_path_factory) -> Path:
    """The student package's wheel (student/), built once per session."""
    from student_support import build_wheel  # puts student/ on sys.path: only when used

    return build_wheel(tmp_path_factory.mktemp("student-wheel"))


@pytest.fixture(scope="session")
def student_venv_python(tmp_path_factory, student_wheel) -> Path:
    """A fresh venv with only the student wheel installed (made once per session); its
    python. Shared by the package's own tests and those against a running service."""
    from student_support import make_venv

    return make_venv(tmp_path_factory.mktemp("student-venv") / "venv", student_wheel)
