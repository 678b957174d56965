"""One submission in the sandbox: its cells' results, calls with deadlines, re-forks.

A :class:`Session` (from :meth:`grader.sandbox.server.Sandbox.open`) owns one child
process of the sandbox's fork server (what it needs of that server: :class:`ForkServer`);
it is a :class:`~grader.sandbox.backend.SandboxSession`. Every wait has a deadline; a call
that hangs or kills its process costs that call only: the next call forks a fresh child
and runs the cells again (skipping a cell that hung). Data from the child is untrusted: it
is decoded by :mod:`grader.sandbox.wire` (read through a
:class:`~grader.sandbox.channel.Channel`) and checked field by field here.

Speed comes from doing less per call, not from trusting the child more: a
:class:`CallBatch` sends all of one function's argument sets in one request (encoded once
per batch of submissions), results stream back, a result whose bytes equal the expected
encoding is not decoded at all, callbacks a correct submission makes are answered in the
child from answers sealed by their question (:func:`grader.sandbox.sealing.seal`), and the
others are remembered by the exact bytes asked (:class:`ReplyMemo`). The messages
themselves are in :mod:`grader.sandbox.messages`.
"""

from __future__ import annotations

import functools
import math
import os
import re
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from grader.sandbox.backend import Limits, SandboxError, SandboxSession
from grader.sandbox.channel import (
    UNEXPECTED,
    Broken,
    Channel,
    Timeout,
    decode_message,
    read_result,
)
from grader.sandbox.messages import (
    DIED,
    MISSING,
    NOT_RUN,
    OK,
    QUIET_RESULTS,
    TIMEOUT,
    CallBatch,
    CallResult,
    CellResult,
    ReplyMemo,
    answer,
    cell_result,
    compiled,
    exit_text,
    timed_out,
    traceback_lines,
)

CELL_ERRORS_SHOWN = 50  # lines of cell_errors(); a notebook may have thousands of cells
INTERRUPT_GRACE = 0.5  # seconds a cell that ran out of time gets to say where it was


class ForkServer(Protocol):
    """What a session needs of the fork server that opened it
    (:class:`grader.sandbox.server.Sandbox`)."""

    memo: ReplyMemo  # callback answers, shared by the server's sessions

    def fork_child(
        self, request: dict, helper_dir: str | None
    ) -> tuple[int, socket.socket, str]: ...

    def kill_child(self, pid: int, scratch: str, grace: float | None = None) -> int | None: ...

    def lower_priority(self, pid: int) -> None: ...

    def view(self, path: str) -> Path: ...


