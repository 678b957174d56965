"""One submission in the sandbox: its cells' results, calls with deadlines, re-forks.

A :class:`Session` (from :meth:`grader.sandbox.Sandbox.open`) owns one child process
of the sandbox's fork server. Every wait has a deadline; a call that hangs or kills
its process costs that call only: the next call forks a fresh child and runs the
cells again (skipping a cell that hung). Data from the child is untrusted: it is
decoded by :mod:`grader.wire` and checked field by field here.

Speed comes from doing less per call, not from trusting the child more: a
:class:`CallBatch` sends all of one function's argument sets in one request (encoded
once per batch of submissions), results stream back, a result whose bytes equal the
expected encoding is not decoded at all, and callback answers are remembered by the
exact bytes of the request (:class:`ReplyMemo`).
"""
from __future__ import annotations

import math
import os
import signal
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from grader import wire
from grader.errors import GraderError

if TYPE_CHECKING:
    from grader.sandbox import Limits, Sandbox

OK, ERROR, MISSING, TIMEOUT, DIED, NOT_RUN = "ok", "error", "missing", "timeout", "died", "not_run"
HEADER_SIZE = 8
MESSAGE_CHARS = 2000  # of an error from a callback
CELL_ERRORS_SHOWN = 50  # lines of cell_errors(); a notebook may have thousands of cells
# a callback runs in the grader's process: its data may be as large as the check's own
# arguments (any dimension, 4x the elements), or this small whatever they are
CALLBACK_DIMENSION, CALLBACK_ELEMENTS = 64, 4096
READ_CHUNK = 1 << 16
MEMO_BYTES = 32 << 20  # callback answers remembered per sandbox
MEMO_ENTRY_BYTES = 1 << 20


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
    value: Any = None  # None when ``value_matches``: it was not decoded
    args_after: tuple = ()  # the arguments as they were after the call (same)
    error_type: str = ""
    message: str = ""
    traceback: tuple[str, ...] = ()  # the student's frames only
    output: str = ""
    seconds: float = 0.0
    value_matches: bool = False  # the value's encoding equals the expected one, byte for byte
    args_match: bool = False  # the arguments' encoding after the call equals the expected one

    @property
    def error(self) -> str:
        """What went wrong, as Python prints it (last line ``Type: message``); empty if ok."""
        if self.status == ERROR:
            frames = "".join(f"  {line}\n" for line in self.traceback)
            head = "Traceback (most recent call last):\n" + frames if frames else ""
            return f"{head}{self.error_type}: {self.message}"
        return self.message if self.status in (TIMEOUT, DIED) else ""


@dataclass(frozen=True, eq=False)
class CallBatch:
    """Calls of one function, one per argument set: sent as one request.

    A batch of submissions reuses the same CallBatch for every one of them, so its
    request is encoded once."""

    function: str
    calls: tuple[tuple[tuple, int | None], ...]  # (arguments, global numpy seed or None)
    callbacks: tuple[str, ...] = ()  # names the child answers with a callback to the grader
    # answers to callbacks known in advance, sealed by their question (see grader.wire):
    # {"salt": uint8 array, "names": {callback: argument names}, "sealed": {key: uint8 array}}
    answers: dict | None = None

    @cached_property
    def request(self) -> bytes:
        return wire.encode({"op": "calls", "function": self.function,
                            "callbacks": sorted(self.callbacks),
                            "calls": [[tuple(args), seed] for args, seed in self.calls],
                            "answers": self.answers})

    @cached_property
    def bounds(self) -> tuple[tuple[int, int], ...]:
        """Per call, the largest data a callback may be asked to take (see ``_answer``)."""
        bounds = []
        for args, _seed in self.calls:
            dimension, elements = _extent(tuple(args))
            bounds.append((max(CALLBACK_DIMENSION, dimension),
                           max(CALLBACK_ELEMENTS, 4 * elements)))
        return tuple(bounds)


