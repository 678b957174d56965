"""Autograder kit for Jupyter notebook assignments.

The instructor pipeline: source notebook -> :mod:`grader.generate` -> release + solutions.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("nb-autograder")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
