"""The grader's end of one sandbox child's socket: frames, deadlines, untrusted data.

Each message is a frame: its size in :data:`HEADER_SIZE` bytes (big-endian), then its
bytes. Every wait has a deadline (:class:`Timeout` past it); anything the child does
that breaks the protocol, ending included, is :class:`Broken`. What the child sends
is decoded by :mod:`grader.sandbox.wire` only, and a call's result is checked field by
field (:func:`read_result`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from grader.sandbox import wire
from grader.sandbox.messages import ERROR, MISSING, OK, CallResult, reply_texts

HEADER_SIZE = 8
READ_CHUNK = 1 << 16
UNEXPECTED = "the submission's process sent an unexpected message"


class Timeout(Exception):
    """A deadline passed while waiting for the child."""


class Broken(Exception):
    """The child ended (``ended``), or sent something that breaks the protocol."""

    def __init__(self, message: str, ended: bool = False):
        super().__init__(message)
        self.ended = ended


class Channel:
    """Frames to and from one child; ``message_bytes``: the largest frame it may send."""

    def __init__(self, sock: socket.socket, message_bytes: int):
        self.socket, self.message_bytes = sock, message_bytes
        self._buffer = bytearray()  # read from the socket, not yet used
        # called once, while waiting for the child, when the clock passes slow_at
        self.slow_at: float | None = None
        self.on_slow: Callable[[], None] | None = None

    def _slow(self) -> None:
        hook, self.on_slow, self.slow_at = self.on_slow, None, None
        if hook is not None:
            hook()

    def close(self) -> None:
        self.socket.close()
        self._buffer.clear()

    def send(self, message: dict, deadline: float) -> None:
        self.send_data(wire.to_child(message), deadline)

    def send_data(self, data: bytes, deadline: float) -> None:
        try:
            self.socket.settimeout(max(deadline - time.monotonic(), 1e-3))
            self.socket.sendall(len(data).to_bytes(HEADER_SIZE, "big") + data)
        except TimeoutError:
            raise Timeout() from None
        except OSError:
            raise Broken("the submission's process ended", ended=True) from None

    def expect_silence(self) -> None:
        """After its result the child has nothing to say; more is forged data (or worse)."""
        if self._buffer:
            raise Broken("the submission's process sent data nobody asked for")
        try:
            self.socket.settimeout(0.0)
            extra = self.socket.recv(1, socket.MSG_PEEK)
        except OSError:  # nothing waiting (or the child is gone: the next read says so)
            return
        if extra:
            raise Broken("the submission's process sent data nobody asked for")

    def read_frame(self, deadline: float) -> bytes:
        size = int.from_bytes(self._read(HEADER_SIZE, deadline), "big")
        if size > self.message_bytes:
            raise Broken(f"the submission's process sent {size} bytes, over the limit")
        return self._read(size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        """``size`` bytes from the child. Read in large chunks: a result is three frames
        sent in one write, which then costs one system call here, not six."""
        sock, buffer = self.socket, self._buffer
        while len(buffer) < size:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                raise Timeout()
            if self.slow_at is not None:
                if now >= self.slow_at:
                    self._slow()
                else:
                    remaining = min(remaining, self.slow_at - now)
            try:
                sock.settimeout(max(remaining, 1e-3))
                chunk = sock.recv(max(size - len(buffer), READ_CHUNK))
            except TimeoutError:
                if time.monotonic() < deadline:
                    continue  # the slow hook's moment, not the deadline
                raise Timeout() from None
            except OSError:
                chunk = b""
            if not chunk:
                raise Broken("the submission's process ended", ended=True)
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data


def decode_message(data: bytes) -> dict:
    """A message of the child's: a dict with a string ``op``, else :class:`Broken`."""
    message = decode_value(data)
    if type(message) is not dict or type(message.get("op")) is not str:
        raise Broken(UNEXPECTED)
    return message


def decode_value(data: bytes) -> Any:
    try:
        return wire.decode(data)
    except wire.WireError as exc:
        raise Broken(f"the submission's process sent unreadable data ({exc})") from None


def read_result(
    message: dict,
    read_frame: Callable[[float], bytes],
    deadline: float,
    arguments: bytes,
    expected: tuple[bytes, bytes] | None,
    output_chars: int,
    seconds: float,
) -> CallResult:
    """A call's result: the child's reply ``message``, then for a value the frames
    ``read_frame`` reads: the value's encoding, and the arguments' after the call unless
    they kept their fingerprint (then they are ``arguments``, as sent). A frame equal to
    its ``expected`` encoding is flagged and not decoded."""
    status = message.get("status")
    if status not in (OK, ERROR, MISSING):
        raise Broken(UNEXPECTED)
    value: Any = None
    args_after: Any = ()
    matches = [False, False]
    if status == OK:
        count = message.get("parts")
        if type(count) is not int or count not in (1, 2):
            raise Broken(UNEXPECTED)
        parts = [read_frame(deadline) for _ in range(count)]
        if count == 1:  # the arguments kept their fingerprint: as they were sent
            parts.append(arguments)
        decoded = []
        for number, data in enumerate(parts):
            matches[number] = expected is not None and data == expected[number]
            decoded.append(None if matches[number] else decode_value(data))
        value, args_after = decoded
        if not matches[1] and type(args_after) is not tuple:
            args_after = ()
    return CallResult(
        status, value, args_after, *reply_texts(message, output_chars), seconds, *matches
    )
