"""The dashboard's background jobs: each one a process of its own, watched from the
server's event loop.

A job (grading a folder, reading the service's store, regenerating a release) is
``python -m grader.jupyter.worker REQUEST``: the worker grades with the engine's own
forked workers and sandboxes, which is safe only from a single-threaded process (the
Jupyter server runs threads and kernels); a loop in a student's notebook costs the
worker time, never a request. The worker reports on its stdout, one JSON object a line
(:mod:`grader.jupyter.worker`); here the lines update a :class:`Job`, which the handlers
only read. Stopping the server stops the jobs: their workers close their sandboxes
on SIGTERM, and a worker whose stdin closes (the server killed) stops itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNNING, DONE, FAILED = "running", "done", "failed"
KEPT_JOBS = 50  # finished jobs remembered (the newest); their reports stay on disk anyway
STOP_GRACE = 10.0  # seconds a stopped worker has to close its sandboxes before SIGKILL
MESSAGE_LIMIT = 1 << 30  # bytes of one line: a 10 000-student result is one line
STDERR_TAIL = 4000  # characters of a worker's stderr kept to explain a crash


@dataclass
class Job:
    """What the handlers show of one job; changed only by its :class:`JobManager`."""

    id: str
    kind: str  # grade | store | release
    target: str  # what it works on, relative to the server root
    out: str | None  # its output folder, relative to the server root (grading only)
    state: str = RUNNING
    done: int = 0
    total: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    stderr: str = ""
    stopping: bool = field(default=False, repr=False)
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    watcher: asyncio.Task | None = field(default=None, repr=False)

    def status(self) -> dict[str, Any]:
        """The job as ``GET jobs/<id>`` answers it (results apart: they may be large)."""
        shown: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "out": self.out,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "warnings": self.warnings,
            "started": self.started,
            "finished": self.finished,
        }
        if self.error is not None:
            shown["error"] = self.error
        if self.result is not None:
            shown["summary"] = self.result.get("summary")
        return shown


class BusyError(Exception):
    """Another running job writes where this one would."""


class JobManager:
    """Starts jobs, follows their progress, stops them with the server."""

    def __init__(self, root: Path, log: logging.Logger | None = None) -> None:
        self.root = root
        self.log = log or logging.getLogger(__name__)
        self.jobs: OrderedDict[str, Job] = OrderedDict()

    def find(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    async def start(self, kind: str, target: str, out: str | None, request: dict) -> Job:
        """Start ``python -m grader.jupyter.worker`` on ``request``; returns at once."""
        busy = [
            job
            for job in self.jobs.values()
            if job.state == RUNNING
            and ((out is not None and job.out == out) or (job.kind == kind == "release"))
        ]
        if busy:
            raise BusyError(f"job {busy[0].id} ({busy[0].kind} {busy[0].target}) is still running")
        job = Job(uuid.uuid4().hex[:12], kind, target, out)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        job.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "grader.jupyter.worker",
            json.dumps({"kind": kind, "root": str(self.root), **request}),
            stdin=asyncio.subprocess.PIPE,  # closed by the server's death: the worker stops
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.root,
            env=env,
            start_new_session=True,  # a Ctrl-C in the server's terminal is the server's
            limit=MESSAGE_LIMIT,
        )
        job.watcher = asyncio.create_task(self._watch(job))
        self.jobs[job.id] = job
        self._forget_old()
        return job

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self.jobs.items() if job.state != RUNNING]
        for job_id in finished[: max(0, len(self.jobs) - KEPT_JOBS)]:
            del self.jobs[job_id]

    async def _watch(self, job: Job) -> None:
        process = job.process
        assert process is not None and process.stdout is not None and process.stderr is not None
        readers = [
            asyncio.create_task(self._messages(job, process.stdout)),
            asyncio.create_task(self._stderr(job, process.stderr)),
        ]
        code = await process.wait()
        if process.stdin is not None:
            process.stdin.close()  # the pipe's end, else closed late, by the collector
        # a grandchild still holding the pipes must not keep the job running
        _, pending = await asyncio.wait(readers, timeout=5)
        for reader in pending:
            reader.cancel()
        if job.state == RUNNING:  # the worker died without its last line
            job.state = FAILED
            tail = job.stderr.strip().splitlines()[-1:] or [""]
            job.error = (
                "stopped with the server"
                if job.stopping
                else f"the grading process stopped (exit code {code})"
                + (f": {tail[0]}" if tail[0] else "")
            )
        job.finished = job.finished or time.time()
        if job.state == FAILED:
            self.log.warning("grader job %s failed: %s", job.id, job.error)

    async def _messages(self, job: Job, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not ours (the worker sends stray output to stderr)
            if not isinstance(message, dict):
                continue
            apply(job, message)

    async def _stderr(self, job: Job, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            job.stderr = (job.stderr + line.decode("utf-8", "replace"))[-STDERR_TAIL:]

    async def stop(self, job: Job) -> None:
        """SIGTERM (the worker closes its sandboxes), then SIGKILL to what is left."""
        process = job.process
        if process is None or process.returncode is not None:
            return
        job.stopping = True
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except asyncio.TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if job.watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await job.watcher

    async def close(self) -> None:
        """Stop every running job, and let the finished ones' workers exit (the server
        is stopping: a worker's last line comes before it has closed its sandboxes)."""
        live = [job for job in self.jobs.values() if job.watcher and not job.watcher.done()]
        await asyncio.gather(*(self._end(job) for job in live))

    async def _end(self, job: Job) -> None:
        if job.state != RUNNING and job.watcher is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(job.watcher), STOP_GRACE)
                return
        await self.stop(job)


def apply(job: Job, message: dict[str, Any]) -> None:
    """One line of the worker (see :mod:`grader.jupyter.worker`) applied to its job."""
    if isinstance(message.get("total"), int):
        job.total = message["total"]
    if isinstance(message.get("done"), int):
        job.done = message["done"]
    if isinstance(message.get("warning"), str):
        job.warnings.append(message["warning"])
    if isinstance(message.get("error"), str):
        job.state, job.error, job.finished = FAILED, message["error"], time.time()
    elif isinstance(message.get("result"), dict):
        job.state, job.result, job.finished = DONE, message["result"], time.time()