@dataclass
class ReplyMemo:
    """Callback answers by the exact request bytes; shared by a sandbox's sessions.

    Callbacks are the reference's pure functions, so the same request gets the same
    answer: a correct submission asks the same questions as the last one, and the
    grader then neither decodes them nor computes again. Bounded in bytes."""

    limit: int = MEMO_BYTES
    _entries: OrderedDict = field(default_factory=OrderedDict)
    _size: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            reply = self._entries.get(key)
            if reply is not None:
                self._entries.move_to_end(key)
            return reply

    def put(self, key: tuple, reply: bytes) -> None:
        size = len(key[-1]) + len(reply)
        if size > MEMO_ENTRY_BYTES:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = reply
            self._size += size
            while self._size > self.limit and self._entries:
                old_key, old_reply = self._entries.popitem(last=False)
                self._size -= len(old_key[-1]) + len(old_reply)


class SandboxError(GraderError):
    """The sandbox's helper process could not be started or stopped answering."""


class _Timeout(Exception):
    pass


class _Broken(Exception):
    """The child ended (``ended``), or sent something that breaks the protocol."""

    def __init__(self, message: str, ended: bool = False):
        super().__init__(message)
        self.ended = ended

    def outcome(self, session: Session) -> str:
        """Stop the child; the message, with its exit status where it ended by itself."""
        if not self.ended:  # killed by us: its exit status would only say when
            session._stop()
            return str(self)
        return f"{self}{_exit_text(session._stop(grace=0.2))}"


