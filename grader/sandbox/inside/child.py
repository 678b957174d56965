"""A submission's own process: runs its cells in one namespace, then answers calls.

Never imported by the grader: the sandbox's helper process (:mod:`grader.sandbox.inside.zygote`)
loads this file's source text, and each forked child, already confined (own session,
resource limits, an empty scratch folder as cwd, fds 0-2 on /dev/null and 3 its socket,
an unprivileged uid where namespaces are on), calls :func:`main`. Everything a
submission could reach in its process is in this file, :mod:`grader.sandbox.wire` and
:mod:`grader.sandbox.sealing`; nothing here is secret.

Protocol (stream of frames, 8-byte length + data; the grader's are pickled, ours are
:mod:`grader.sandbox.wire` encodings): ``cells`` (index, source, and the code compiled by the
grader when it compiles) -> one ``cell`` reply per cell; then ``calls`` (a function and
a list of argument sets, each with its :func:`~grader.sandbox.sealing.fingerprint`) -> for each
set, in turn, any ``callback`` round trips and a ``result``. A result that holds a value
is followed by the value's encoding, then by the arguments' encoding unless they still
have their fingerprint (``parts``: 1 or 2), so the grader can tell an exact answer from
its bytes alone. Calls run back to back: the grader's per-call deadlines start when the
previous result arrives.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import linecache
import marshal
import os
import socket
import struct
import sys
import time
import traceback
import types

import _sandbox_sealing as sealing  # registered by the helper process, from sealing.py
import _sandbox_wire as wire  # registered by the helper process, from grader/sandbox/wire.py

HEADER = struct.Struct(">Q")
TRACEBACK_FRAMES = 8
MESSAGE_CHARS = 2000
LINE_CHARS = 300  # of one traceback line (a cell may be one enormous line)
_ABSENT = object()

numpy = importlib.import_module("numpy")
numpy.array2string(numpy.eye(2) / 3)  # in the helper process: once, not in every child


def main(sock: socket.socket, request: dict, helper_dir: str | None) -> None:
    """Set up ``__main__`` as a notebook would have it and serve the grader until it hangs up."""
    limits = request["limits"]
    tail = _Tail(limits["output_bytes"])
    sys.stdout = sys.stderr = tail
    sys.argv = [""]
    if helper_dir:
        sys.path.insert(0, helper_dir)
    sys.meta_path.insert(0, _AliasFinder(request.get("aliases") or {}))
    main_module = types.ModuleType("__main__")
    main_module.__dict__.update(get_ipython=_get_ipython, display=_noop)
    sys.modules["__main__"] = main_module
    _serve_child(sock, main_module.__dict__, tail, limits["message_bytes"])


class _Tail(io.TextIOBase):
    """stdout and stderr of a submission: keeps only the last few kilobytes."""

    encoding, errors = "utf-8", "strict"

    def __init__(self, size: int):
        self._size, self._text = size, ""

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._text = (self._text + text[-self._size :])[-self._size :]
        return len(text)

    def writable(self) -> bool:
        return True

    def take(self) -> str:
        text, self._text = self._text, ""
        return text


class _IPythonStub:
    """``get_ipython()`` in a notebook: magics and shell escapes do nothing here."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _noop


def _noop(*args, **kwargs) -> None:
    return None


_IPYTHON = _IPythonStub()


def _get_ipython() -> _IPythonStub:
    return _IPYTHON


class _AliasFinder:
    """``import testCases_v4a`` gives the helper module ``testCases``, as old notebooks expect."""

    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases

    def find_spec(self, fullname, path=None, target=None):
        real = self.aliases.get(fullname)
        if real is None or real == fullname:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


class _AliasLoader:
    def __init__(self, real: str):
        self.real, self.spec = real, None

    def create_module(self, spec):
        module = importlib.import_module(self.real)
        self.spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = self.spec  # the import system set the alias's spec on it


def _send(sock: socket.socket, *frames: bytes) -> None:
    # one write: the grader wakes once
    sock.sendall(b"".join(HEADER.pack(len(frame)) + frame for frame in frames))


def _recv(sock: socket.socket):
    header = _recv_exact(sock, HEADER.size)
    if header is None:
        return None
    body = _recv_exact(sock, HEADER.unpack(header)[0])
    return None if body is None else wire.from_grader(body)


def _recv_exact(sock: socket.socket, size: int):
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:])
        if not count:
            return None
        got += count
    return bytes(buffer)


def _serve_child(sock: socket.socket, namespace: dict, tail: _Tail, limit: int) -> None:
    request = _recv(sock)
    if request is None:
        return
    for index, source, code, number in request["cells"]:
        started = time.perf_counter()
        reply = {
            "op": "cell",
            "index": index,
            **_run_cell(number, source, code, namespace),
            "output": tail.take(),
            "seconds": time.perf_counter() - started,
        }
        _send(sock, _encode(reply, limit))
    while True:
        request = _recv(sock)
        if request is None or request.get("op") != "calls":
            return
        answers = _Answers(request["answers"]) if request.get("answers") else None
        for args, seed, fingerprint in request["calls"]:
            # looked up per call: an earlier call may have redefined it
            function = namespace.get(request["function"])
            if function is None or not callable(function):
                _send(sock, wire.encode({"op": "result", "status": "missing"}))
                break
            _send(
                sock,
                *_call(
                    sock,
                    function,
                    args,
                    seed,
                    request["callbacks"],
                    namespace,
                    tail,
                    limit,
                    answers,
                    fingerprint,
                ),
            )


