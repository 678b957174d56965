"""Run a submission's cells in a separate process and call its functions from the grader.

A :class:`Sandbox` starts one helper interpreter (a fork server, "zygote") that
loads numpy, matplotlib and h5py once and never imports ``grader``, so the
reference solution is not in any process a student's code runs in. For each
submission it forks a child (own process group, resource limits, an empty scratch
folder as cwd, output kept only as a short tail) that runs the cells in one
namespace and then answers calls. Only :mod:`grader.wire` data comes back.

Every wait has a deadline; a call that hangs or kills its process costs that call
only: the next call forks a fresh child and runs the cells again (skipping a cell
that hung). A Sandbox may be shared by threads, one :class:`Session` per thread;
sessions are not thread-safe.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from grader import wire
from grader.errors import GraderError

OK, ERROR, MISSING, TIMEOUT, DIED, NOT_RUN = "ok", "error", "missing", "timeout", "died", "not_run"
PRELOAD = ("numpy", "numpy.random", "numpy.linalg", "matplotlib", "matplotlib.pyplot", "h5py")
_HERE = Path(__file__).resolve().parent
_HEADER_SIZE = 8
_BOOTSTRAP = (
    "import json, sys, types\n"
    "payload = json.loads(sys.stdin.buffer.read())\n"
    "module = types.ModuleType('_sandbox_child')\n"
    "sys.modules['_sandbox_child'] = module\n"
    "exec(compile(payload['child'], '<sandbox>', 'exec'), module.__dict__)\n"
    "del json, types, module\n"
    "sys.modules['_sandbox_child'].zygote_main(payload)\n")
_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH")


class SandboxError(GraderError):
    """The sandbox's helper process could not be started or stopped answering."""


@dataclass(frozen=True)
class Limits:
    call_timeout: float = 10.0  # wall-clock seconds per call
    cells_timeout: float = 30.0  # wall-clock seconds for running all cells once
    submission_timeout: float = 120.0  # wall-clock seconds for everything
    memory_bytes: int = 2 << 30  # address space per process (RLIMIT_AS)
    cpu_seconds: int | None = None  # RLIMIT_CPU per process; None: submission_timeout
    output_bytes: int = 4096  # tail of stdout/stderr kept per cell and per call
    file_bytes: int = 16 << 20  # largest file a submission may write
    message_bytes: int = 64 << 20  # largest result the child may send


@dataclass(frozen=True)
class CellResult:
    index: int  # position in the cells given to open(); shown to students as cell index + 1
    status: str  # ok | error | timeout | died | not_run
    error_type: str = ""
    message: str = ""
    traceback: tuple[str, ...] = ()
    output: str = ""
    seconds: float = 0.0  # as measured in the child

    def summary(self) -> str:
        """One line for reports, e.g. ``cell 3: NameError: name 'x' is not defined``."""
        first_line = (self.message.splitlines() or [""])[0]
        return f"cell {self.index + 1}: " + ": ".join(p for p in (self.error_type, first_line) if p)


@dataclass(frozen=True)
class CallResult:
    status: str  # ok | error | missing | timeout | died
    value: Any = None
    args_after: tuple = ()  # the arguments as they were after the call
    error_type: str = ""
    message: str = ""
    traceback: tuple[str, ...] = ()  # the student's frames only
    output: str = ""
    seconds: float = 0.0

    @property
    def error(self) -> str:
        """What went wrong, as Python prints it (last line ``Type: message``); empty if ok."""
        if self.status == ERROR:
            frames = "".join(f"  {line}\n" for line in self.traceback)
            head = "Traceback (most recent call last):\n" + frames if frames else ""
            return f"{head}{self.error_type}: {self.message}"
        return self.message if self.status in (TIMEOUT, DIED) else ""


class _Timeout(Exception):
    pass


class _Broken(Exception):
    """The child ended, or sent something that breaks the protocol."""


