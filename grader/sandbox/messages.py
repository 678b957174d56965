"""What a submission's process and the grader say to each other, as data.

:class:`CellResult` and :class:`CallResult` are what a session reports;
:class:`CallBatch` is one request (all of a function's calls, encoded once per batch
of submissions); :func:`compiled` is a cell as the child runs it; :class:`ReplyMemo`
remembers callback answers by the exact bytes asked; :func:`answer` replies to a
callback (:class:`Callback`: with the kit's contract for its arguments). The helpers at
the end read the child's untrusted replies field by field, each text cut to what the
grader keeps of it.
"""

from __future__ import annotations

import functools
import marshal
import os
import signal
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from grader.sandbox import sealing, wire

OK, ERROR, MISSING, TIMEOUT, DIED, NOT_RUN = "ok", "error", "missing", "timeout", "died", "not_run"
# a callback runs in the grader's process: its data may be as large as the check's own
# arguments (any dimension, 4x the elements), or this small whatever they are
CALLBACK_DIMENSION, CALLBACK_ELEMENTS = 64, 4096
# what the grader keeps of each text the child sends, whatever the child claims: it runs
# the student's code, which can lift the child's own caps. Each keeps a legitimate text
# whole: the child sends a type name of at most 200 characters, a message of 2000 (plus a
# prefix of 50 when a result could not be sent), 8 frames (9 for a SyntaxError), each a
# "File ..., in name" line of at most ~250 and 300 of code, and the output's last
# Limits.output_bytes characters (its tail is kept here too)
TYPE_CHARS, MESSAGE_CHARS = 200, 2500
TRACEBACK_LINES, LINE_CHARS = 20, 600
CUT = "(cut)"
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
        return f"{label or f'cell {self.index + 1}'}: " + ": ".join(
            p for p in (self.error_type, first_line) if p
        )


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
        return marshal.dumps(
            compile(source, f"<cell {number}>", "exec", dont_inherit=True, optimize=0)
        )
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
    # answers to callbacks known in advance, sealed by their question (see grader.sandbox.sealing):
    # {"salt": bytes, "names": {callback: argument names}, "sealed": {key: bytes}}
    answers: dict | None = None

    @cached_property
    def request(self) -> bytes:
        return wire.to_child(
            {
                "op": "calls",
                "function": self.function,
                "callbacks": sorted(self.callbacks),
                "calls": [
                    [tuple(args), seed, sealing.fingerprint(tuple(args))]
                    for args, seed in self.calls
                ],
                "answers": self.answers,
            }
        )

    @cached_property
    def arguments(self) -> tuple[bytes, ...]:
        """Per call, the encoding of its arguments: theirs after a call that left them as
        they were (the child then does not send them back)."""
        return tuple(wire.encode(tuple(args)) for args, _seed in self.calls)

    @cached_property
    def bounds(self) -> tuple[tuple[int, int], ...]:
        """Per call, the largest data a callback may be asked to take (see :func:`answer`)."""
        bounds = []
        for args, _seed in self.calls:
            dimension, elements = _extent(tuple(args))
            bounds.append(
                (max(CALLBACK_DIMENSION, dimension), max(CALLBACK_ELEMENTS, 4 * elements))
            )
        return tuple(bounds)


@dataclass(frozen=True)
class Callback:
    """A dependency the grader answers with the reference (isolation), and the assignment
    kit's contract for its arguments: ``contract(name, args, kwargs)`` raises ValueError
    for arguments the exercise does not allow, else says how many values the answer
    holds, so that :func:`answer` refuses a large one before it is computed here."""

    function: Callable[..., Any]
    contract: Callable[[str, tuple, dict], int] | None = None

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


