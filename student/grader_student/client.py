"""The grading service's HTTP API, seen from a student's kernel (standard library only).

Every failure becomes a :class:`~grader_student.errors.GraderClientError` whose message
says, in one line, what happened and what to do; the service's own reason (its
``{"error": "..."}`` body) is kept in the line where it helps.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from grader_student.errors import (
    BadNotebookError,
    GraderClientError,
    NotebookTooLargeError,
    ServiceBusyError,
    ServiceUnreachableError,
    TokenRefusedError,
    UnknownAssignmentError,
)
from grader_student.locate import Service

API = "/api/v1"
USER_AGENT = "nb-grader-student"


def endpoint(service: Service, assignment: str, kind: str) -> str:
    """The URL of ``check`` or ``submissions`` for ``assignment`` (name quoted whole)."""
    name = urllib.parse.quote(assignment, safe="")
    return f"{service.url}{API}/assignments/{name}/{kind}"


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds, or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def wait_words(seconds: float | None) -> str:
    """'in 30 s' / 'in 2 min' / 'in a moment'."""
    if seconds is None:
        return "in a moment"
    if seconds < 120:
        return f"in {max(1, round(seconds))} s"
    return f"in {round(seconds / 60)} min"


def _reason(body: bytes) -> str:
    """The service's one-line reason from an error body, or ''."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    reason = parsed.get("error") if isinstance(parsed, dict) else None
    return " ".join(str(reason).split()) if reason else ""


def _http_error(
    status: int, reason: str, retry: float | None, assignment: str, size: int
) -> GraderClientError:
    """The one-line error for an HTTP status the service answered with."""
    said = f": {reason}" if reason else ""
    if status in (401, 403):
        what = "refused your token" if status == 401 else "does not allow this for your token"
        return TokenRefusedError(
            f"the grading service {what} ({status}{said}); check GRADER_TOKEN "
            "or the token in grader.json",
            status=status,
        )
    if status == 404:
        return UnknownAssignmentError(
            f"the grading service has no assignment {assignment!r} (404{said})", status=status
        )
    if status == 413:
        return NotebookTooLargeError(
            f"the notebook is too large for the grading service ({size / 1e6:.1f} MB, 413{said}); "
            "clear large outputs (Edit > Clear All Outputs), save, and try again",
            status=status,
        )
    if status == 503:
        return ServiceBusyError(
            f"the grading service is busy (queue full{said}); try again {wait_words(retry)}",
            status=status,
            retry_after=retry,
        )
    if status == 429:
        return ServiceBusyError(
            f"too many submissions for now (429{said}); try again {wait_words(retry)}",
            status=status,
            retry_after=retry,
        )
    if status == 400:
        return BadNotebookError(
            f"the grading service could not read the notebook{said or ' (400)'}", status=status
        )
    return GraderClientError(f"the grading service failed ({status}{said})", status=status)


def post_notebook(
    service: Service, assignment: str, kind: str, data: bytes, timeout: float
) -> dict[str, Any]:
    """POST the notebook's bytes to ``kind`` (``check`` or ``submissions``); the parsed
    JSON answer. ``timeout`` bounds the wait for the answer (grading included)."""
    url = endpoint(service, assignment, kind)
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Authorization": f"token {service.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read() if error.fp is not None else b""
        retry = _retry_after(error.headers.get("Retry-After") if error.headers else None)
        raise _http_error(error.code, _reason(body), retry, assignment, len(data)) from None
    except TimeoutError:
        raise ServiceUnreachableError(
            f"the grading service at {service.url} did not answer within {timeout:g} s"
        ) from None
    except urllib.error.URLError as error:
        why = getattr(error.reason, "strerror", None) or error.reason
        raise ServiceUnreachableError(
            f"cannot reach the grading service at {service.url} ({why}); "
            "check GRADER_SERVICE_URL and your network"
        ) from None
    except (OSError, ValueError) as error:  # connection reset, a malformed URL
        raise ServiceUnreachableError(
            f"cannot reach the grading service at {service.url} ({error})"
        ) from None
    try:
        result = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        result = None
    if not isinstance(result, dict) or not isinstance(result.get("exercises"), dict):
        raise GraderClientError(f"the grading service at {service.url} answered with no result")
    return result
