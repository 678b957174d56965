"""Autograder kit for Jupyter notebook assignments.

Instructor pipeline (:mod:`grader.authoring`): source notebook -> release + solutions.
Grading pipeline (:mod:`grader.grading`): submission -> notebook -> extracted code ->
:mod:`grader.sandbox` -> checks -> score -> :mod:`grader.reports`, spread by
:mod:`grader.runners` and driven by the one engine, :mod:`grader.engine`
(``grader.grade(paths)``). Assignments are kits (:mod:`grader.assignments`).
"""

from grader.version import __version__

__all__ = ["__version__", "grade", "Options", "Limits"]


def __getattr__(name: str):
    """``grader.grade(paths, ...)``, its ``Options`` and their ``Limits``: the Python API,
    imported on first use (``import grader`` stays light for the command line)."""
    if name == "grade":
        from grader.engine import grade

        return grade
    if name == "Options":
        from grader.grading.options import Options

        return Options
    if name == "Limits":
        from grader.sandbox.server import Limits

        return Limits
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
