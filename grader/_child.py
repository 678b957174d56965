"""The sandbox's own side: a fork server ("zygote") and the per-submission children it forks.

Never imported by the grader: :mod:`grader.sandbox` hands this file's source text
to a fresh ``python -I``, so it imports only the standard library (numpy comes
with the preloaded modules) and receives :mod:`grader.wire` as source text too,
after a finder that refuses ``grader`` is in place. Everything a submission
could reach in its process is in this file; nothing here is secret.

Zygote protocol (SOCK_SEQPACKET, one JSON object per packet): ``fork`` (with the
child's socket attached) -> ``{"pid", "scratch"}``; ``kill`` -> ``{"status"}``;
``exit``. Child protocol (stream, 8-byte length + wire data): ``cells`` ->
one ``cell`` reply per cell; then ``call`` -> any ``callback`` round trips -> ``result``.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import importlib.machinery
import importlib.util
import io
import json
import linecache
import os
import resource
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
import types

HEADER = struct.Struct(">Q")
TRACEBACK_FRAMES = 8
MESSAGE_CHARS = 2000
_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36
_ABSENT = object()

wire: types.ModuleType  # loaded from source by zygote_main
numpy: types.ModuleType


def zygote_main(payload: dict) -> None:
    """Load once what every submission needs, then fork a child per request."""
    global wire, numpy
    _hide(payload["blocked"])
    wire = _load("_sandbox_wire", payload["wire"], "<sandbox-wire>")
    numpy = importlib.import_module("numpy")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's business
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    for name in payload["preload"]:
        try:
            importlib.import_module(name)
        except Exception:  # optional: a notebook that needs it will say so itself
            pass
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)  # escaped grandchildren come back to be killed
    control = socket.socket(fileno=payload["control_fd"])
    # helper modules compile once per zygote, without writing into the helper folder
    sys.pycache_prefix = tempfile.mkdtemp(prefix="grader-pycache-")
    gc.collect()
    gc.freeze()  # fewer copy-on-write page faults in the children
    control.send(json.dumps({"op": "ready", "pid": os.getpid(),
                             "pycache": sys.pycache_prefix}).encode())
    _serve_zygote(control)


def _load(name: str, source: str, filename: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


class _Blocker:
    """Refuses to import the grader package, where the reference solution lives."""

    def __init__(self, package: str):
        self.package = package

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.package or fullname.startswith(self.package + "."):
            raise ModuleNotFoundError(f"the {self.package} package is not available to "
                                      "submissions", name=fullname)
        return None


def _hide(package: str) -> None:
    """Refuse the package, and drop finders (editable installs) that would find it anyway."""
    for finder in list(sys.meta_path):
        if finder is importlib.machinery.PathFinder:
            continue
        try:
            found = finder.find_spec(package, None) is not None
        except Exception:
            found = False
        if found:
            sys.meta_path.remove(finder)
    sys.meta_path.insert(0, _Blocker(package))


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except Exception:  # not Linux: the process-group kill still applies
        pass


def _serve_zygote(control: socket.socket) -> None:
    children: dict[int, str] = {}
    try:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
            except OSError:
                break
            if not data:
                break
            request = json.loads(data)
            later = None
            if request["op"] == "fork":
                try:
                    reply = _fork(control, request, fds[0], children)
                except OSError as exc:  # out of processes or disk: this submission only
                    reply = {"error": str(exc)}
            elif request["op"] == "kill" and request.get("wait"):
                reply = {"status": _reap(request["pid"], request.get("grace", 0.0), children)}
            elif request["op"] == "kill":  # nobody waits for the status: answer first
                _signal(request["pid"] if request["pid"] in children else None)
                reply, later = {"status": None}, request["pid"]
            else:
                break
            control.send(json.dumps(reply).encode())
            if later is not None:
                _reap(later, 0.0, children)
            if request["op"] == "kill":
                _sweep(children)
    finally:
        for pid in list(children):
            _reap(pid, 0.0, children)
        _sweep(children)
        _remove(sys.pycache_prefix)
        os._exit(0)


def _fork(control: socket.socket, request: dict, fd: int, children: dict[int, str]) -> dict:
    scratch = tempfile.mkdtemp(prefix="grader-submission-", dir=request.get("scratch_root"))
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            control.close()
            _child_main(socket.socket(fileno=fd), scratch, request)
            code = 0
        finally:
            os._exit(code)
    os.close(fd)
    children[pid] = scratch
    return {"pid": pid, "scratch": scratch}


def _reap(pid: int, grace: float, children: dict[int, str]) -> int | None:
    """Kill a child's process group and reap it; its wait status, or None if unknown."""
    scratch = children.pop(pid, None)
    if scratch is None:
        return None
    deadline = time.monotonic() + grace
    while (time.monotonic() < deadline  # unreaped, the pid cannot be reused meanwhile
           and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None):
        time.sleep(0.002)
    _signal(pid)
    try:
        status = os.waitpid(pid, 0)[1]
    except ChildProcessError:
        status = None
    _remove(scratch)
    return status


