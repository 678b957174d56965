"""Long-lived workers for a service: notebooks arrive one at a time, for any assignment.

A batch (:mod:`grader.runners.local`) forks its workers for one list of files and stops
them at its end. The grading service cannot: requests arrive while others are graded,
and a worker that loads numpy and starts a sandbox per request would cost more than the
grading. A :class:`WorkerPool` forks its workers once, from the grader with every
assignment prepared (each worker inherits the :class:`~grader.grading.pipeline.Context`
of each, nothing pickled), and gives each one notebook at a time, so that a notebook
that waits out its time limits holds up only its own worker, never the notebooks queued
behind it. A dispatcher thread hands the work out and settles a
:class:`concurrent.futures.Future` per notebook; callers (an event loop, threads) wait on
those. :class:`RunnerPool` offers the same surface over any
:class:`~grader.runners.Runner`, e.g. a Dask cluster.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait as wait_connections
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import GraderError
from grader.grading.options import Options, new_sandbox
from grader.grading.pipeline import Context, grade_bytes, ungraded
from grader.grading.submissions import Submission, content_hash
from grader.results import NOT_GRADED, SubmissionResult, submission_from_dict, submission_to_dict

if TYPE_CHECKING:
    from grader.runners import Runner
    from grader.sandbox import Sandbox

TRIES = 2  # a notebook whose worker died is given to a new worker once more
# a worker busy this long is probably waiting out a time limit (a correct notebook takes
# a fraction of a second): while notebooks wait, a spare worker is forked in its place,
# up to twice ``jobs`` in all, and a spare idle this long is stopped again
STUCK_SECONDS = 1.0
SPARE_IDLE_SECONDS = 30.0


class PoolClosed(GraderError):
    """The pool was closed before this notebook was graded."""


@dataclass
class _Task:
    assignment: str
    student: str
    label: str
    data: bytes
    future: Future
    tries: int = 0
    started: float = 0.0


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    task: _Task | None = None
    idle_since: float = field(default_factory=time.monotonic)


class _Timing:
    """The mean grading time of recent notebooks (a service's estimate of a wait)."""

    def __init__(self) -> None:
        self.mean = 0.0

    def add(self, seconds: float) -> None:
        self.mean = seconds if self.mean == 0.0 else 0.9 * self.mean + 0.1 * seconds


class WorkerPool:
    """``jobs`` forked workers grading notebooks of the ``contexts``' assignments.

    ``sandboxes``: already started, one per worker (a worker forked without one, or a
    replacement for one that died, starts its own with ``options``)."""

    def __init__(
        self,
        contexts: Mapping[str, Context],
        jobs: int,
        options: Options,
        sandboxes: Sequence[Sandbox] = (),
    ) -> None:
        self.contexts, self.options, self.jobs = dict(contexts), options, max(1, jobs)
        self.timing = _Timing()
        self._lock = threading.Lock()
        self._waiting: collections.deque[_Task] = collections.deque()
        self._running = 0
        self._closed = False
        self._wake_reader, self._wake_writer = os.pipe()
        self._workers: list[_Worker] = []
        self._retired: list[_Worker] = []  # spares told to stop, not yet reaped
        for index in range(self.jobs):
            self._workers.append(self._fork(sandboxes, index))
        for sandbox in sandboxes:  # each is its worker's now
            sandbox.hand_over(reap=True)
        self._thread = threading.Thread(target=self._dispatch, name="grader-pool", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        """Notebooks submitted and not yet graded (waiting or running)."""
        with self._lock:
            return len(self._waiting) + self._running

    def submit(self, assignment: str, student: str, label: str, data: bytes) -> Future:
        """Queue one notebook; its future gets the :class:`SubmissionResult`."""
        if assignment not in self.contexts:
            raise GraderError(f"unknown assignment {assignment!r}")
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise PoolClosed("the grading pool is closed")
            self._waiting.append(_Task(assignment, student, label, data, future))
        os.write(self._wake_writer, b".")
        return future

    def close(self) -> None:
        """Stop the workers; notebooks not graded yet get :class:`PoolClosed`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        os.write(self._wake_writer, b".")
        self._thread.join()
        for worker in self._workers:  # an idle one ends itself; a busy one is stopped now
            with contextlib.suppress(OSError, ValueError):
                if worker.task is None:
                    worker.connection.send(None)
                else:
                    worker.process.terminate()
        for worker in self._workers + self._retired:
            _reap(worker, grace=10.0)
        os.close(self._wake_reader)
        os.close(self._wake_writer)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the dispatcher thread -------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                closed = self._closed
            if closed:
                break
            self._hand_out()
            self._resize()
            self._hand_out()
            busy = {w.connection: w for w in self._workers if w.task is not None}
            with self._lock:
                watch = bool(self._waiting) or len(self._workers) > self.jobs
            ready = wait_connections([self._wake_reader, *busy], 0.5 if watch else None)
            for item in ready:
                if item == self._wake_reader:
                    os.read(self._wake_reader, 4096)
                else:
                    self._settle(busy[item])  # type: ignore[index]
        with self._lock:
            left = [*self._waiting, *(w.task for w in self._workers if w.task is not None)]
            self._waiting.clear()
        for task in left:
            if task is not None and not task.future.done():
                task.future.set_exception(PoolClosed("the grading service stopped"))

    def _hand_out(self) -> None:
        for worker in self._workers:
            if worker.task is not None:
                continue
            with self._lock:
                task = self._waiting.popleft() if self._waiting else None
                if task is not None and (task.tries or task.future.set_running_or_notify_cancel()):
                    self._running += 1
                else:
                    task = None
            if task is None:
                if not self._waiting:
                    return
                continue
            worker.task, task.started = task, time.monotonic()
            message = (task.assignment, task.student, task.label, task.data)
            try:
                worker.connection.send(message)
            except (OSError, ValueError):
                self._lost(worker)

    def _resize(self) -> None:
        """A spare worker while stuck ones hold up waiting notebooks; spares that have
        been idle a while stop."""
        now = time.monotonic()
        with self._lock:
            waiting = bool(self._waiting)
        stuck = sum(1 for w in self._workers if w.task and now - w.task.started > STUCK_SECONDS)
        working = len(self._workers) - stuck  # those that are not waiting out a limit
        if waiting and working < self.jobs and len(self._workers) < 2 * self.jobs:
            self._workers.append(self._fork((), len(self._workers)))
        for worker in list(self._workers):
            spare = len(self._workers) > self.jobs
            if spare and worker.task is None and now - worker.idle_since > SPARE_IDLE_SECONDS:
                self._workers.remove(worker)
                with contextlib.suppress(OSError, ValueError):
                    worker.connection.send(None)
                self._retired.append(worker)
        for worker in list(self._retired):
            if not worker.process.is_alive():
                self._retired.remove(worker)
                _reap(worker, grace=0.0)

    def _settle(self, worker: _Worker) -> None:
        task = worker.task
        assert task is not None
        try:
            data, error = worker.connection.recv()
        except (EOFError, OSError, ValueError):
            self._lost(worker)
            return
        worker.task, worker.idle_since = None, time.monotonic()
        self.timing.add(time.monotonic() - task.started)
        with self._lock:
            self._running -= 1
        if data is not None:
            task.future.set_result(submission_from_dict(data))
        else:
            task.future.set_result(self._not_graded(task, error))

    def _lost(self, worker: _Worker) -> None:
        """A worker died (never the submission's doing: that runs in the sandbox): a
        new one takes its place, and its notebook is tried once more."""
        task, worker.task = worker.task, None
        _reap(worker, grace=1.0)
        exit_code = worker.process.exitcode
        self._workers[self._workers.index(worker)] = self._fork((), 0)
        if task is None:
            return
        task.tries += 1
        with self._lock:
            self._running -= 1
            if task.tries < TRIES:
                self._waiting.appendleft(task)
                return
        reason = f"its grading worker stopped (exit code {exit_code}) twice"
        task.future.set_result(self._not_graded(task, reason))

    def _not_graded(self, task: _Task, reason: str | None) -> SubmissionResult:
        return ungraded(
            task.student,
            task.label,
            "not graded because of a fault of the grader or of its machine "
            f"({reason}); grading it again may succeed",
            content_hash(task.data),
            self.contexts[task.assignment],
            NOT_GRADED,
        )

    def _fork(self, sandboxes: Sequence[Sandbox], index: int) -> _Worker:
        fork = multiprocessing.get_context("fork")
        ours, theirs = fork.Pipe()
        # the worker closes the pool's ends it inherits, so that it sees EOF once the
        # pool is gone, killed even
        parents_ends = [worker.connection for worker in self._workers] + [ours]
        process = fork.Process(
            target=_worker_main,
            name="grader-pool-worker",
            daemon=True,
            args=(theirs, self.contexts, self.options, index, sandboxes, parents_ends),
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)


def _reap(worker: _Worker, grace: float) -> None:
    worker.process.join(grace)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()
    worker.connection.close()


def _worker_main(
    connection: Connection,
    contexts: Mapping[str, Context],
    options: Options,
    index: int,
    sandboxes: Sequence[Sandbox],
    parents_ends: Sequence[Connection],
) -> None:
    """One worker: grade each notebook that arrives, until told to stop or the pool is
    gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for end in parents_ends:
        end.close()
    sandbox: Sandbox | None = sandboxes[index] if index < len(sandboxes) else None
    for other in sandboxes:
        if other is not sandbox:
            other.hand_over(reap=False)
    if sandbox is None:  # a spare or a replacement: ready before its first notebook
        with contextlib.suppress(Exception):  # else tried again (and told) per notebook
            sandbox = new_sandbox(options)
    try:
        while True:
            try:
                task = connection.recv()
            except (EOFError, OSError):
                return
            if task is None:
                return
            assignment, student, label, data = task
            try:
                if sandbox is None:
                    sandbox = new_sandbox(options)
                result = grade_bytes(student, label, data, sandbox, contexts[assignment])
                reply: tuple[dict | None, str | None] = (submission_to_dict(result), None)
            except Exception as exc:  # a bug or a broken sandbox, never the submission
                reply = (None, f"{type(exc).__name__}: {exc}")
            try:
                connection.send(reply)
            except OSError:
                return
    finally:
        if sandbox is not None:
            sandbox.close()


class RunnerPool:
    """The pool's surface over a batch :class:`~grader.runners.Runner` (e.g. a Dask
    cluster): each notebook is a batch of one, run from a thread of this process."""

    def __init__(self, contexts: Mapping[str, Context], runner: Runner, jobs: int) -> None:
        self.contexts, self.runner, self.jobs = dict(contexts), runner, max(1, jobs)
        self.timing = _Timing()
        self._threads = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="grader")
        self._folder = tempfile.TemporaryDirectory(prefix="grader-pool-")
        self._lock = threading.Lock()
        self._queued = 0
        self._count = 0

    @property
    def queued(self) -> int:
        with self._lock:
            return self._queued

    def submit(self, assignment: str, student: str, label: str, data: bytes) -> Future:
        if assignment not in self.contexts:
            raise GraderError(f"unknown assignment {assignment!r}")
        with self._lock:
            self._queued += 1
            self._count += 1
            path = Path(self._folder.name) / f"{self._count}.ipynb"
        return self._threads.submit(self._grade, assignment, student, label, data, path)

    def _grade(
        self, assignment: str, student: str, label: str, data: bytes, path: Path
    ) -> SubmissionResult:
        started = time.monotonic()
        try:
            path.write_bytes(data)
            context = self.contexts[assignment]
            stream = self.runner([Submission(student, path)], context)
            with contextlib.closing(stream):
                [(_, result)] = list(stream)
            self.timing.add(time.monotonic() - started)
            return replace(result, submission=label)
        finally:
            path.unlink(missing_ok=True)
            with self._lock:
                self._queued -= 1

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._folder.cleanup()