def answer(message: dict, callbacks: Mapping[str, Callable], bound: tuple[int, int]) -> bytes:
    """The reply to a callback request: the reference's answer, or an error that the child
    raises in the student's call. ``bound``: (largest dimension, values) the check allows.
    Never raises: what a submission asks costs its own call at most."""
    name, args, kwargs = message.get("name"), message.get("args"), message.get("kwargs")
    if (
        type(name) is not str
        or name not in callbacks
        or type(args) is not tuple
        or type(kwargs) is not dict
        or any(type(key) is not str for key in kwargs)
    ):
        shown = name[:100] if type(name) is str else type(name).__name__
        error = f"no callback {shown!r} here"
    elif any(have > most for have, most in zip(_extent((args, kwargs)), bound)):
        # e.g. a (n, 1) by (1, n) product: the grader's memory and time are not the child's
        error = f"{name} refused arguments larger than the check's own"
    else:
        refusal = _refusal(name, callbacks[name], args, kwargs, bound[1])
        if refusal is None:
            try:
                return wire.to_child(
                    {"op": "callback", "ok": True, "value": callbacks[name](*args, **kwargs)}
                )
            except Exception as exc:  # the reference failed on these arguments
                refusal = _exception_text(exc)
        error = refusal
    return wire.to_child({"op": "callback", "ok": False, "error": _cut(error, MESSAGE_CHARS)})


def _refusal(name: str, callback: Callable, args: tuple, kwargs: dict, budget: int) -> str | None:
    """Why the callback's contract refuses these arguments; None when it has no objection."""
    if type(callback) is not Callback or callback.contract is None:
        return None
    try:
        values = callback.contract(name, args, kwargs)
    except Exception as exc:  # ValueError: outside the exercise's contract
        return f"{name} refused its arguments: {_exception_text(exc, with_type=False)}"
    if type(values) is not int or values > budget:
        return (
            f"{name} refused: its answer would hold {values} values, more than this "
            f"check's data allows ({budget})"
        )
    return None


def _exception_text(exc: Exception, with_type: bool = True) -> str:
    try:
        text = str(exc)[:MESSAGE_CHARS]
    except Exception:
        text = "<its message could not be shown>"
    return f"{type(exc).__name__}: {text}" if with_type else text


# what the child sends for a result that printed nothing (most of them): known bytes,
# not decoded again (``_QUIET_OK`` of :mod:`grader.sandbox.inside.child`
# makes the same with the same wire.encode)
QUIET_RESULTS = {
    wire.encode(message): message
    for message in ({"op": "result", "status": "ok", "output": "", "parts": n} for n in (1, 2))
}


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


def _cut(text: str, limit: int, keep_end: bool = False) -> str:
    """``text`` if it is at most ``limit`` characters, else its start (or end) and CUT."""
    if len(text) <= limit:
        return text
    return f"{CUT} {text[-limit:]}" if keep_end else f"{text[:limit]} {CUT}"


def traceback_lines(value: Any) -> tuple[str, ...]:
    """Traceback lines: the last TRACEBACK_LINES (the innermost frames), each cut."""
    if type(value) not in (list, tuple):
        return ()
    head = []
    if len(value) > TRACEBACK_LINES:
        head = [f"{CUT}: {len(value) - TRACEBACK_LINES + 1} earlier lines"]
        value = value[1 - TRACEBACK_LINES :]
    return tuple(head + [_cut(line, LINE_CHARS) for line in value if type(line) is str])


def _field(message: dict, key: str, limit: int, keep_end: bool = False) -> str:
    value = message.get(key)
    return _cut(value, limit, keep_end) if type(value) is str else ""


def reply_texts(message: dict, output_chars: int) -> tuple[str, str, tuple[str, ...], str]:
    """error_type, message, traceback and output of a reply, as the grader keeps them."""
    return (
        _field(message, "error_type", TYPE_CHARS),
        _field(message, "message", MESSAGE_CHARS),
        traceback_lines(message.get("traceback")),
        _field(message, "output", output_chars, keep_end=True),
    )


def cell_result(index: int, message: dict, output_chars: int) -> CellResult:
    """A cell's result from the child's reply, read field by field."""
    status = ERROR if message.get("status") == ERROR else OK
    seconds = message.get("seconds")
    return CellResult(
        index,
        status,
        *reply_texts(message, output_chars),
        seconds if type(seconds) is float else 0.0,
    )


def exit_text(status: int | None) -> str:
    """How a child ended, from its wait status, as the end of a message ("" if unknown)."""
    if status is None:
        return ""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hints: dict[int, str] = {
            signal.SIGXCPU: ": CPU time limit reached",
            signal.SIGSEGV: ": it crashed",
            signal.SIGKILL: "",
        }
        hint = hints.get(number, "")
        return f" (killed by {name}{hint})"
    if os.WIFEXITED(status):
        return f" (exit status {os.WEXITSTATUS(status)})"
    return ""
