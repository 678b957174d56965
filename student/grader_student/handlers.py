"""The server extension's HTTP API, on jupyter_server's APIHandler.

    POST {base_url}grader-student/check   {"path": "dir/nb.ipynb", "request_id": "..."}
    POST {base_url}grader-student/submit  (the same)
    POST {base_url}grader-student/cancel  {"request_id": "..."}

Every method is ``@tornado.web.authenticated`` (the token or the login cookie) and, being
a POST on an APIHandler, XSRF-checked by jupyter_server when the cookie is what
authenticates. The work runs in a thread pool: a notebook that loops forever holds one
thread until its time limit (or a Cancel), never the event loop. An answer is the run's
JSON (see ``runs.run``); an error is one line, ``{"error": "..."}``, with its status.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from grader_student.errors import GraderClientError, RunCancelledError
from grader_student.runs import Jobs, Limits, RequestError, http_status, run

NAMESPACE = "grader-student"
POLL_SECONDS = 0.1  # how often a waiting request looks for its Cancel


@dataclass
class Backend:
    """What every handler shares: the root, the limits, the runs in progress."""

    root: Path
    limits: Limits
    executor: ThreadPoolExecutor
    jobs: Jobs = field(default_factory=Jobs)


class _Base(APIHandler):
    """Parsing and one-line errors for the extension's handlers."""

    backend: Backend

    def initialize(self, backend: Backend) -> None:
        self.backend = backend

    def fail(self, status: int, message: str, retry_after: float | None = None) -> None:
        self.set_status(status)
        if retry_after is not None:
            self.set_header("Retry-After", str(max(1, round(retry_after))))
        self.finish(json.dumps({"error": " ".join(str(message).split())}))

    def body(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise RequestError("the request body is not JSON", status=400) from None
        if not isinstance(parsed, dict):
            raise RequestError("the request body should be a JSON object", status=400)
        return parsed


class _RunHandler(_Base):
    """Check or submit a notebook (``kind``), in a thread; cancelled by /cancel or by
    the browser closing the connection (its fetch aborted)."""

    kind = "check"
    request_id: str | None = None

    async def _answer(self) -> None:
        try:
            body = self.body()
            self.request_id = str(body.get("request_id") or uuid.uuid4())
            flag = self.backend.jobs.start(self.request_id)
        except GraderClientError as error:
            self.fail(http_status(error), str(error))
            return
        loop = asyncio.get_running_loop()
        backend = self.backend
        future = loop.run_in_executor(
            backend.executor, run, self.kind, backend.root, body.get("path"), backend.limits, flag
        )
        try:
            while not future.done():
                if flag.is_set():  # a service mode run: its thread is left to finish
                    future.add_done_callback(_consume)
                    raise RunCancelledError(f"the {self.kind} was cancelled")
                await asyncio.wait([future], timeout=POLL_SECONDS)
            answer = future.result()
        except GraderClientError as error:
            self.fail(http_status(error), str(error), error.retry_after)
            return
        except Exception as error:  # a bug, or the disk: logged, and still one line
            self.log.exception("grader_student: the %s of %r failed", self.kind, body.get("path"))
            self.fail(500, f"the {self.kind} failed on the Jupyter server: {error!r}")
            return
        finally:
            backend.jobs.finish(self.request_id)
        answer["request_id"] = self.request_id
        self.finish(json.dumps(answer))

    def on_connection_close(self) -> None:
        if self.request_id is not None:
            self.backend.jobs.cancel(self.request_id)
        super().on_connection_close()


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned run's outcome (so that asyncio logs no 'never retrieved')."""
    if not future.cancelled():
        future.exception()


class CheckHandler(_RunHandler):
    kind = "check"

    @tornado.web.authenticated
    async def post(self) -> None:
        await self._answer()


class SubmitHandler(_RunHandler):
    kind = "submit"

    @tornado.web.authenticated
    async def post(self) -> None:
        await self._answer()


class CancelHandler(_Base):
    """Stop the run of a ``request_id``: a local run's process is killed at once."""

    @tornado.web.authenticated
    def post(self) -> None:
        try:
            request_id = self.body().get("request_id")
        except GraderClientError as error:
            self.fail(http_status(error), str(error))
            return
        if not isinstance(request_id, str) or not request_id:
            self.fail(400, 'give the run\'s id: {"request_id": "..."}')
            return
        self.finish(json.dumps({"cancelled": self.backend.jobs.cancel(request_id)}))


HANDLERS: dict[str, type[_Base]] = {
    "check": CheckHandler,
    "submit": SubmitHandler,
    "cancel": CancelHandler,
}


def setup_handlers(web_app: tornado.web.Application, backend: Backend) -> None:
    """Route ``{base_url}grader-student/<name>`` to each handler."""
    base_url = web_app.settings["base_url"]
    routes = [
        (url_path_join(base_url, NAMESPACE, name), handler, {"backend": backend})
        for name, handler in HANDLERS.items()
    ]
    web_app.add_handlers(".*$", routes)
