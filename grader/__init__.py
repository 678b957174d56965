"""Autograder kit for Jupyter notebook assignments.

Instructor pipeline: source notebook -> :mod:`grader.generate` -> release + solutions.
Grading pipeline: submission -> :mod:`grader.notebooks` -> :mod:`grader.extract` ->
:mod:`grader.sandbox` -> :mod:`grader.checks` -> :mod:`grader.score` -> :mod:`grader.reports`,
driven by :mod:`grader.batch` (``grader.grade(paths)``).
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("nb-autograder")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"

__all__ = ["__version__", "grade", "Options"]


def __getattr__(name: str):
    """``grader.grade(paths, ...)``: the Python API, imported on first use."""
    if name in ("grade", "Options"):
        from grader import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
