"""Grading a batch on this machine: ``--jobs`` workers, each with its own sandbox.

The grader's side of a submission (parsing, IPython's cell conversion, decoding
results, comparing them with the reference) is Python under one GIL, so threads
cannot use a second core for it. On Linux the workers are therefore processes
forked from the prepared grader: they inherit the :class:`~grader.grading.pipeline.Context`
(reference values computed once, nothing pickled), receive ``(position, student,
path)`` and send back :func:`~grader.results.submission_to_dict` dicts. Each worker
has at most :data:`PREFETCH` submissions in flight, so memory does not grow with the
batch, and a submission that waits out a time limit holds up only its own worker.
Elsewhere the workers are threads. :func:`local_runner` makes a
:class:`~grader.runners.Runner` of them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait as wait_connections
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import GraderError
from grader.grading.options import default_jobs, new_sandbox
from grader.grading.pipeline import Context, grade_one
from grader.grading.submissions import Submission
from grader.results import SubmissionResult, submission_from_dict, submission_to_dict
from grader.runners import Results, Runner
from grader.sandbox import Sandbox

PREFETCH = 2  # submissions queued per worker: the next one is ready when one finishes
MODES = ("auto", "processes", "threads", "serial")


class WorkerError(GraderError):
    """A grading worker failed (not a submission: those only ever get a result)."""


class LocalRunner:
    """Workers on this machine (see :func:`local_runner`); a :class:`~grader.runners.Runner`.

    Each call starts its workers and stops them when its results are all read, or when
    the caller closes it early; :meth:`close` has nothing to release (the sandboxes it
    was given are the caller's to close)."""

    def __init__(self, jobs: int, mode: str, sandboxes: Sequence[Sandbox] = ()):
        self.jobs, self.mode, self.sandboxes = jobs, mode, tuple(sandboxes)

    def __call__(self, submissions: Sequence[Submission], context: Context) -> Results:
        workers = min(self.jobs, len(submissions))
        given = self.sandboxes
        if self.mode == "serial" or workers <= 1:
            return _serial(submissions, context, given[0] if given else None)
        if self.mode == "threads":
            return _threads(submissions, context, workers, given)
        return _processes(submissions, context, workers, given)

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def local_runner(
    jobs: int = 0, mode: str = "auto", sandboxes: Sequence[Sandbox] = ()
) -> LocalRunner:
    """A runner with ``jobs`` workers (0: one per core).

    ``mode``: ``processes`` (forked workers; Linux), ``threads``, ``serial`` (this
    thread, one sandbox) or ``auto``: serial for one job, processes on Linux,
    threads elsewhere. ``sandboxes``: already started with the context's options, one
    per worker (the caller closes them; a forked worker takes over its own); workers
    without one start their own.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    jobs = jobs or default_jobs()
    if mode == "auto":
        mode = (
            "serial"
            if jobs == 1
            else "processes"
            if sys.platform.startswith("linux")
            else "threads"
        )
    return LocalRunner(jobs, mode, sandboxes)


def _serial(
    submissions: Sequence[Submission], context: Context, sandbox: Sandbox | None
) -> Results:
    with (
        contextlib.nullcontext(sandbox) if sandbox is not None else new_sandbox(context.options)
    ) as sandbox:
        for position, submission in enumerate(submissions):
            yield position, grade_one(submission, sandbox, context)


def _threads(
    submissions: Sequence[Submission], context: Context, jobs: int, given: Sequence[Sandbox] = ()
) -> Results:
    sandboxes: list[Sandbox] = []  # started here, closed here
    free: list[Sandbox] = list(given)  # a sandbox serves one thread at a time

    def work(submission: Submission) -> SubmissionResult:
        try:
            sandbox = free.pop()
        except IndexError:
            sandbox = new_sandbox(context.options)
            sandboxes.append(sandbox)
        try:
            return grade_one(submission, sandbox, context)
        finally:
            free.append(sandbox)

    pending = iter(enumerate(submissions))
    running: dict[Future, int] = {}
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            while True:
                while len(running) < jobs * PREFETCH:
                    item = next(pending, None)
                    if item is None:
                        break
                    running[pool.submit(work, item[1])] = item[0]
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield running.pop(future), future.result()
    finally:
        for future in running:
            future.cancel()
        for sandbox in sandboxes:
            sandbox.close()


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    in_flight: dict[int, str] = field(default_factory=dict)  # position -> path


def _processes(
    submissions: Sequence[Submission],
    context: Context,
    jobs: int,
    sandboxes: Sequence[Sandbox] = (),
) -> Results:
    fork = multiprocessing.get_context("fork")
    workers: list[_Worker] = []
    pending = iter(enumerate(submissions))
    finished = False

    def feed(worker: _Worker, up_to: int = PREFETCH) -> None:
        while len(worker.in_flight) < up_to:
            item = next(pending, None)
            if item is None:
                return
            position, submission = item
            worker.in_flight[position] = str(submission.path)
            try:
                worker.connection.send((position, submission.student, str(submission.path)))
            except OSError:
                _receive(worker)  # raises: the worker is gone

    try:
        for index in range(jobs):
            ours, theirs = fork.Pipe()
            # forked, not pickled: the worker starts with the prepared context, and with
            # its sandbox if one was started (the helper's socket is inherited); it closes
            # the grader's ends it inherits, so that it sees EOF once the grader is gone
            parents_ends = [worker.connection for worker in workers] + [ours]
            process = fork.Process(
                target=_worker_main,
                name="grader-worker",
                daemon=True,
                args=(theirs, context, index, sandboxes, parents_ends),
            )
            process.start()
            theirs.close()
            workers.append(_Worker(process, ours))
        for sandbox in sandboxes:  # each is its worker's now
            sandbox.hand_over(reap=True)
        for up_to in range(1, PREFETCH + 1):  # round robin: every worker starts at once
            for worker in workers:
                feed(worker, up_to)
        by_connection: dict[object, _Worker] = {worker.connection: worker for worker in workers}
        while any(worker.in_flight for worker in workers):
            for connection in wait_connections([w.connection for w in workers if w.in_flight]):
                worker = by_connection[connection]
                position, data, error = _receive(worker)
                del worker.in_flight[position]
                if data is None:
                    raise WorkerError(f"grading {submissions[position].path} failed: {error}")
                feed(worker)
                yield position, submission_from_dict(data)
        finished = True
    finally:
        _stop(workers, gracefully=finished)


def _receive(worker: _Worker) -> tuple[int, dict | None, str | None]:
    try:
        return worker.connection.recv()
    except (EOFError, OSError, ValueError):
        worker.process.join(1.0)
        paths = ", ".join(worker.in_flight.values())
        raise WorkerError(
            f"a grading worker stopped (exit code {worker.process.exitcode}) while grading {paths}"
        ) from None


def _stop(workers: list[_Worker], gracefully: bool) -> None:
    """Finished: let each worker close its sandbox. Interrupted: terminate them now
    (a worker's sandbox helper exits when its worker's socket closes)."""
    for worker in workers:
        try:
            if gracefully:
                worker.connection.send(None)
            else:
                worker.process.terminate()
        except (OSError, ValueError):
            pass
    for worker in workers:
        worker.process.join(10.0 if gracefully else 2.0)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


def _worker_main(
    connection: Connection,
    context: Context,
    index: int = 0,
    sandboxes: Sequence[Sandbox] = (),
    parents_ends: Sequence[Connection] = (),
) -> None:
    """One worker process: grade what arrives until told to stop, or until the grader is
    gone (killed even: its end of the pipe closes, and only the grader holds it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # terminate() ends it, whatever the parent set
    for end in parents_ends:
        end.close()
    sandbox: Sandbox | None = sandboxes[index] if index < len(sandboxes) else None
    for other in sandboxes:
        if other is not sandbox:
            other.hand_over(reap=False)  # another worker's: its helper sees only that one
    try:
        while True:
            try:
                task = connection.recv()
            except (EOFError, OSError):
                return  # the grader is gone
            if task is None:
                return
            position, student, path = task
            reply: tuple[int, dict | None, str | None]
            try:
                if sandbox is None:
                    sandbox = new_sandbox(context.options)
                result = grade_one(Submission(student, Path(path)), sandbox, context)
                reply = (position, submission_to_dict(result), None)
            except Exception as exc:  # a bug or a broken sandbox, never the submission
                reply = (position, None, f"{type(exc).__name__}: {exc}")
            try:
                connection.send(reply)
            except OSError:
                return  # the grader is gone
    finally:
        if sandbox is not None:
            sandbox.close()


if TYPE_CHECKING:  # for mypy: a runner of the interface
    _RUNNER: type[Runner] = LocalRunner