class Sandbox:
    """One fork server; :meth:`open` gives a session per submission."""

    def __init__(self, limits: Limits = Limits(), *, preload: Sequence[str] = PRELOAD,
                 scratch_root: Path | None = None, start_timeout: float = 60.0):
        self.limits = limits
        self._preload, self._start_timeout = tuple(preload), start_timeout
        self._scratch_root = None if scratch_root is None else str(scratch_root)
        self._lock = threading.Lock()
        self._closed = False
        self._sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self._start()

    def _start(self) -> None:
        parent_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr = tempfile.TemporaryFile()
        payload = json.dumps({
            "child": (_HERE / "_child.py").read_text(encoding="utf-8"),
            "wire": (_HERE / "wire.py").read_text(encoding="utf-8"),
            "control_fd": zygote_end.fileno(), "preload": list(self._preload),
            "blocked": __name__.partition(".")[0]}).encode()
        env = {key: os.environ[key] for key in _ENVIRONMENT if key in os.environ}
        env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOTSTRAP], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=[zygote_end.fileno()],
                env=env, start_new_session=True)
        except OSError as exc:
            parent_end.close()
            stderr.close()
            raise SandboxError(f"cannot start the sandbox: {exc}") from None
        finally:
            zygote_end.close()
        self._process, self._control, leftovers = process, parent_end, []
        self._finalizer = weakref.finalize(self, _stop, process, parent_end, stderr, leftovers)
        try:
            process.stdin.write(payload)
            process.stdin.close()
            parent_end.settimeout(self._start_timeout)
            ready = parent_end.recv(1 << 16)
        except OSError:
            ready = b""
        if not ready:
            self._finalizer()
            stderr.seek(0)
            detail = stderr.read()[-2000:].decode(errors="replace").strip()
            raise SandboxError("the sandbox's helper process did not start"
                               + (f": {detail}" if detail else ""))
        ready = json.loads(ready)
        self.pid: int = ready["pid"]
        leftovers.append(ready["pycache"])  # removed here too if the helper was killed

    def open(self, cells: Sequence[str], helper_dir: Path | None = None,
             aliases: Mapping[str, str] | None = None, *, limits: Limits | None = None
             ) -> Session:
        """Fork a child for one submission and run its cells (see :attr:`Session.cell_results`)."""
        session = Session(self, list(cells), helper_dir, dict(aliases or {}), limits or self.limits)
        try:
            session._start()
        except BaseException:
            session.close()
            raise
        return session

    def close(self) -> None:
        """Stop the fork server; every child it forked is killed with it."""
        with self._lock:
            self._closed = True
            sessions = list(self._sessions)
        for session in sessions:
            session._drop()
        self._finalizer()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _request(self, message: dict, fds: Sequence[int] = ()) -> dict:
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

    def _fork(self, request: dict) -> tuple[int, socket.socket, str]:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        message = {"op": "fork", "scratch_root": self._scratch_root, **request}
        try:
            try:
                reply = self._request(message, [child_end.fileno()])
            except SandboxError:
                with self._lock:
                    if self._closed:
                        raise
                    self._start()  # one fresh helper; the old one's children died with it
                reply = self._request(message, [child_end.fileno()])
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        if "error" in reply:
            parent_end.close()
            raise SandboxError(f"cannot start a process for the submission: {reply['error']}")
        return reply["pid"], parent_end, reply["scratch"]

    def _kill(self, pid: int, scratch: str, grace: float | None = None) -> int | None:
        """Kill a child's process group; with ``grace``, wait for its exit status."""
        try:
            return self._request({"op": "kill", "pid": pid, "wait": grace is not None,
                                  "grace": grace or 0.0})["status"]
        except SandboxError:  # the helper is gone, and its children with it
            shutil.rmtree(scratch, ignore_errors=True)
            return None


