"""Autograder kit for Jupyter notebook assignments.

Instructor pipeline: source notebook -> :mod:`grader.authoring.generate` -> release + solutions.
Grading pipeline: submission -> :mod:`grader.grading.notebooks` -> :mod:`grader.grading.extract` ->
:mod:`grader.sandbox.server` -> :mod:`grader.grading.checks` -> :mod:`grader.grading.score` -> :mod:`grader.reports`,
driven by :mod:`grader.grading.batch` (``grader.grade(paths)``).
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("nb-autograder")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"

__all__ = ["__version__", "grade", "Options", "Limits"]


def __getattr__(name: str):
    """``grader.grade(paths, ...)``, its ``Options`` and their ``Limits``: the Python API,
    imported on first use (``import grader`` stays light for the command line)."""
    if name in ("grade", "Options"):
        from grader.grading import batch

        return getattr(batch, name)
    if name == "Limits":
        from grader.sandbox.server import Limits

        return Limits
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
