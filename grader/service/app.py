"""The grading service's HTTP API (tornado): who may ask what, and in which order it is
refused. Every answer is JSON; an error is ``{"error": "<one line>"}`` with its status.

The event loop only routes: SQLite and notebook parsing run in a thread executor and
grading in the :class:`~grader.engine.GradingPool`'s workers, so a notebook that loops
forever costs its own worker's time limit and nobody else's. A notebook is refused as
early as possible, before its body is read where the headers already tell (401, 404,
413, 429, 503), and a chunked body is cut off as soon as it grows past the limit.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar

from tornado.web import Application, HTTPError, RequestHandler, stream_request_body

from grader.errors import GraderError
from grader.reports.student import student_result
from grader.service.auth import HubUnavailable, User
from grader.service.settings import ON_TIME
from grader.service.state import ServiceState, notebook_problem, rate_limit_wait
from grader.service.store import utc_text

T = TypeVar("T")
API = "api/v1"
HUB_RETRY_SECONDS = 10
NAME_SHOWN = 80  # characters of an unknown assignment name echoed back


class ApiError(HTTPError):
    """A refusal with its one-line reason (and, for 429/503, when to come back)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(status)
        self.message = message
        self.retry_after = retry_after


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@stream_request_body  # no handler buffers a body it does not want
class ApiHandler(RequestHandler):
    """Authentication first, JSON errors, and the fields the request log reports.

    A request refused from its headers alone is answered at once when the client waits
    for that (``Expect: 100-continue``) or sends more than the server reads anyway;
    otherwise the body is read and thrown away first, because a client still sending
    when the connection closes sees only a reset, never the one-line reason."""

    state: ServiceState
    user: User | None = None
    assignment: str | None = None
    refused: ApiError | None = None  # answered once the body is read

    def initialize(self, state: ServiceState) -> None:
        self.state = state

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        # a name that is not UTF-8 is just an unknown assignment (404), not a 400
        return value.decode("utf-8", "replace")

    async def prepare(self) -> None:
        try:
            await self.admit()
        except ApiError as error:
            if not self.body_coming():
                raise
            self.refused = error

    async def admit(self) -> None:
        """Raise :class:`ApiError` for a request refused from its headers (401 here)."""
        try:
            user = await self.state.auth.identify(self.request.headers.get("Authorization"))
        except HubUnavailable as exc:
            raise ApiError(
                503, f"cannot check the token with JupyterHub: {exc}", HUB_RETRY_SECONDS
            ) from None
        if user is None:
            header = self.request.headers.get("Authorization")
            raise ApiError(401, "unknown token" if header else "no token (Authorization: token T)")
        self.user = user

    def body_coming(self) -> bool:
        """Whether the client is sending a body it will not stop sending for an answer,
        of a size the server reads (and throws away) before answering."""
        headers = self.request.headers
        if headers.get("Expect", "").lower() == "100-continue":
            return False
        length = headers.get("Content-Length")
        if length is None:
            return headers.get("Transfer-Encoding", "").lower() == "chunked"
        length = length.strip()
        return length.isdigit() and 0 < int(length) <= self.state.settings.body_limit // 2

    def data_received(self, chunk: bytes) -> None:
        """Bodies of requests that take none are read and dropped."""

    def answer_refusal(self) -> None:
        """Raise the refusal found in :meth:`prepare`, now that the body is read."""
        if self.refused is not None:
            raise self.refused

    def served(self, name: str) -> str:
        """``name`` if the pool grades it; a 404 for anything else (``../x`` included)."""
        self.assignment = name
        if name not in self.state.pool.assignments:
            shown = name if len(name) <= NAME_SHOWN else name[:NAME_SHOWN] + "..."
            raise ApiError(404, f"no assignment named {shown!r}")
        return name

    def instructor_only(self, what: str) -> None:
        assert self.user is not None
        if not self.user.instructor:
            raise ApiError(403, f"{what} is for instructors only")

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function`` in the service's executor: never SQLite on the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.state.executor, partial(function, *args, **kwargs))

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, allow_nan=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            message = exc.message
            if exc.retry_after is not None:
                self.set_header("Retry-After", str(max(1, math.ceil(exc.retry_after))))
        elif status_code >= 500:
            message = "internal error of the grading service"
        else:
            message = self._reason
        if status_code == 401:
            self.set_header("WWW-Authenticate", "token")
        self.send_json({"error": _one_line(message)}, status_code)