class Session:
    """One submission in its own process; calls re-fork it after a timeout or crash."""

    def __init__(self, sandbox: Sandbox, cells: list[str], helper_dir: Path | None,
                 aliases: dict[str, str], limits: Limits):
        self._sandbox, self._cells, self.limits = sandbox, cells, limits
        cpu = limits.cpu_seconds or math.ceil(limits.submission_timeout) + 1
        self._helper_dir = None if helper_dir is None else str(Path(helper_dir).resolve())
        self._request = {"helper_dir": self._helper_dir, "aliases": aliases,
                         "limits": {**asdict(limits), "cpu_seconds": int(cpu)}}
        self._deadline = time.monotonic() + limits.submission_timeout
        self._results: dict[int, CellResult] = {}
        self._skip: set[int] = set()
        self._child: tuple[int, socket.socket, str] | None = None
        self._buffer = bytearray()  # read from the child's socket, not yet used
        self._closed = False
        with sandbox._lock:
            sandbox._sessions.add(self)

    @property
    def cell_results(self) -> tuple[CellResult, ...]:
        return tuple(self._results.get(i, CellResult(i, NOT_RUN)) for i in range(len(self._cells)))

    def cell_errors(self) -> list[str]:
        """One line per cell that did not run cleanly, for reports (the first 50, then a count)."""
        lines = [cell.summary() for cell in self.cell_results if cell.status != OK]
        if len(lines) > CELL_ERRORS_SHOWN:
            hidden = len(lines) - CELL_ERRORS_SHOWN + 1
            lines[CELL_ERRORS_SHOWN - 1:] = [f"... and {hidden} more cells with errors"]
        return lines

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child[0]

    @property
    def scratch_dir(self) -> Path | None:
        """The child's scratch folder, as a path the grader can open (not the child's path)."""
        return None if self._child is None else self._sandbox._view(self._child[2])

    def call(self, function: str, args: Sequence[Any] = (), *,
             callbacks: Mapping[str, Callable[..., Any]] = {},
             seed_global_random: int | None = None, timeout: float | None = None) -> CallResult:
        """Call the submission's ``function(*args)``; names in ``callbacks`` run in this process."""
        batch = CallBatch(function, ((tuple(args), seed_global_random),), tuple(callbacks))
        return self.calls(batch, callbacks, timeout=timeout)[0]

    def calls(self, batch: CallBatch, callbacks: Mapping[str, Callable[..., Any]] = {}, *,
              expected: Sequence[tuple[bytes, bytes]] | None = None,
              timeout: float | None = None) -> list[CallResult]:
        """Make every call of ``batch``, each with its own deadline of ``timeout`` seconds.

        Stops after a call that is missing, timed out or died (the same input would only
        cost the limit again), so the list may be shorter than ``batch.calls``.
        ``expected``: per call, the encodings of the expected value and of the
        arguments; results equal to them are flagged and left undecoded."""
        timeout = self.limits.call_timeout if timeout is None else timeout
        if self._closed:
            raise SandboxError("the session is closed")
        if set(callbacks) != set(batch.callbacks):
            raise ValueError(f"callbacks {sorted(callbacks)} are not the batch's "
                             f"{sorted(batch.callbacks)}")
        if self._child is None and not self._start():
            return [CallResult(TIMEOUT, message="the submission used up its time "
                               f"({self.limits.submission_timeout:g} s) before this call")]
        results: list[CallResult] = []
        identity = tuple(sorted(callbacks.items(), key=lambda item: item[0]))
        started = time.monotonic()
        deadline = min(started + timeout, self._deadline)
        try:
            self._send_data(batch.request, deadline)
            for index in range(len(batch.calls)):
                while True:
                    data = self._read_frame(deadline)
                    memo_key = (identity, batch.bounds[index], data)
                    reply = self._sandbox._memo.get(memo_key) if callbacks else None
                    if reply is not None:
                        self._send_data(reply, deadline)
                        continue
                    message = self._decode(data)
                    if message["op"] == "result":
                        break
                    if message["op"] != "callback":
                        raise _Broken("the submission's process sent an unexpected message")
                    reply = self._answer(message, callbacks, batch.bounds[index])
                    self._sandbox._memo.put(memo_key, reply)
                    self._send_data(reply, deadline)
                result = self._call_result(message, expected[index] if expected else None,
                                           deadline, time.monotonic() - started)
                results.append(result)
                if result.status == MISSING:
                    break
                started = time.monotonic()
                deadline = min(started + timeout, self._deadline)
            try:
                self._expect_silence()
            except _Broken:
                results.pop()  # the last result was not alone: it proves nothing
                raise
            return results
        except _Timeout:
            self._stop()
            limit = ("before the submission's time ran out" if deadline == self._deadline
                     else f"within {timeout:g} s")
            results.append(CallResult(TIMEOUT, message=f"{batch.function} did not return {limit}",
                                      seconds=time.monotonic() - started))
        except _Broken as exc:
            results.append(CallResult(DIED, message=exc.outcome(self),
                                      seconds=time.monotonic() - started))
        return results

    def close(self) -> None:
        """Kill the submission's processes and delete its scratch folder.

        Returns at once; the sandbox's helper kills them before it serves its next request
        (so before the next submission of this sandbox starts)."""
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
            self._buffer.clear()

    def _stop(self, grace: float | None = None) -> int | None:
        if self._child is None:
            return None
        pid, sock, scratch = self._child
        self._child = None
        self._buffer.clear()
        sock.close()
        return self._sandbox._kill(pid, scratch, grace)

    def _start(self) -> bool:
        """Fork a child and run the cells, skipping any that hung; False when out of time."""
        while time.monotonic() < self._deadline:
            self._child = self._sandbox._fork(self._request, self._helper_dir)
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
                message = exc.outcome(self)
                if current is None:
                    return False
                self._fail(current, DIED, message)
        return False

    def _fail(self, index: int, status: str, message: str) -> None:
        self._skip.add(index)
        self._results[index] = CellResult(index, status, message=message + " (skipped)")

    def _record(self, index: int, result: CellResult) -> None:
        self._results.setdefault(index, result)  # the first run is the one reported

    def _answer(self, message: dict, callbacks: Mapping[str, Callable],
                bound: tuple[int, int]) -> bytes:
        name, args, kwargs = message.get("name"), message.get("args"), message.get("kwargs")
        if (name not in callbacks or type(args) is not tuple or type(kwargs) is not dict
                or any(type(key) is not str for key in kwargs)):
            reply = {"op": "callback", "ok": False, "error": f"no callback {name!r} here"}
        elif any(have > most for have, most in zip(_extent((args, kwargs)), bound)):
            # e.g. a (n, 1) by (1, n) product: the grader's memory and time are not the child's
            reply = {"op": "callback", "ok": False, "error": f"{name} refused arguments larger "
                     "than the check's own"}
        else:
            try:
                reply = {"op": "callback", "ok": True, "value": callbacks[name](*args, **kwargs)}
            except Exception as exc:
                reply = {"op": "callback", "ok": False,
                         "error": f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]}
        return wire.encode(reply)

    def _send(self, message: dict, deadline: float) -> None:
        self._send_data(wire.encode(message), deadline)

    def _send_data(self, data: bytes, deadline: float) -> None:
        sock = self._child[1]
        try:
            sock.settimeout(max(deadline - time.monotonic(), 1e-3))
            sock.sendall(len(data).to_bytes(HEADER_SIZE, "big") + data)
        except socket.timeout:
            raise _Timeout() from None
        except OSError:
            raise _Broken("the submission's process ended", ended=True) from None

    def _expect_silence(self) -> None:
        """After its result the child has nothing to say; more is forged data (or worse)."""
        if self._buffer:
            raise _Broken("the submission's process sent data nobody asked for")
        sock = self._child[1]
        try:
            sock.settimeout(0.0)
            extra = sock.recv(1, socket.MSG_PEEK)
        except OSError:  # nothing waiting (or the child is gone: the next read says so)
            return
        if extra:
            raise _Broken("the submission's process sent data nobody asked for")

    def _recv(self, deadline: float) -> dict:
        return self._decode(self._read_frame(deadline))

    def _read_frame(self, deadline: float) -> bytes:
        size = int.from_bytes(self._read(HEADER_SIZE, deadline), "big")
        if size > self.limits.message_bytes:
            raise _Broken(f"the submission's process sent {size} bytes, over the limit")
        return self._read(size, deadline)

    def _decode(self, data: bytes) -> Any:
        try:
            message = wire.decode(data)
        except wire.WireError as exc:
            raise _Broken(f"the submission's process sent unreadable data ({exc})") from None
        if type(message) is not dict or type(message.get("op")) is not str:
            raise _Broken("the submission's process sent an unexpected message")
        return message

    def _call_result(self, message: dict, expected: tuple[bytes, bytes] | None,
                     deadline: float, seconds: float) -> CallResult:
        status = message.get("status")
        if status not in (OK, ERROR, MISSING):
            raise _Broken("the submission's process sent an unexpected message")
        value, args_after, matches = None, (), [False, False]
        if status == OK:
            if message.get("parts") != 2:
                raise _Broken("the submission's process sent an unexpected message")
            parts = [self._read_frame(deadline), self._read_frame(deadline)]
            decoded = []
            for number, data in enumerate(parts):
                matches[number] = expected is not None and data == expected[number]
                decoded.append(None if matches[number] else self._value(data))
            value, args_after = decoded
            if not matches[1] and type(args_after) is not tuple:
                args_after = ()
        return CallResult(status, value, args_after, _field(message, "error_type"),
                          _field(message, "message"), _strings(message.get("traceback")),
                          _field(message, "output"), seconds, matches[0], matches[1])

    @staticmethod
    def _value(data: bytes) -> Any:
        try:
            return wire.decode(data)
        except wire.WireError as exc:
            raise _Broken(f"the submission's process sent unreadable data ({exc})") from None

    def _read(self, size: int, deadline: float) -> bytes:
        """``size`` bytes from the child. Read in large chunks: a result is three frames
        sent in one write, which then costs one system call here, not six."""
        sock, buffer = self._child[1], self._buffer
        while len(buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout()
            try:
                sock.settimeout(remaining)
                chunk = sock.recv(max(size - len(buffer), READ_CHUNK))
            except socket.timeout:
                raise _Timeout() from None
            except OSError:
                chunk = b""
            if not chunk:
                raise _Broken("the submission's process ended", ended=True)
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data


def _extent(value: Any) -> tuple[int, int]:
    """(largest array dimension, number of elements) in decoded data; a number counts one."""
    if isinstance(value, np.ndarray):
        return max(value.shape, default=1), value.size
    if type(value) is dict:
        value = [*value.keys(), *value.values()]
    if type(value) in (list, tuple):
        dimension, elements = len(value), 0
        for item in value:
            item_dimension, item_elements = _extent(item)
            dimension, elements = max(dimension, item_dimension), elements + item_elements
        return dimension, elements
    return 1, 1


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