def _signal(pid: int | None) -> None:
    """SIGKILL a process and its group; only for children not yet reaped (pids stay ours)."""
    if pid is None:
        return
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _sweep(children: dict[int, str]) -> None:
    """Kill processes a submission left behind that were reparented to the zygote."""
    for _ in range(10):
        strays = [pid for pid in _child_pids() if pid not in children]
        if not strays:
            return
        for pid in strays:
            _signal(pid)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _child_pids() -> list[int]:
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as handle:
            return [int(pid) for pid in handle.read().split()]
    except OSError:
        pass
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                pids.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _remove(path: str) -> None:
    """Delete a scratch folder even where the submission took permissions away."""
    for root, dirs, _ in os.walk(path):
        for name in dirs:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                try:
                    os.chmod(full, 0o700)
                except OSError:
                    pass
    shutil.rmtree(path, ignore_errors=True)


# --- the forked child: one per submission (again after a timeout) -----------------------


def _child_main(sock: socket.socket, scratch: str, request: dict) -> None:
    zygote = os.getppid()
    os.setsid()
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote:
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write raises instead
    limits = request["limits"]
    _rlimit(resource.RLIMIT_AS, limits["memory_bytes"])
    _rlimit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    _rlimit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    _rlimit(resource.RLIMIT_CORE, 0)
    os.chdir(scratch)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    tail = _Tail(limits["output_bytes"])
    sys.stdout = sys.stderr = tail
    sys.argv = [""]
    if request.get("helper_dir"):
        sys.path.insert(0, request["helper_dir"])
    sys.meta_path.insert(0, _AliasFinder(request.get("aliases") or {}))
    main = types.ModuleType("__main__")
    main.__dict__.update(get_ipython=_get_ipython, display=_noop)
    sys.modules["__main__"] = main
    _serve_child(sock, main.__dict__, tail, limits["message_bytes"])


def _rlimit(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


class _Tail(io.TextIOBase):
    """stdout and stderr of a submission: keeps only the last few kilobytes."""

    encoding, errors = "utf-8", "strict"

    def __init__(self, size: int):
        self._size, self._text = size, ""

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._text = (self._text + text[-self._size:])[-self._size:]
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


def _send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(HEADER.pack(len(data)))
    sock.sendall(data)


def _recv(sock: socket.socket):
    header = _recv_exact(sock, HEADER.size)
    if header is None:
        return None
    body = _recv_exact(sock, HEADER.unpack(header)[0])
    return None if body is None else wire.decode(body)


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
    for index, source in request["cells"]:
        started = time.perf_counter()
        reply = {"op": "cell", "index": index, **_run_cell(index, source, namespace),
                 "output": tail.take(), "seconds": time.perf_counter() - started}
        _send(sock, _encode(reply, limit))
    while True:
        request = _recv(sock)
        if request is None or request.get("op") != "call":
            return
        _send(sock, _encode(_call(sock, request, namespace, tail), limit))


def _run_cell(index: int, source: str, namespace: dict) -> dict:
    filename = f"<cell {index + 1}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(compile(source, filename, "exec", dont_inherit=True), namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: a cell's own failure
        return {"status": "error", **_describe(exc)}
    return {"status": "ok"}


def _call(sock: socket.socket, request: dict, namespace: dict, tail: _Tail) -> dict:
    function = namespace.get(request["function"])
    if function is None or not callable(function):
        return {"op": "result", "status": "missing"}
    args = tuple(request["args"])
    saved = {name: namespace.get(name, _ABSENT) for name in request["callbacks"]}
    namespace.update({name: _proxy(sock, name) for name in saved})
    tail.take()
    try:
        if request["seed"] is not None:
            numpy.random.seed(request["seed"])
        reply = {"op": "result", "status": "ok", "value": function(*args)}
    except BaseException as exc:
        reply = {"op": "result", "status": "error", **_describe(exc)}
    finally:
        for name, original in saved.items():
            if original is _ABSENT:
                namespace.pop(name, None)
            else:
                namespace[name] = original
    reply.update(args_after=args, output=tail.take())
    return reply


def _proxy(sock: socket.socket, name: str):
    def callback(*args, **kwargs):
        _send(sock, wire.encode({"op": "callback", "name": name, "args": args,
                                 "kwargs": kwargs}))
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
        return wire.encode({"op": reply["op"], "index": reply.get("index"), "status": "error",
                            "error_type": type(exc).__name__, "message": message,
                            "traceback": [], "output": reply.get("output", "")})


def _text(exc: BaseException) -> str:
    try:
        return str(exc)[:MESSAGE_CHARS]
    except BaseException:
        return "<the exception's message could not be shown>"


def _describe(exc: BaseException) -> dict:
    """Type, message and the student's own frames (``<cell N>``) of an exception."""
    try:
        frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
                  if frame.filename.startswith("<cell ")][-TRACEBACK_FRAMES:]
        lines = [f'File "{f.filename}", line {f.lineno}, in {f.name}'
                 + (f"\n    {f.line}" if f.line else "") for f in frames]
        if (isinstance(exc, SyntaxError) and isinstance(exc.filename, str)
                and exc.filename.startswith("<cell ")):
            code = (exc.text or "").strip()
            lines.append(f'File "{exc.filename}", line {exc.lineno}'
                         + (f"\n    {code}" if code else ""))
    except BaseException:
        lines = []
    return {"error_type": type(exc).__name__[:200], "message": _text(exc), "traceback": lines}