class AssignmentsHandler(ApiHandler):
    SUPPORTED_METHODS: tuple[str, ...] = ("GET",)

    async def get(self) -> None:
        self.answer_refusal()
        assignments = sorted(self.state.pool.assignments.values(), key=lambda a: a.name)
        self.send_json(
            {
                "assignments": [
                    {
                        "name": info.name,
                        "max_score": info.max_score,
                        "exercises": [
                            {"name": name, "points": points} for name, points in info.exercises
                        ],
                    }
                    for info in assignments
                ]
            }
        )


class NotebookHandler(ApiHandler):
    """POST a notebook: ``kind`` ``check`` (graded, recorded as a check) or
    ``submission`` (graded and recorded as what counts; also GET the listing)."""

    SUPPORTED_METHODS: tuple[str, ...] = ("POST",)
    kind = "check"
    body: bytearray
    received = 0
    too_large = False

    async def admit(self) -> None:
        await super().admit()
        self.served(self.path_args[0])
        self.body = bytearray()
        if self.request.method != "POST":
            return
        settings = self.state.settings
        length = self.request.headers.get("Content-Length")
        if length is not None:
            if not length.strip().isdigit():
                raise ApiError(400, "Content-Length is not a number")
            if int(length) > settings.max_bytes:
                raise ApiError(413, self.state.too_large_message(int(length)))
        if self.kind == "submission" and settings.max_per_hour is not None:
            assert self.user is not None and self.assignment is not None
            wait = await self.run(
                rate_limit_wait,
                self.state.store,
                self.user.name,
                self.assignment,
                settings.max_per_hour,
                datetime.now(timezone.utc),
            )
            if wait is not None:
                raise ApiError(
                    429,
                    f"at most {settings.max_per_hour} submissions per hour: try again in "
                    f"{timedelta(seconds=math.ceil(wait))}",
                    wait,
                )
        if self.state.pool.queued >= settings.max_queue:
            wait = self.state.queue_wait()
            raise ApiError(
                503, f"the grading queue is full: try again in {math.ceil(wait)} s", wait
            )

    def data_received(self, chunk: bytes) -> None:
        if self.refused is not None or self._finished:
            return
        self.received += len(chunk)
        if self.received > self.state.settings.max_bytes:  # a chunked body, growing
            self.too_large, self.body = True, bytearray()
            if self.received > self.state.settings.body_limit // 2:  # not worth reading on
                self.clear()
                error = ApiError(413, self.state.too_large_message(None))
                self.send_error(413, exc_info=(ApiError, error, None))
            return
        self.body += chunk

    async def post(self, name: str) -> None:
        if self._finished:
            return
        self.answer_refusal()
        if self.too_large:
            raise ApiError(413, self.state.too_large_message(None))
        assert self.user is not None
        data, self.body = bytes(self.body), bytearray()
        problem = await self.run(notebook_problem, data)
        if problem is not None:
            raise ApiError(400, problem)
        received = datetime.now(timezone.utc)
        lateness = (
            self.state.settings.lateness(name, received) if self.kind == "submission" else ON_TIME
        )
        sid = await self.run(
            self.state.store.accept,
            user=self.user.name,
            assignment=name,
            kind=self.kind,
            data=data,
            received_at=received,
            late_days=lateness.late_days,
            penalty=lateness.penalty,
            counted=lateness.counted,
        )
        self.state.in_flight += 1
        try:
            graded = self.state.grade(sid, self.user.name, name, self.kind, data)
            result = await asyncio.wrap_future(graded)
        except GraderError as exc:  # the pool closed under it: kept, graded at restart
            raise ApiError(
                503,
                f"received and kept as #{sid}, not graded yet ({exc}): it is graded "
                "when the service runs again",
                30,
            ) from None
        finally:
            self.state.in_flight -= 1
        answer = student_result(result)
        answer.update(kind=self.kind, id=sid, received_at=utc_text(received))
        if self.kind == "submission":
            answer.update(
                late=lateness.late_days > 0,
                late_days=lateness.late_days,
                late_message=lateness.message,
                counted=lateness.counted,
                penalty=lateness.penalty,
                score_after_penalty=round(result.score * (1.0 - lateness.penalty), 6),
            )
        self.send_json(answer)