def _run_cell(number: int, source: str, code: bytes | None, namespace: dict) -> dict:
    """``code``: what compile() makes of ``source``, done by the grader (None when it fails,
    so that the error is raised here, as the cell's own)."""
    filename = f"<cell {number}>"  # the number Jupyter shows
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(
            marshal.loads(code)
            if code is not None
            else compile(source, filename, "exec", dont_inherit=True, optimize=0),
            namespace,
        )
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: a cell's own failure
        return {"status": "error", **_describe(exc)}
    return {"status": "ok"}


class _Answers:
    """Callback answers sealed by their question (:func:`grader.sandbox.sealing.seal`)."""

    def __init__(self, data: dict):
        self.salt = bytes(data["salt"])
        self.names = data["names"]
        self.sealed = {key: bytes(box) for key, box in data["sealed"].items()}

    def find(self, name: str, args: tuple, kwargs: dict):
        """(True, answer) if sealed here, else (False, None): then the grader is asked."""
        try:
            ordered = sealing.positional(self.names.get(name), args, kwargs)
            asked = None if ordered is None else sealing.question(self.salt, name, ordered)
            data = None if asked is None else sealing.unseal(asked, self.sealed)
        except Exception:  # arguments the format cannot carry: the grader says what to do
            return False, None
        return (False, None) if data is None else (True, wire.from_grader(data))


def _call(
    sock: socket.socket,
    function,
    args: tuple,
    seed,
    callbacks: list,
    namespace: dict,
    tail: _Tail,
    limit: int,
    answers: _Answers | None = None,
    fingerprint: bytes | None = None,
) -> list:
    """Frames of one call's result: meta data, then (if it returned) the value, and the
    arguments unless they still match ``fingerprint`` (the grader has them then)."""
    args = tuple(args)
    saved = {name: namespace.get(name, _ABSENT) for name in callbacks}
    namespace.update({name: _proxy(sock, name, answers) for name in saved})
    tail.take()
    value, reply = None, {"op": "result", "status": "ok"}
    try:
        if seed is not None:
            numpy.random.seed(seed)
        value = function(*args)
    except BaseException as exc:
        reply = {"op": "result", "status": "error", **_describe(exc)}
    finally:
        for name, original in saved.items():
            if original is _ABSENT:
                namespace.pop(name, None)
            else:
                namespace[name] = original
    reply["output"] = tail.take()
    if reply["status"] != "ok":
        return [_encode(reply, limit)]
    try:
        parts = [wire.encode(value, max_bytes=limit)]
        if fingerprint is None or sealing.fingerprint(args) != fingerprint:
            parts.append(wire.encode(args, max_bytes=limit))
    except BaseException as exc:
        return [
            _encode(
                {
                    **reply,
                    "status": "error",
                    "error_type": type(exc).__name__,
                    "message": "the result could not be sent back to the grader: " + _text(exc),
                    "traceback": [],
                },
                limit,
            )
        ]
    meta = (
        _QUIET_OK[len(parts)]
        if not reply["output"]
        else wire.encode({**reply, "parts": len(parts)})
    )
    return [meta, *parts]


_QUIET_OK = {
    n: wire.encode({"op": "result", "status": "ok", "output": "", "parts": n}) for n in (1, 2)
}


def _proxy(sock: socket.socket, name: str, answers: _Answers | None = None):
    def callback(*args, **kwargs):
        if answers is not None:
            found, value = answers.find(name, args, kwargs)
            if found:
                return value
        _send(sock, wire.encode({"op": "callback", "name": name, "args": args, "kwargs": kwargs}))
        reply = _recv(sock)
        if reply is None:
            os._exit(0)
        if reply.get("ok"):
            return reply.get("value")
        raise RuntimeError(reply.get("error"))

    callback.__name__ = callback.__qualname__ = name
    return callback


def _encode(reply: dict, limit: int) -> bytes:
    try:
        return wire.encode(reply, max_bytes=limit)
    except BaseException as exc:
        message = "the result could not be sent back to the grader: " + _text(exc)
        return wire.encode(
            {
                "op": reply["op"],
                "index": reply.get("index"),
                "status": "error",
                "error_type": type(exc).__name__,
                "message": message,
                "traceback": [],
                "output": reply.get("output", ""),
            }
        )


def _text(exc: BaseException) -> str:
    try:
        return str(exc)[:MESSAGE_CHARS]
    except BaseException:
        return "<the exception's message could not be shown>"


def _describe(exc: BaseException) -> dict:
    """Type, message and the student's own frames (``<cell N>``) of an exception."""
    try:
        frames = [
            frame
            for frame in traceback.extract_tb(exc.__traceback__)
            if frame.filename.startswith("<cell ")
        ][-TRACEBACK_FRAMES:]
        lines = [
            f'File "{f.filename}", line {f.lineno}, in {f.name[:200]}'
            + (f"\n    {f.line[:LINE_CHARS]}" if f.line else "")
            for f in frames
        ]
        if (
            isinstance(exc, SyntaxError)
            and isinstance(exc.filename, str)
            and exc.filename.startswith("<cell ")
        ):
            code = str(exc.text or "").strip()[:LINE_CHARS]
            lines.append(
                f'File "{exc.filename}", line {exc.lineno}' + (f"\n    {code}" if code else "")
            )
    except BaseException:
        lines = []
    return {"error_type": type(exc).__name__[:200], "message": _text(exc), "traceback": lines}
