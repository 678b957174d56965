"""One exception tree for the whole kit; :mod:`grader.cli` maps it to exit codes."""

from __future__ import annotations


class GraderError(Exception):
    """Base of every error the kit reports to a user as one line."""

    exit_code = 1


class UsageError(GraderError):
    """The command was called wrongly: a missing path, an unknown assignment, a bad flag."""

    exit_code = 2


class UnknownAssignmentError(UsageError):
    """No assignment kit of that name is installed."""


class NotGradedError(GraderError):
    """Reports are written, but some submissions could not be graded because of a fault of
    the grader or of the machine (status ``not_graded``): a rerun grades them again."""

    exit_code = 3


class NotebookReadError(GraderError):
    """A file could not be read as a notebook (bad JSON, binary, unknown format)."""


class SourceNotebookError(GraderError):
    """The instructor's source notebook breaks a convention the generator relies on."""

    def __init__(self, path, message: str, cell: str | None = None):
        where = f"{path}" if cell is None else f"{path}, cell {cell}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.cell = cell


class GenerationError(GraderError):
    """Building the release or the solutions failed (e.g. the solved notebook raised)."""


class StaleReleaseError(GraderError):
    """``release --check`` found committed files that differ from what the source generates."""

    def __init__(self, stale: list[str]):
        super().__init__("stale generated files: " + ", ".join(stale))
        self.stale = stale
