"""Grading on a Dask cluster: ``grader grade --dask tcp://scheduler:8786``.

This process reads the notebooks and sends them to the workers in chunks, and
the release's files go once to every worker, so workers need no shared file
system, only this package (``pip install 'nb-autograder[dask]'``) on Linux. Each
worker process builds its own :class:`~grader.grading.pipeline.Context` from those files once
and keeps one sandbox per worker thread: the same sandboxed grading as a local
run, with identical results. Tasks take and return plain data (bytes, strings,
:func:`~grader.results.submission_to_dict` dicts); no object of ours is pickled.

Grading is Python in the worker, so give each worker process one thread:
``dask worker tcp://scheduler:8786 --nworkers <cores> --nthreads 1``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import GraderError, UsageError
from grader.grading.options import Options, new_sandbox
from grader.grading.pipeline import Context, grade_bytes, prepare, read_submission
from grader.grading.submissions import Submission
from grader.results import SubmissionResult, submission_from_dict, submission_to_dict
from grader.runners import Results, Runner
from grader.sandbox import Limits, Sandbox

CHUNK = 8  # submissions per task: a task's overhead is small next to ~0.1 s of grading
IN_FLIGHT = 2  # chunks queued per worker thread, so memory does not grow with the batch
CONNECT_TIMEOUT = 10.0


class DaskError(GraderError):
    """A Dask worker could not grade (not a submission: those only ever get a result)."""


class DaskRunner:
    """A :class:`~grader.runners.Runner` that grades on the cluster at ``address``.

    Use it as a context manager; it holds a client connection until closed.
    ``keep``: the release sent once per context and the workers' sandboxes kept between
    calls, until :meth:`close` (a service's runner: one call per notebook); otherwise
    both go at the end of each call (a batch).
    """

    def __init__(
        self,
        address: str,
        *,
        chunk: int = CHUNK,
        timeout: float = CONNECT_TIMEOUT,
        keep: bool = False,
    ):
        self.address, self.chunk, self.keep = address, max(1, chunk), keep
        self.client = _connect(address, timeout)
        self._releases: dict[int, Any] = {}  # id(context) -> its release on the cluster
        self._lock = threading.Lock()

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.keep:
            with contextlib.suppress(Exception):  # workers gone took their sandboxes along
                self.client.run(close_sandboxes)
        self.client.close()

    def _release(self, context: Context) -> Any:
        if not self.keep:
            return self.client.scatter([release_payload(context)], broadcast=True, hash=False)[0]
        with self._lock:
            if id(context) not in self._releases:
                self._releases[id(context)] = self.client.scatter(
                    [release_payload(context)], broadcast=True, hash=False
                )[0]
            return self._releases[id(context)]

    def __call__(self, submissions: Sequence[Submission], context: Context) -> Results:
        from distributed import as_completed

        client = self.client
        release = self._release(context)
        threads = sum(client.nthreads().values()) or 1
        pending = iter(enumerate(submissions))
        positions: dict[Any, list[int]] = {}
        done_early: list[tuple[int, SubmissionResult]] = []
        running = as_completed(loop=client.loop)

        def submit() -> bool:
            items: list[tuple[str, str, bytes]] = []
            chunk_positions: list[int] = []
            while len(items) < self.chunk:
                item = next(pending, None)
                if item is None:
                    break
                position, submission = item
                data = read_submission(submission, context)
                if isinstance(data, SubmissionResult):  # unreadable here: nothing to send
                    done_early.append((position, data))
                    continue
                items.append((submission.student, str(submission.path), data))
                chunk_positions.append(position)
            if not items:
                return False
            future = client.submit(_grade_chunk, release, items, pure=False)
            positions[future] = chunk_positions
            running.add(future)
            return True

        try:
            for _ in range(IN_FLIGHT * threads):
                if not submit():
                    break
            yield from done_early
            done_early.clear()
            for future in running:
                reply = future.result()
                chunk_positions = positions.pop(future)
                future.release()
                if "error" in reply:
                    raise DaskError(f"a Dask worker could not grade: {reply['error']}")
                submit()
                yield from done_early
                done_early.clear()
                for position, data in zip(chunk_positions, reply["results"]):
                    yield position, submission_from_dict(data)
        finally:
            if positions:
                client.cancel(list(positions))
            if not self.keep:
                release.release()
                try:
                    client.run(close_sandboxes)
                except Exception:  # a worker that went away took its sandboxes with it
                    pass


def release_payload(context: Context) -> dict[str, Any]:
    """What a worker needs to rebuild the context: the release's files and the options."""
    assignment, options = context.assignment, context.options
    names = sorted((assignment.notebook_name, *assignment.helper_files))
    files = {name: (assignment.source_dir / name).read_bytes() for name in names}
    settings = {
        "limits": asdict(options.limits),
        "isolation": options.isolation,
        "all_or_nothing": options.all_or_nothing,
        "sandbox": options.sandbox,
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name in names:
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0" + files[name])
    return {
        "key": digest.hexdigest(),
        "folder": assignment.source_dir.name,
        "files": files,
        "options": settings,
    }


# --- on the workers ---------------------------------------------------------------------

_lock = threading.Lock()
_contexts: dict[str, tuple[Context, tempfile.TemporaryDirectory]] = {}
_sandboxes: dict[tuple[int, str], Sandbox] = {}


def _grade_chunk(release: dict[str, Any], items: list[tuple[str, str, bytes]]) -> dict[str, Any]:
    """A task: grade notebooks given as (student, where it came from, bytes)."""
    try:
        context = _context(release)
        sandbox = _sandbox(release["key"], context)
        return {
            "results": [
                submission_to_dict(grade_bytes(student, path, data, sandbox, context))
                for student, path, data in items
            ]
        }
    except Exception as exc:  # plain data back, never a pickled exception of ours
        return {"error": f"{type(exc).__name__}: {exc}"}


def _context(release: dict[str, Any]) -> Context:
    with _lock:
        if release["key"] not in _contexts:
            folder = tempfile.TemporaryDirectory(prefix="grader-release-")
            root = Path(folder.name) / release["folder"]
            for name, data in release["files"].items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
            settings = release["options"]
            options = Options(
                limits=Limits(**settings["limits"]),
                isolation=settings["isolation"],
                all_or_nothing=settings["all_or_nothing"],
                jobs=1,
                sandbox=settings.get("sandbox"),
            )
            _contexts[release["key"]] = (prepare(root, options), folder)
        return _contexts[release["key"]][0]


def _sandbox(key: str, context: Context) -> Sandbox:
    """This thread's sandbox: a session must not be shared between threads."""
    slot = (threading.get_ident(), key)
    with _lock:
        sandbox = _sandboxes.get(slot)
    if sandbox is None:
        sandbox = new_sandbox(context.options)
        with _lock:
            _sandboxes[slot] = sandbox
    return sandbox


def close_sandboxes() -> int:
    """Stop this worker's sandbox helpers (run by the client when a batch ends)."""
    with _lock:
        sandboxes = list(_sandboxes.values())
        _sandboxes.clear()
    for sandbox in sandboxes:
        sandbox.close()
    return len(sandboxes)


# --- connecting -------------------------------------------------------------------------


def _connect(address: str, timeout: float):
    try:
        from distributed import Client
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError:
        raise UsageError(
            "--dask needs dask.distributed: pip install 'nb-autograder[dask]'"
        ) from None
    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):  # fail fast: the client would retry until timeout
            socket.create_connection(parse_host_port(location, 8786), timeout=timeout).close()
    except (ValueError, TypeError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(
            f"cannot reach a Dask scheduler at {address!r}: {reason or type(exc).__name__}"
        ) from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, ValueError, TimeoutError) as exc:
        raise UsageError(f"cannot connect to the Dask scheduler at {address!r}: {exc}") from None


if TYPE_CHECKING:  # for mypy: a runner of the interface
    _RUNNER: type[Runner] = DaskRunner