def _stop(process: subprocess.Popen, control: socket.socket, stderr, leftovers: list) -> None:
    try:
        control.settimeout(1.0)
        control.send(b'{"op": "exit"}')
    except OSError:
        pass
    control.close()
    try:
        process.wait(timeout=10.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stderr.close()
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


class Session:
    """One submission in its own process; calls re-fork it after a timeout or crash."""

    def __init__(self, sandbox: Sandbox, cells: list[str], helper_dir: Path | None,
                 aliases: dict[str, str], limits: Limits):
        self._sandbox, self._cells, self.limits = sandbox, cells, limits
        cpu = limits.cpu_seconds or math.ceil(limits.submission_timeout) + 1
        self._request = {
            "helper_dir": None if helper_dir is None else str(Path(helper_dir).resolve()),
            "aliases": aliases, "limits": {**asdict(limits), "cpu_seconds": int(cpu)}}
        self._deadline = time.monotonic() + limits.submission_timeout
        self._results: dict[int, CellResult] = {}
        self._skip: set[int] = set()
        self._child: tuple[int, socket.socket, str] | None = None
        self._closed = False
        with sandbox._lock:
            sandbox._sessions.add(self)

    @property
    def cell_results(self) -> tuple[CellResult, ...]:
        return tuple(self._results.get(i, CellResult(i, NOT_RUN)) for i in range(len(self._cells)))

    def cell_errors(self) -> list[str]:
        """One line per cell that did not run cleanly, for reports."""
        return [cell.summary() for cell in self.cell_results if cell.status != OK]

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child[0]

    @property
    def scratch_dir(self) -> Path | None:
        return None if self._child is None else Path(self._child[2])

    def call(self, function: str, args: Sequence[Any] = (), *,
             callbacks: Mapping[str, Callable[..., Any]] = {},
             seed_global_random: int | None = None, timeout: float | None = None) -> CallResult:
        """Call the submission's ``function(*args)``; names in ``callbacks`` run in this process."""
        timeout = self.limits.call_timeout if timeout is None else timeout
        if self._closed:
            raise SandboxError("the session is closed")
        if self._child is None and not self._start():
            return CallResult(TIMEOUT, message="the submission used up its time "
                              f"({self.limits.submission_timeout:g} s) before this call")
        started = time.monotonic()
        deadline = min(started + timeout, self._deadline)
        try:
            self._send({"op": "call", "function": function, "args": tuple(args),
                        "callbacks": sorted(callbacks), "seed": seed_global_random}, deadline)
            while True:
                message = self._recv(deadline)
                if message["op"] == "result":
                    return _call_result(message, time.monotonic() - started)
                if message["op"] != "callback":
                    raise _Broken("the submission's process sent an unexpected message")
                self._answer(message, callbacks, deadline)
        except _Timeout:
            self._stop()
            limit = ("before the submission's time ran out" if deadline == self._deadline
                     else f"within {timeout:g} s")
            return CallResult(TIMEOUT, message=f"{function} did not return {limit}",
                              seconds=time.monotonic() - started)
        except _Broken as exc:
            status = self._stop(grace=0.2)
            return CallResult(DIED, message=f"{exc}{_exit_text(status)}",
                              seconds=time.monotonic() - started)

    def close(self) -> None:
        """Kill the submission's process group and delete its scratch folder."""
        self._closed = True
        self._stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _drop(self) -> None:
        self._closed = True
        if self._child is not None:
            self._child[1].close()
            self._child = None

    def _stop(self, grace: float | None = None) -> int | None:
        if self._child is None:
            return None
        pid, sock, scratch = self._child
        self._child = None
        sock.close()
        return self._sandbox._kill(pid, scratch, grace)

    def _start(self) -> bool:
        """Fork a child and run the cells, skipping any that hung; False when out of time."""
        while time.monotonic() < self._deadline:
            self._child = self._sandbox._fork(self._request)
            todo = [i for i in range(len(self._cells)) if i not in self._skip]
            deadline = min(time.monotonic() + self.limits.cells_timeout, self._deadline)
            current = todo[0] if todo else None
            try:
                self._send({"op": "cells", "cells": [[i, self._cells[i]] for i in todo]},
                           deadline)
                for current in todo:
                    # one cell may take as long as one call; all cells together cells_timeout
                    message = self._recv(min(time.monotonic() + self.limits.call_timeout,
                                             deadline))
                    if message["op"] != "cell" or message.get("index") != current:
                        raise _Broken("the submission's process sent an unexpected message")
                    self._record(current, _cell_result(current, message))
                return True
            except _Timeout:
                self._stop()
                if current is None:
                    return False
                limit = ("the submission's time" if time.monotonic() >= self._deadline
                         else f"the time limit ({self.limits.call_timeout:g} s a cell, "
                              f"{self.limits.cells_timeout:g} s for all cells)")
                self._fail(current, TIMEOUT, f"did not finish within {limit}")
            except _Broken as exc:
                status = self._stop(grace=0.2)
                if current is None:
                    return False
                self._fail(current, DIED, f"{exc}{_exit_text(status)}")
        return False

    def _fail(self, index: int, status: str, message: str) -> None:
        self._skip.add(index)
        self._results[index] = CellResult(index, status, message=message + " (skipped)")

    def _record(self, index: int, result: CellResult) -> None:
        self._results.setdefault(index, result)  # the first run is the one reported

    def _answer(self, message: dict, callbacks: Mapping[str, Callable], deadline: float) -> None:
        name, args, kwargs = message.get("name"), message.get("args"), message.get("kwargs")
        if (name not in callbacks or type(args) is not tuple or type(kwargs) is not dict
                or any(type(key) is not str for key in kwargs)):
            reply = {"op": "callback", "ok": False, "error": f"no callback {name!r} here"}
        else:
            try:
                reply = {"op": "callback", "ok": True, "value": callbacks[name](*args, **kwargs)}
            except Exception as exc:
                reply = {"op": "callback", "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        self._send(reply, deadline)

    def _send(self, message: dict, deadline: float) -> None:
        data = wire.encode(message)
        sock = self._child[1]
        try:
            sock.settimeout(max(deadline - time.monotonic(), 1e-3))
            sock.sendall(len(data).to_bytes(_HEADER_SIZE, "big") + data)
        except socket.timeout:
            raise _Timeout() from None
        except OSError:
            raise _Broken("the submission's process ended") from None

    def _recv(self, deadline: float) -> dict:
        size = int.from_bytes(self._read(_HEADER_SIZE, deadline), "big")
        if size > self.limits.message_bytes:
            raise _Broken(f"the submission's process sent {size} bytes, over the limit")
        try:
            message = wire.decode(self._read(size, deadline))
        except wire.WireError as exc:
            raise _Broken(f"the submission's process sent unreadable data ({exc})") from None
        if type(message) is not dict or type(message.get("op")) is not str:
            raise _Broken("the submission's process sent an unexpected message")
        return message

    def _read(self, size: int, deadline: float) -> bytes:
        sock = self._child[1]
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout()
            try:
                sock.settimeout(remaining)
                count = sock.recv_into(view[got:])
            except socket.timeout:
                raise _Timeout() from None
            except OSError:
                count = 0
            if not count:
                raise _Broken("the submission's process ended")
            got += count
        return bytes(buffer)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(line) for line in value) if type(value) in (list, tuple) else ()


def _field(message: dict, key: str) -> str:
    value = message.get(key)
    return value if type(value) is str else ""


def _cell_result(index: int, message: dict) -> CellResult:
    status = ERROR if message.get("status") == ERROR else OK
    seconds = message.get("seconds")
    return CellResult(index, status, _field(message, "error_type"), _field(message, "message"),
                      _strings(message.get("traceback")), _field(message, "output"),
                      seconds if type(seconds) is float else 0.0)


def _call_result(message: dict, seconds: float) -> CallResult:
    status = message.get("status")
    if status not in (OK, ERROR, MISSING):
        raise _Broken("the submission's process sent an unexpected message")
    args_after = message.get("args_after")
    return CallResult(status, message.get("value"),
                      args_after if type(args_after) is tuple else (),
                      _field(message, "error_type"), _field(message, "message"),
                      _strings(message.get("traceback")), _field(message, "output"), seconds)


def _exit_text(status: int | None) -> str:
    if status is None:
        return ""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = {signal.SIGXCPU: ": CPU time limit reached", signal.SIGSEGV: ": it crashed",
                signal.SIGKILL: ""}.get(number, "")
        return f" (killed by {name}{hint})"
    if os.WIFEXITED(status):
        return f" (exit status {os.WEXITSTATUS(status)})"
    return ""
