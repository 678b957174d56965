"""Run a submission's cells in a separate process and call its functions from the grader.

A :class:`Sandbox` starts one helper interpreter (a fork server, "zygote",
:mod:`grader.sandbox.inside.zygote`) that loads numpy, matplotlib and h5py once and never imports
``grader``, so the reference solution is not in any process a student's code runs in.
For each submission it forks a child that runs the cells in one namespace and then
answers calls (:class:`~grader.sandbox.session.Session`). Only :mod:`grader.sandbox.wire` data
comes back, and every comparison happens in the grader's process.

Isolation (:attr:`Sandbox.isolation`, :attr:`Sandbox.strong`): on Linux as root, the
zygote runs in its own mount, pid and network namespaces (:mod:`grader.sandbox.inside.isolation`):
the grader package, its working folder, homes, ``/tmp`` and every folder in ``hide`` are
empty, the file system read-only, no network, each child an unprivileged uid in a small
scratch tmpfs; when the zygote ends, the kernel kills every process left. Elsewhere, or
with ``GRADER_SANDBOX=rlimits``: resource limits, a process group, an empty scratch
folder ("rlimits only"). A Sandbox may be shared by threads, one Session per thread.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader.sandbox import helper
from grader.sandbox.backend import Limits, SandboxBackend, SandboxError
from grader.sandbox.hiding import hidden_paths
from grader.sandbox.messages import (
    DIED,
    ERROR,
    MISSING,
    NOT_RUN,
    OK,
    TIMEOUT,
    CallBatch,
    CallResult,
    CellResult,
    ReplyMemo,
)
from grader.sandbox.session import Session

# Limits, SandboxError and the message types are re-exported: callers import them from here
__all__ = [
    "Sandbox",
    "Limits",
    "Session",
    "CellResult",
    "CallResult",
    "CallBatch",
    "SandboxError",
    "hidden_paths",
    "MODES",
    "MODE_VARIABLE",
    "OK",
    "ERROR",
    "MISSING",
    "TIMEOUT",
    "DIED",
    "NOT_RUN",
]

PRELOAD = ("numpy", "numpy.random", "numpy.linalg", "matplotlib", "matplotlib.pyplot", "h5py")
MODES = ("auto", "namespaces", "rlimits")
MODE_VARIABLE = "GRADER_SANDBOX"  # auto (default) | namespaces (required) | rlimits (forced)
_namespace_failure: str | None = None  # set once namespaces failed here: no retry per sandbox


class Sandbox:
    """One fork server; :meth:`open` gives a session per submission. A
    :class:`~grader.sandbox.backend.SandboxBackend`; to its sessions, a
    :class:`~grader.sandbox.session.ForkServer`.

    ``hide``: more folders submissions must not see (the output folder, the folders of
    the submissions); the grader package, its checkout, the working folder, homes and
    /tmp are hidden anyway. ``mode``: ``auto`` (namespaces where possible), ``namespaces``
    (SandboxError where impossible) or ``rlimits``; default ``$GRADER_SANDBOX``, else
    auto. ``scratch_root``: where scratch folders go in rlimits mode (with namespaces
    each submission gets a tmpfs of ``Limits.scratch_bytes`` instead). ``wait=False``
    returns as soon as the helper process is started: it loads numpy and matplotlib
    (~0.4 s) while the caller goes on, and the first use waits for it (errors included).
    """

    def __init__(
        self,
        limits: Limits = Limits(),
        *,
        preload: Sequence[str] = PRELOAD,
        scratch_root: Path | None = None,
        start_timeout: float = 60.0,
        hide: Sequence[Path | str] = (),
        mode: str | None = None,
        wait: bool = True,
    ):
        self.limits = limits
        self._preload, self._start_timeout = tuple(preload), start_timeout
        self._scratch_root = None if scratch_root is None else str(scratch_root)
        self._hide = hidden_paths(hide)
        self._mode, self._reason = _mode(mode)
        self._lock = threading.Lock()
        self._start_guard = threading.Lock()
        self._closed = False
        self._sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self.memo = ReplyMemo()  # callback answers, shared by its sessions
        self._ready: dict | None = None  # the helper's "ready" message
        self._pending = False  # launched with wait=False, not yet answered
        if wait:
            self._start()
        else:
            self._spawn()
            self._pending = True

    @property
    def isolation(self) -> str:
        """What holds, in words: "namespaces (...)" or "rlimits only: <reason>"."""
        return str(self._started()["isolation"])

    @property
    def strong(self) -> bool:
        """True with namespaces."""
        return bool(self._started()["strong"])

    @property
    def pid(self) -> int:
        """The helper process (as the grader sees it: outside its namespaces)."""
        return int(self._started()["pid"])

    def wait_ready(self) -> None:
        """Wait until the helper answers (at once if it did); SandboxError if it cannot start."""
        self._started()

    def _started(self) -> dict:
        """The helper's ``ready`` message; the first call after ``wait=False`` waits for it."""
        if self._ready is None:
            with self._start_guard:
                if self._ready is None:
                    if not self._pending:
                        raise SandboxError("the sandbox's helper process did not start")
                    self._pending = False
                    self._start(self._handshake())
        assert self._ready is not None  # set by _start, which raises otherwise
        return self._ready

    def _start(self, ready: dict | None = None) -> None:
        """Launch the helper (or take the answer of one just launched), falling back to
        rlimits in auto mode where namespaces fail."""
        global _namespace_failure
        if ready is None:
            ready = self._launch()
        if ready.get("op") == "failed" and self._mode == "auto":
            _namespace_failure = self._reason = str(ready.get("reason"))
            self._mode = "rlimits"
            ready = self._launch()
        if ready.get("op") != "ready":
            raise SandboxError(f"the sandbox cannot isolate submissions: {ready.get('reason')}")
        self._ready = ready
        if ready.get("pycache"):
            self._leftovers.append(ready["pycache"])  # removed here too if the helper was killed

    def _launch(self) -> dict:
        self._spawn()
        return self._handshake()

    def _spawn(self) -> None:
        """Start the helper process (:mod:`grader.sandbox.helper`); it answers when ready."""
        if self._mode == "auto" and _namespace_failure is not None:
            self._mode, self._reason = "rlimits", _namespace_failure
        try:
            process, control, stderr = helper.spawn(
                {
                    "preload": list(self._preload),
                    "blocked": __name__.partition(".")[0],
                    "mode": self._mode,
                    "reason": self._reason,
                    # only namespaces use it; its children must never read it
                    # (grader.sandbox.inside.zygote.main)
                    "hide": self._hide if self._mode != "rlimits" else [],
                }
            )
        except OSError as exc:
            raise SandboxError(f"cannot start the sandbox: {exc}") from None
        self._process, self._control, self._stderr = process, control, stderr
        self._leftovers: list[str] = []
        self._finalizer = weakref.finalize(
            self, helper.stop, process, control, stderr, self._leftovers
        )

    def _handshake(self) -> dict:
        ready = helper.greeting(self._control, self._start_timeout)
        if ready is None:
            # it had time to write why it failed before the finalizer closes stderr
            detail = helper.why_not_started(self._process, self._stderr)
            self._finalizer()
            raise SandboxError(
                "the sandbox's helper process did not start" + (f": {detail}" if detail else "")
            )
        if ready.get("op") != "ready":
            self._finalizer()
        return ready

    def open(
        self,
        cells: Sequence[str],
        helper_dir: Path | None = None,
        aliases: Mapping[str, str] | None = None,
        *,
        limits: Limits | None = None,
        numbers: Sequence[int] | None = None,
        names: Sequence[str] | None = None,
    ) -> Session:
        """Fork a child for one submission and run its cells (see :attr:`Session.cell_results`).

        ``numbers``: each cell's number as the notebook shows it (all cells counted, from
        1; default: its position in ``cells`` + 1), used in tracebacks and reports;
        ``names``: how a student finds each cell (its exercise or function), for reports."""
        self._started()
        session = Session(
            self,
            list(cells),
            helper_dir,
            dict(aliases or {}),
            limits or self.limits,
            numbers=numbers,
            names=names,
        )
        with self._lock:
            self._sessions.add(session)
        try:
            session.start()
        except BaseException:
            session.close()
            raise
        return session

    def close(self) -> None:
        """Stop the fork server; when this returns, no process of any submission is left."""
        with self._lock:
            self._closed = True
            sessions = list(self._sessions)
        for session in sessions:
            session.abandon()
        self._finalizer()

    def hand_over(self, *, reap: bool) -> None:
        """Let another process (a worker forked after this sandbox started) drive it.

        This process's end of the helper's socket is closed, so the helper sees the
        other's end go when that one does. ``reap``: the helper is this process's child;
        :meth:`close` then waits for it to end (it is not stopped from here) and cleans
        up after it. Otherwise this process forgets it entirely."""
        with self._lock:
            self._closed = True
            self._control.close()
        if not reap:
            self._finalizer.detach()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _request(self, message: dict, fds: Sequence[int] = ()) -> dict:
        self._started()
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox is closed")
            try:
                self._control.settimeout(30.0)
                socket.send_fds(self._control, [json.dumps(message).encode()], list(fds))
                data = self._control.recv(1 << 16)
            except OSError as exc:
                data, reason = b"", str(exc)
            else:
                reason = "it exited"
            if not data:  # the protocol is out of step; start over
                self._finalizer()
                raise SandboxError(f"the sandbox's helper process stopped answering: {reason}")
            return json.loads(data)

    def fork_child(self, request: dict, helper_dir: str | None) -> tuple[int, socket.socket, str]:
        """A new child process for a session: its pid, its socket and its scratch folder.
        ``request``: the session's set-up (limits, aliases); ``helper_dir``: opened here
        and handed over (the helper process may not see the path)."""
        return self._fork(request, helper_dir)

    def _fork(self, request: dict, helper_dir: str | None) -> tuple[int, socket.socket, str]:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        message = {"op": "fork", "scratch_root": self._scratch_root, **request}
        fds = [child_end.fileno()]
        try:
            if helper_dir is not None:  # the helper process may not see the path: the folder
                fds.append(os.open(helper_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        except OSError:
            pass
        try:
            try:
                reply = self._request(message, fds)
            except SandboxError:
                with self._lock:
                    if self._closed:
                        raise
                    self._start()  # one fresh helper; the old one's children died with it
                reply = self._request(message, fds)
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
            for fd in fds[1:]:
                os.close(fd)
        if "error" in reply:
            parent_end.close()
            raise SandboxError(f"cannot start a process for the submission: {reply['error']}")
        return reply["pid"], parent_end, reply["scratch"]

    def kill_child(self, pid: int, scratch: str, grace: float | None = None) -> int | None:
        """Kill a child's processes; with ``grace``, wait for its exit status."""
        try:
            return self._request(
                {"op": "kill", "pid": pid, "wait": grace is not None, "grace": grace or 0.0}
            )["status"]
        except SandboxError:  # the helper is gone, and its children with it
            if not self.strong:
                shutil.rmtree(scratch, ignore_errors=True)
            return None

    def lower_priority(self, pid: int) -> None:
        """Run a child's processes at a lower CPU priority (the helper's nice request)."""
        try:
            self._request({"op": "nice", "pid": pid})
        except SandboxError:  # the helper is gone, and its children with it
            pass

    def view(self, path: str) -> Path:
        """A path inside the helper process's mount namespace, as the grader can open it."""
        return Path(f"/proc/{self.pid}/root{path}") if self.strong else Path(path)


def _mode(mode: str | None) -> tuple[str, str]:
    """The mode asked for, and the reason to give when it is rlimits."""
    if mode is not None:
        source = f"the sandbox mode {mode!r} (--sandbox {mode})"
    else:
        mode = os.environ.get(MODE_VARIABLE, "").strip().lower() or "auto"
        source = f"{MODE_VARIABLE}={mode}"
    if mode not in MODES:
        raise SandboxError(
            f"unknown sandbox mode {mode!r} from {source} (known: {', '.join(MODES)})"
        )
    return mode, f"asked for with {source}" if mode == "rlimits" else ""


if TYPE_CHECKING:  # for mypy: the fork server implements the back-end interface
    _BACKEND: type[SandboxBackend] = Sandbox