class Session:
    """One submission in its own process; calls re-fork it after a timeout or crash.

    Made by :meth:`grader.sandbox.server.Sandbox.open`, which then calls :meth:`start`."""

    def __init__(
        self,
        server: ForkServer,
        cells: list[str],
        helper_dir: Path | None,
        aliases: dict[str, str],
        limits: Limits,
        *,
        numbers: Sequence[int] | None = None,
        names: Sequence[str] | None = None,
    ):
        self._server, self._cells, self.limits = server, cells, limits
        self._numbers = (
            [int(n) for n in numbers] if numbers is not None else [i + 1 for i in range(len(cells))]
        )
        self._names = list(names) if names is not None else [""] * len(cells)
        if len(self._numbers) != len(cells) or len(self._names) != len(cells):
            raise ValueError("numbers and names must give one entry per cell")
        cpu = limits.cpu_seconds or math.ceil(limits.submission_timeout) + 1
        self._helper_dir = None if helper_dir is None else str(Path(helper_dir).resolve())
        self._request = {
            "helper_dir": self._helper_dir,
            "aliases": aliases,
            "limits": {**asdict(limits), "cpu_seconds": int(cpu)},
        }
        self._opened = time.monotonic()
        self._deadline = self._opened + limits.submission_timeout
        self._results: dict[int, CellResult] = {}
        self._skip: set[int] = set()
        self._child: tuple[int, Channel, str] | None = None  # pid, its socket, scratch folder
        # function name -> index of the cell that ran out of time while running it
        self.hung: dict[str, int] = {}
        self._closed = False

    @property
    def cell_results(self) -> tuple[CellResult, ...]:
        return tuple(self._results.get(i, CellResult(i, NOT_RUN)) for i in range(len(self._cells)))

    def cell_errors(self) -> list[str]:
        """One line per cell that did not run cleanly, for reports (the first 50, then a count)."""
        lines = [
            cell.summary(self.cell_label(cell.index))
            for cell in self.cell_results
            if cell.status != OK
        ]
        if len(lines) > CELL_ERRORS_SHOWN:
            hidden = len(lines) - CELL_ERRORS_SHOWN + 1
            lines[CELL_ERRORS_SHOWN - 1 :] = [f"... and {hidden} more cells with errors"]
        return lines

    def cell_label(self, index: int) -> str:
        """``cell 23 (linear_forward)``: the number Jupyter shows, and what the cell is."""
        name = self._names[index]
        return f"cell {self._numbers[index]}" + (f" ({name})" if name else "")

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child[0]

    @property
    def scratch_dir(self) -> Path | None:
        """The child's scratch folder, as a path the grader can open (not the child's path)."""
        return None if self._child is None else self._server.view(self._child[2])

    def call(
        self,
        function: str,
        args: Sequence[Any] = (),
        *,
        callbacks: Mapping[str, Callable[..., Any]] = {},
        seed_global_random: int | None = None,
        timeout: float | None = None,
    ) -> CallResult:
        """Call the submission's ``function(*args)``; names in ``callbacks`` run in this process."""
        batch = CallBatch(function, ((tuple(args), seed_global_random),), tuple(callbacks))
        return self.calls(batch, callbacks, timeout=timeout)[0]

    def calls(
        self,
        batch: CallBatch,
        callbacks: Mapping[str, Callable[..., Any]] = {},
        *,
        expected: Sequence[tuple[bytes, bytes]] | None = None,
        timeout: float | None = None,
        why: str = "",
    ) -> list[CallResult]:
        """Make every call of ``batch``, each with its own deadline of ``timeout`` seconds
        (``why``: where that limit comes from, in words, for the message of a timeout).

        Stops after a call that is missing, timed out or died (the same input would only
        cost the limit again), so the list may be shorter than ``batch.calls``.
        ``expected``: per call, the encodings of the expected value and of the
        arguments; results equal to them are flagged and left undecoded."""
        timeout = self.limits.call_timeout if timeout is None else timeout
        if self._closed:
            raise SandboxError("the session is closed")
        if set(callbacks) != set(batch.callbacks):
            raise ValueError(
                f"callbacks {sorted(callbacks)} are not the batch's {sorted(batch.callbacks)}"
            )
        if self._child is None and not self.start():
            return [
                CallResult(
                    TIMEOUT,
                    message="the submission used up its time "
                    f"({self.limits.submission_timeout:g} s) before this call",
                )
            ]
        results: list[CallResult] = []
        identity = tuple(sorted(callbacks.items(), key=lambda item: item[0]))
        started = time.monotonic()
        deadline = min(started + timeout, self._deadline)
        try:
            self._channel.send_data(batch.request, deadline)
            for index in range(len(batch.calls)):
                while True:
                    data = self._read_frame(deadline)
                    memo_key = (identity, batch.bounds[index], data)
                    reply = self._server.memo.get(memo_key) if callbacks else None
                    if reply is not None:
                        self._channel.send_data(reply, deadline)
                        continue
                    message = QUIET_RESULTS.get(data) or self._decode(data)
                    if message["op"] == "result":
                        break
                    if message["op"] != "callback":
                        raise Broken(UNEXPECTED)
                    reply = answer(message, callbacks, batch.bounds[index])
                    if callbacks:
                        self._server.memo.put(memo_key, reply)
                    self._channel.send_data(reply, deadline)
                result = read_result(
                    message,
                    self._read_frame,
                    deadline,
                    batch.arguments[index],
                    expected[index] if expected else None,
                    self.limits.output_bytes,
                    time.monotonic() - started,
                )
                results.append(result)
                if result.status == MISSING:
                    break
                started = time.monotonic()
                deadline = min(started + timeout, self._deadline)
            try:
                self._channel.expect_silence()
            except Broken:
                results.pop()  # the last result was not alone: it proves nothing
                raise
            return results
        except Timeout:
            self._stop()
            limit = (
                "before the submission's time ran out"
                if deadline == self._deadline
                else f"within {timeout:g} s" + (f" ({why})" if why else "")
            )
            results.append(timed_out(batch.function, limit, time.monotonic() - started))
        except Broken as exc:
            results.append(
                CallResult(DIED, message=self._ended(exc), seconds=time.monotonic() - started)
            )
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

    def abandon(self) -> None:
        """Close without stopping the child: its fork server is closing, and that stops
        every child it started."""
        self._closed = True
        if self._child is not None:
            self._child[1].close()
            self._child = None

    def _stop(self, grace: float | None = None) -> int | None:
        if self._child is None:
            return None
        pid, channel, scratch = self._child
        self._child = None
        channel.close()
        return self._server.kill_child(pid, scratch, grace)

    def _ended(self, exc: Broken) -> str:
        """Stop the child; the message, with its exit status where it ended by itself."""
        if not exc.ended:  # killed by us: its exit status would only say when
            self._stop()
            return str(exc)
        return f"{exc}{exit_text(self._stop(grace=0.2))}"

    def start(self) -> bool:
        """Fork a child and run the cells, skipping any that hung; False when out of time.

        Done once by :meth:`~grader.sandbox.server.Sandbox.open`, and again by a call
        after a call that timed out or ended the child."""
        while time.monotonic() < self._deadline:
            pid, sock, scratch = self._server.fork_child(self._request, self._helper_dir)
            channel = Channel(sock, self.limits.message_bytes)
            if self.limits.lower_priority_after is not None:
                # a submission still running after that is probably stuck: it keeps its
                # limits, but yields the CPU to the others' (a service's p95 with a loop)
                channel.slow_at = self._opened + self.limits.lower_priority_after
                channel.on_slow = functools.partial(self._server.lower_priority, pid)
            self._child = (pid, channel, scratch)
            todo = [i for i in range(len(self._cells)) if i not in self._skip]
            deadline = min(time.monotonic() + self.limits.cells_timeout, self._deadline)
            current = todo[0] if todo else None
            try:
                cells = [
                    [
                        i,
                        self._cells[i],
                        compiled(self._numbers[i], self._cells[i]),
                        self._numbers[i],
                    ]
                    for i in todo
                ]
                self._channel.send({"op": "cells", "cells": cells}, deadline)
                for current in todo:
                    # one cell may take as long as one call; all cells together cells_timeout
                    message = self._recv(min(time.monotonic() + self.limits.call_timeout, deadline))
                    if message["op"] != "cell" or message.get("index") != current:
                        raise Broken(UNEXPECTED)
                    self._record(current, cell_result(current, message, self.limits.output_bytes))
                return True
            except Timeout:
                where = self._interrupt(current) if current is not None else None
                self._stop()
                if current is None:
                    return False
                limit = (
                    "the submission's time"
                    if time.monotonic() >= self._deadline
                    else f"the time limit ({self.limits.call_timeout:g} s a cell, "
                    f"{self.limits.cells_timeout:g} s for all cells)"
                )
                # the message does not name ``where``: whether the child could say in
                # time is a race (a fork bomb, say), and a regrade must read the same
                self._fail(current, TIMEOUT, f"did not finish within {limit}")
                if where:
                    self.hung.setdefault(where, current)
            except Broken as exc:
                ended = self._ended(exc)
                if current is None:
                    return False
                self._fail(current, DIED, ended)
        return False

    def _interrupt(self, index: int) -> str | None:
        """The function a cell that ran out of time was stuck in, if the child says so.

        A KeyboardInterrupt raised in the child yields the cell's traceback; its innermost
        frame names the function (the submission's own account: it can only lie to its
        own cost). Called then with hidden inputs, the function would most likely cost
        the limit a second time."""
        if self._child is None:
            return None
        try:
            os.kill(self._child[0], signal.SIGINT)
            message = self._recv(time.monotonic() + INTERRUPT_GRACE)
        except (OSError, Timeout, Broken):
            return None
        if (
            message.get("op") != "cell"
            or message.get("index") != index
            or message.get("error_type") != "KeyboardInterrupt"
        ):
            return None
        frames = traceback_lines(message.get("traceback"))
        found = re.match(r'File "<cell \d+>", line \d+, in (\w+)', frames[-1] if frames else "")
        return found.group(1) if found and found.group(1) != "<module>" else None

    def _fail(self, index: int, status: str, message: str) -> None:
        self._skip.add(index)
        self._results[index] = CellResult(
            index, status, message=f"{message}; the grader did not run this cell again"
        )

    def _record(self, index: int, result: CellResult) -> None:
        self._results.setdefault(index, result)  # the first run is the one reported

    @property
    def _channel(self) -> Channel:
        """The running child's socket (only used while there is one)."""
        assert self._child is not None
        return self._child[1]

    def _recv(self, deadline: float) -> dict:
        return self._decode(self._read_frame(deadline))

    def _read_frame(self, deadline: float) -> bytes:
        return self._channel.read_frame(deadline)

    def _decode(self, data: bytes) -> dict:
        return decode_message(data)


if TYPE_CHECKING:  # for mypy: a session of the back-end interface
    _SESSION: type[SandboxSession] = Session
