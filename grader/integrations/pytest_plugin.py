"""A pytest plugin: ``pytest --grade-notebook NB.ipynb`` turns each hidden check of each
exercise into a test item (``NB.ipynb::linear_forward::case-2``), so that pytest's own
``-v``, ``-k``, ``--junitxml`` and exit codes report a grade.

Registered for every pytest run through the ``pytest11`` entry point, so this module
imports only the standard library and pytest: without ``--grade-notebook`` it adds its
options and nothing else. With it, :mod:`grader.integrations.pytest_items` (and through it
the engine) is loaded, and the notebooks are graded once, during collection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from grader.integrations.pytest_items import NotebookGrading

GRADING: pytest.StashKey[NotebookGrading] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "grading notebooks with nb-autograder")
    group.addoption(
        "--grade-notebook",
        action="append",
        dest="grade_notebooks",
        default=[],
        metavar="PATH",
        help="Grade this notebook (or the notebooks in this folder; repeatable): one test "
        "per hidden check. Without other paths, only the notebooks are collected.",
    )
    group.addoption(
        "--assignment",
        dest="grade_assignment",
        default=None,
        metavar="NAME",
        help="The notebooks' assignment, when their metadata does not name it "
        "(its release: release/NAME, found as `grader grade` finds it).",
    )
    group.addoption(
        "--release",
        dest="grade_release",
        default=None,
        metavar="PATH",
        help="The released student folder to grade against (instead of --assignment).",
    )
    group.addoption(
        "--reveal-expected",
        dest="grade_reveal_expected",
        action="store_true",
        help="Show the expected values of failed hidden checks (default: only what kind "
        "of problem it was, as students see it).",
    )


def pytest_configure(config: pytest.Config) -> None:
    """With ``--grade-notebook``: find the notebooks and their release (no process yet),
    and collect the notebooks, alone unless paths were given too."""
    paths = config.getoption("grade_notebooks")
    if not paths:
        return
    from grader.integrations.pytest_items import NotebookGrading

    grading = NotebookGrading.from_config(config, paths)
    config.stash[GRADING] = grading
    notebooks = [str(path) for path in grading.notebooks]
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = notebooks
    else:
        given = {grading.resolve(arg.split("::")[0]) for arg in config.args}
        config.args = [*config.args, *(nb for nb in notebooks if grading.resolve(nb) not in given)]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    grading = parent.config.stash.get(GRADING, None)
    if grading is None or not grading.wants(file_path):
        return None
    return grading.collector(file_path, parent)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    grading = config.stash.get(GRADING, None)
    return None if grading is None else grading.header()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    grading = config.stash.get(GRADING, None)
    lines = [] if grading is None else grading.summary()
    if lines:
        terminalreporter.section("grader")
        for line in lines:
            terminalreporter.write_line(line)
