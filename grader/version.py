"""The installed grader's version: recorded in every result and in the resume journal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nb-autograder")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"
