"""What the server extension does for one request, without the web framework.

The panel names a notebook by its path relative to the Jupyter server's root; this
module confines that path to the root, then checks or submits the saved notebook as
``check()`` and ``submit()`` do (the same settings: environment, then ``grader.json``
next to the notebook, then the hub's token), and says which back end answered. Standard
library only, like the rest of the package: the handlers (``handlers.py``) only parse
requests and run these functions in a thread, off the server's event loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from grader_student import client, local, table
from grader_student.errors import (
    BadNotebookError,
    ConfigurationError,
    GraderClientError,
    LocalRunError,
    NotebookNotFoundError,
    NotebookTooLargeError,
    RunCancelledError,
    ServiceBusyError,
    ServiceUnreachableError,
    UnknownAssignmentError,
)
from grader_student.locate import (
    CONFIG_NAMES,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    assignment_name,
    find_service,
    read_notebook,
)

NO_SERVICE_SUBMIT = (
    f"submitting needs the grading service: set {URL_VARIABLE} and {TOKEN_VARIABLE} "
    f"for the Jupyter server, or put {CONFIG_NAMES[0]} next to the notebook"
)
RECEIPT_FIELDS = (
    "id",
    "received_at",
    "late",
    "late_days",
    "late_message",
    "counted",
    "penalty",
    "score",
    "max_score",
    "score_after_penalty",
)


class RequestError(GraderClientError):
    """A request this extension refuses (a bad path, a missing notebook): ``status`` is
    the HTTP status to answer with."""


@dataclass(frozen=True)
class Limits:
    """Seconds a local run may take, and a service's answer may take to come."""

    local_timeout: float = local.DEFAULT_TIMEOUT
    service_timeout: float = local.DEFAULT_TIMEOUT


def notebook_at(root: Path, relative: Any) -> Path:
    """The notebook file at ``relative`` (a server path: '/'-separated, relative to
    ``root``), refusing what would leave the root: absolute paths, '..', a symlink out."""
    if not isinstance(relative, str) or not relative.strip():
        raise RequestError(
            'give the notebook\'s path: {"path": "folder/notebook.ipynb"}', status=400
        )
    pure = PurePosixPath(relative.strip())
    if pure.is_absolute() or "\\" in relative or ".." in pure.parts:
        raise RequestError(
            f"refused path {relative!r}: give it relative to the server's root, without '..'",
            status=400,
        )
    if pure.suffix != ".ipynb":
        raise RequestError(f"{relative} is not a notebook (.ipynb)", status=400)
    top = root.resolve()
    path = top.joinpath(*pure.parts).resolve()
    if not path.is_relative_to(top):
        raise RequestError(
            f"refused path {relative!r}: it leads outside the server's root", status=403
        )
    if not path.is_file():
        raise RequestError(f"no notebook at {relative}", status=404)
    return path


def http_status(error: GraderClientError) -> int:
    """The status the server extension answers with for ``error``.

    The service's refusals of the notebook keep their status (400, 404, 413, 429, 503);
    its refusal of the token is a 502 (a 401/403 would read as the Jupyter server's own).
    """
    if isinstance(error, RequestError) and error.status:
        return error.status
    if isinstance(error, (NotebookNotFoundError, ConfigurationError)):
        return 400
    if isinstance(error, RunCancelledError):
        return 409
    if isinstance(error, LocalRunError):
        return 422
    if isinstance(error, ServiceUnreachableError):
        return 504 if "did not answer within" in str(error) else 502
    kinds = (BadNotebookError, UnknownAssignmentError, NotebookTooLargeError, ServiceBusyError)
    if isinstance(error, kinds) and error.status:
        return error.status
    return 502 if error.status else 500


def receipt(result: dict[str, Any]) -> dict[str, Any]:
    """A submission's receipt: the service's fields, and the lines submit() prints."""
    fields = {name: result[name] for name in RECEIPT_FIELDS if name in result}
    return {**fields, "text": table.receipt(result)}


def run(
    kind: str, root: Path, relative: Any, limits: Limits, cancel: threading.Event | None = None
) -> dict[str, Any]:
    """``kind`` ('check' or 'submit') the saved notebook at ``relative``: the answer
    ``{"source": "service"|"local", "assignment", "path", "result", "receipt"?}``.

    A local run stopped at its time limit answers too: its ``result`` holds the run so
    far, the exercise that looped marked 'timeout', and its ``error`` the reason.
    """
    path = notebook_at(root, relative)
    data, notebook = read_notebook(path)
    name = assignment_name(notebook, path)
    service = find_service(path.parent)
    answer: dict[str, Any] = {"assignment": name, "path": str(relative).strip()}
    if service is not None:
        endpoint = "submissions" if kind == "submit" else "check"
        result = client.post_notebook(service, name, endpoint, data, limits.service_timeout)
        answer.update(source="service", result=result)
        if kind == "submit":
            answer["receipt"] = receipt(result)
        return answer
    if kind == "submit":
        raise ConfigurationError(NO_SERVICE_SUBMIT)
    try:
        result = local.run_public_tests(notebook, path.parent, limits.local_timeout, cancel)
    except LocalRunError as error:
        if isinstance(error, RunCancelledError) or error.result is None:
            raise
        result = error.result
    answer.update(source="local", result=result)
    return answer


class Jobs:
    """The runs in progress by request id, so that a Cancel can stop its run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: dict[str, threading.Event] = {}

    def start(self, request_id: str) -> threading.Event:
        """A fresh cancel flag for ``request_id`` (a second run of one id refused)."""
        with self._lock:
            if request_id in self._flags:
                raise RequestError(f"request {request_id!r} is already running", status=409)
            flag = self._flags[request_id] = threading.Event()
            return flag

    def cancel(self, request_id: str) -> bool:
        """Set the run's cancel flag; False when no run of that id is in progress."""
        with self._lock:
            flag = self._flags.get(request_id)
        if flag is None:
            return False
        flag.set()
        return True

    def finish(self, request_id: str) -> None:
        with self._lock:
            self._flags.pop(request_id, None)

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._flags)