class CheckHandler(NotebookHandler):
    kind = "check"


class SubmissionsHandler(NotebookHandler):
    SUPPORTED_METHODS = ("GET", "POST")
    kind = "submission"

    async def get(self, name: str) -> None:
        """A student's own submissions; an instructor's: everyone's (``?user=``,
        ``?latest=1`` for the newest counted one per student). Newest first."""
        self.answer_refusal()
        assert self.user is not None
        latest = self.get_query_argument("latest", "").lower() in ("1", "true", "yes")
        who: str | None = self.user.name
        if self.user.instructor:
            who = self.get_query_argument("user", None)
        rows = await self.run(self.state.store.submissions, name, user=who, latest=latest)
        self.send_json({"submissions": [row.to_dict() for row in rows]})


class GradesHandler(ApiHandler):
    SUPPORTED_METHODS: tuple[str, ...] = ("GET",)

    async def admit(self) -> None:
        await super().admit()
        self.served(self.path_args[0])
        self.instructor_only("grades.csv")

    async def get(self, name: str) -> None:
        self.answer_refusal()
        text = await self.run(self.state.gradebook_csv, name)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{name}-grades.csv"')
        self.finish(text.encode("utf-8"))


class NotFoundHandler(ApiHandler):
    """Any other path: still 401 without a token, then a JSON 404."""

    async def admit(self) -> None:
        await super().admit()
        raise ApiError(404, "no such resource (the API is under /api/v1/)")

    async def refuse(self, *args: str) -> None:
        self.answer_refusal()

    get = post = put = patch = delete = head = options = refuse


def log_line(handler: RequestHandler) -> None:
    """One JSON line per request on stderr: time, user, assignment, status, duration."""
    request = handler.request
    user = getattr(handler, "user", None)
    record = {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "user": user.name if isinstance(user, User) else None,
        "assignment": getattr(handler, "assignment", None),
        "method": request.method,
        "path": request.path,
        "status": handler.get_status(),
        "duration_ms": round(1000.0 * request.request_time(), 1),
    }
    sys.stderr.write(json.dumps(record) + "\n")
    sys.stderr.flush()


def make_app(state: ServiceState, base_url: str = "/") -> Application:
    """The tornado application of ``state``, under ``base_url`` (a JupyterHub service's
    prefix, e.g. ``/services/grader/``)."""
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    base, one = re.escape(base), r"([^/]+)"
    routes = [
        (f"{base}{API}/assignments", AssignmentsHandler),
        (f"{base}{API}/assignments/{one}/check", CheckHandler),
        (f"{base}{API}/assignments/{one}/submissions", SubmissionsHandler),
        (f"{base}{API}/assignments/{one}/grades\\.csv", GradesHandler),
    ]
    return Application(
        [(path, handler, {"state": state}) for path, handler in routes],
        default_handler_class=NotFoundHandler,
        default_handler_args={"state": state},
        log_function=log_line,
        compress_response=False,
        serve_traceback=False,
    )
