"""The one exception the student package raises: its message is a single line to print."""

from __future__ import annotations

from typing import Any


class GraderClientError(Exception):
    """Something the student can act on, said in one line (no traceback in the notebook).

    ``status`` is the service's HTTP status when the service answered, else None;
    ``retry_after`` the seconds to wait for a busy service or a rate limit, else None.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(" ".join(message.split()))
        self.status = status
        self.retry_after = retry_after


class NotebookNotFoundError(GraderClientError):
    """Which notebook to check could not be told, or it is not there."""


class ConfigurationError(GraderClientError):
    """The service settings are incomplete (a URL without a token, a broken grader.json)."""


class ServiceUnreachableError(GraderClientError):
    """No answer from the service's URL (down, wrong URL, no network, too slow)."""


class TokenRefusedError(GraderClientError):
    """401 or 403: the token is unknown, expired, or not allowed this."""


class NotebookTooLargeError(GraderClientError):
    """413: the notebook is over the service's size limit."""


class ServiceBusyError(GraderClientError):
    """503 (queue full) or 429 (too many submissions): wait ``retry_after`` seconds."""


class UnknownAssignmentError(GraderClientError):
    """404: the service grades no assignment of that name."""


class BadNotebookError(GraderClientError):
    """400: the service could not read the body as a notebook (its reason in the message)."""


class LocalRunError(GraderClientError):
    """The local public-test run could not finish (time limit, crash).

    ``result``: at the time limit, the run so far in the result's shape (the panel
    shows it: the exercise that looped timed out), else None.
    """

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


class RunCancelledError(LocalRunError):
    """The student cancelled the check (the panel's Cancel button): the run was stopped."""
