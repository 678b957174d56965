"""What a submission's process and the grader say to each other, as data.

:class:`CellResult` and :class:`CallResult` are what a session reports;
:class:`CallBatch` is one request (all of a function's calls, encoded once per batch
of submissions); :func:`compiled` is a cell as the child runs it; :class:`ReplyMemo`
remembers callback answers by the exact bytes asked. The helpers at the end read the
child's untrusted replies field by field.
"""
from __future__ import annotations

import functools
import marshal
import os
import signal
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from grader import wire

OK, ERROR, MISSING, TIMEOUT, DIED, NOT_RUN = "ok", "error", "missing", "timeout", "died", "not_run"
# a callback runs in the grader's process: its data may be as large as the check's own
# arguments (any dimension, 4x the elements), or this small whatever they are
CALLBACK_DIMENSION, CALLBACK_ELEMENTS = 64, 4096
MEMO_BYTES = 32 << 20  # callback answers remembered per sandbox
MEMO_ENTRY_BYTES = 1 << 20
COMPILED_CHARS = 1 << 16  # larger cells are compiled by the child itself, under its limits


@dataclass(frozen=True)
class CellResult:
    index: int  # position in the cells given to open(); shown to students as cell index + 1
    status: str  # ok | error | timeout | died | not_run
    error_type: str = ""
    message: str = ""
    traceback: tuple[str, ...] = ()
    output: str = ""
    seconds: float = 0.0  # as measured in the child

    def summary(self, label: str | None = None) -> str:
        """One line for reports, e.g. ``cell 3: NameError: name 'x' is not defined``
        (``label``: how to name the cell, by default ``cell <index + 1>``)."""
        first_line = (self.message.splitlines() or [""])[0]
        return (f"{label or f'cell {self.index + 1}'}: "
                + ": ".join(p for p in (self.error_type, first_line) if p))


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


def timed_out(function: str, limit: str, seconds: float = 0.0) -> CallResult:
    """A call that ran out of time (``limit``: e.g. "within 10 s")."""
    return CallResult(TIMEOUT, message=f"{function} did not return {limit}", seconds=seconds)


@functools.lru_cache(maxsize=512)  # the cells common to many submissions stay; ~3 MB
def compiled(number: int, source: str) -> bytes | None:
    """The code the child would compile from cell ``number`` (as ``<cell number>``), made
    here once per distinct cell: most cells are the same in every submission, and
    compiling was a tenth of a child's work. None for a cell that does not compile (its
    error is raised in the child, as its own) or that is too large to be worth it here."""
    if len(source) > COMPILED_CHARS:
        return None
    try:
        return marshal.dumps(compile(source, f"<cell {number}>", "exec", dont_inherit=True,
                                     optimize=0))
    except Exception:  # SyntaxError, ValueError (a null byte), RecursionError...
        return None


@dataclass(frozen=True, eq=False)
class CallBatch:
    """Calls of one function, one per argument set: sent as one request.

    A batch of submissions reuses the same CallBatch for every one of them, so its
    request is encoded once."""

    function: str
    calls: tuple[tuple[tuple, int | None], ...]  # (arguments, global numpy seed or None)
    callbacks: tuple[str, ...] = ()  # names the child answers with a callback to the grader
    # answers to callbacks known in advance, sealed by their question (see grader.wire):
    # {"salt": bytes, "names": {callback: argument names}, "sealed": {key: bytes}}
    answers: dict | None = None

    @cached_property
    def request(self) -> bytes:
        return wire.to_child({"op": "calls", "function": self.function,
                              "callbacks": sorted(self.callbacks),
                              "calls": [[tuple(args), seed, wire.fingerprint(tuple(args))]
                                        for args, seed in self.calls],
                              "answers": self.answers})

    @cached_property
    def arguments(self) -> tuple[bytes, ...]:
        """Per call, the encoding of its arguments: theirs after a call that left them as
        they were (the child then does not send them back)."""
        return tuple(wire.encode(tuple(args)) for args, _seed in self.calls)

    @cached_property
    def bounds(self) -> tuple[tuple[int, int], ...]:
        """Per call, the largest data a callback may be asked to take (see ``_answer``)."""
        bounds = []
        for args, _seed in self.calls:
            dimension, elements = _extent(tuple(args))
            bounds.append((max(CALLBACK_DIMENSION, dimension),
                           max(CALLBACK_ELEMENTS, 4 * elements)))
        return tuple(bounds)


# what the child sends for a result that printed nothing (most of them): known bytes,
# not decoded again (``_child._QUIET_OK`` makes the same with the same wire.encode)
QUIET_RESULTS = {wire.encode(message): message for message in
                 ({"op": "result", "status": "ok", "output": "", "parts": n} for n in (1, 2))}


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
