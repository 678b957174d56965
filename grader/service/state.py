"""What the service's request handlers share, and the work they hand to threads: the
pool, the store, the settings, and the one path from an accepted notebook to a result
recorded in the store (also taken at start for what a killed server left unfinished).

Nothing here runs on the event loop but :meth:`ServiceState.grade`'s few lines, which
only queue work; the store is called from the executor's threads.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from grader.results import SubmissionResult
from grader.service.auth import Authenticator
from grader.service.settings import ServiceSettings

if TYPE_CHECKING:
    from grader.engine import AssignmentInfo
    from grader.results import Environment
    from grader.service.store import Store

HOUR = timedelta(hours=1)
DEFAULT_SECONDS = 2.0  # the guess of one notebook's grading time before any is graded


class Pool(Protocol):
    """What the service needs of :class:`grader.engine.GradingPool` (tests pass fakes)."""

    assignments: dict[str, AssignmentInfo]
    environment: Environment | None

    @property
    def jobs(self) -> int: ...

    @property
    def queued(self) -> int: ...

    @property
    def mean_seconds(self) -> float: ...

    def submit(self, assignment: str, student: str, label: str, data: bytes) -> Future: ...

    def close(self) -> None: ...


def label(kind: str, sid: int) -> str:
    """The ``submission`` of a stored notebook's result (and of its gradebook row)."""
    return f"{kind}-{sid}.ipynb"


def notebook_problem(data: bytes) -> str | None:
    """Why ``data`` is not a notebook, in one line (None when it is one): the service
    answers 400 rather than grading a file ``grader grade`` would call unreadable."""
    try:
        notebook = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"the body is not JSON ({exc})"
    if not isinstance(notebook, dict):
        return "the body is JSON but not a notebook (expected an object)"
    if not isinstance(notebook.get("cells"), list):
        return "the body is JSON but not a notebook (no 'cells' list)"
    version = notebook.get("nbformat")
    if not isinstance(version, int) or isinstance(version, bool):
        return "the body is JSON but not a notebook (no integer 'nbformat')"
    return None


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rate_limit_wait(
    store: Store, user: str, assignment: str, limit: int, now: datetime
) -> float | None:
    """Seconds until ``user`` may submit again, or None while under ``limit`` per hour."""
    since = now - HOUR
    if store.count_since(user, assignment, since) < limit:
        return None
    recent = [
        row for row in store.submissions(assignment, user=user) if _moment(row.received_at) >= since
    ]  # newest first: once the limit-th newest is an hour old, one more may come
    if len(recent) < limit:
        return 1.0
    return max(1.0, (_moment(recent[limit - 1].received_at) + HOUR - now).total_seconds())


def _settle(
    future: Future, result: SubmissionResult | None = None, exception: BaseException | None = None
) -> None:
    """Settle ``future`` unless its waiter gave up (a request cancelled at a stop): the
    result is in the store either way."""
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


@dataclass
class ServiceState:
    pool: Pool
    store: Store
    settings: ServiceSettings
    auth: Authenticator
    executor: Executor
    grader_version: str
    warn: Callable[[str], None] = print
    in_flight: int = 0  # requests waiting for a grade (a graceful stop waits for them)

    def grade(self, sid: int, user: str, assignment: str, kind: str, data: bytes) -> Future:
        """Grade accepted notebook ``sid``; the future settles once its result is stored.

        The store is written from the executor when the pool's future settles, whether
        or not anyone still waits for it (a client that hung up still gets its grade)."""
        done: Future = Future()
        graded = self.pool.submit(assignment, user, label(kind, sid), data)

        def store_it(result: SubmissionResult) -> None:
            try:
                self.store.finish(sid, result, self.grader_version)
            except BaseException as exc:  # noqa: BLE001 - told to the waiting request
                _settle(done, exception=exc)
            else:
                _settle(done, result=result)

        def settled(future: Future) -> None:
            exc = future.exception()
            if exc is not None:  # left unfinished in the store: graded at the next start
                _settle(done, exception=exc)
                return
            try:
                self.executor.submit(store_it, future.result())
            except RuntimeError as error:  # the executor is shut down: stopping
                _settle(done, exception=error)

        graded.add_done_callback(settled)
        return done

    def regrade_unfinished(self) -> int:
        """Queue every notebook accepted and never finished (a killed server's): their
        results are stored as they come. Runs in a thread; the number queued."""
        rows = self.store.unfinished()
        queued = 0
        for row in rows:
            if row.assignment not in self.pool.assignments:
                self.warn(f"submission #{row.id}: assignment {row.assignment} is not served")
                continue
            data = self.store.notebook(row.content_hash)
            self.grade(row.id, row.user, row.assignment, row.kind, data)
            queued += 1
        return queued

    def queue_wait(self) -> float:
        """Seconds until the queue has room, roughly: the mean grading time times the
        notebooks ahead, shared by the workers."""
        mean = self.pool.mean_seconds or DEFAULT_SECONDS
        return max(1.0, math.ceil(mean * self.pool.queued / max(1, self.pool.jobs)))

    def too_large_message(self, length: int | None) -> str:
        limit = self.settings.max_bytes
        size = f" ({length:,} bytes)" if length is not None else ""
        return f"the notebook is too large{size}: the limit is {limit:,} bytes"

    def gradebook_csv(self, assignment: str) -> str:
        """The instructor's ``grades.csv`` of ``assignment`` (latest counted submission
        per student, ``missing`` for the roster's others), by ``grader grade``'s writer."""
        from grader.reports.csv_report import grades_csv
        from grader.service.gradebook import batch_from_store

        info = self.pool.assignments[assignment]
        names = [name for name, _ in info.exercises]
        batch = batch_from_store(
            self.store,
            assignment,
            self.pool.environment,
            exercises=names,
            max_score=info.max_score,
        )
        return grades_csv(batch, names)
