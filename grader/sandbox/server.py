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
import site
import socket
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from grader.sandbox.messages import (DIED, ERROR, MISSING, NOT_RUN, OK, TIMEOUT, CallBatch,
                                     CallResult, CellResult, ReplyMemo)
from grader.sandbox.session import SandboxError, Session

__all__ = ["Sandbox", "Limits", "Session", "CellResult", "CallResult", "CallBatch",
           "SandboxError",
           "MODES", "MODE_VARIABLE", "OK", "ERROR", "MISSING", "TIMEOUT", "DIED", "NOT_RUN"]

PRELOAD = ("numpy", "numpy.random", "numpy.linalg", "matplotlib", "matplotlib.pyplot", "h5py")
MODES = ("auto", "namespaces", "rlimits")
MODE_VARIABLE = "GRADER_SANDBOX"  # auto (default) | namespaces (required) | rlimits (forced)
# hidden from submissions besides the grader package, its checkout, cwd and `hide`
SYSTEM_HIDDEN = ("/root", "/home", "/tmp", "/var/tmp", "/run", "/mnt", "/media", "/srv")
# top-level folders left visible (read-only): the operating system; all others are hidden
SYSTEM_KEPT = frozenset({"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc",
                         "proc", "dev", "sys", "var"})
_HERE = Path(__file__).resolve().parent
_PACKAGE = _HERE.parent  # the grader package: hidden from submissions
_SOURCES = {"zygote": "inside/zygote.py", "isolation": "inside/isolation.py",
            "wire": "wire.py", "child": "inside/child.py"}
_BOOTSTRAP = (
    "import json, sys, types\n"
    "payload = json.loads(sys.stdin.buffer.read())\n"
    "module = types.ModuleType('_sandbox_zygote')\n"
    "sys.modules['_sandbox_zygote'] = module\n"
    "exec(compile(payload['sources']['zygote'], '<_sandbox_zygote>', 'exec'), module.__dict__)\n"
    "del json, types, module\n"
    "sys.modules['_sandbox_zygote'].main(payload)\n")
_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH")
_namespace_failure: str | None = None  # set once namespaces failed here: no retry per sandbox


@dataclass(frozen=True)
class Limits:
    call_timeout: float = 10.0  # wall-clock seconds per call (and per notebook cell)
    cells_timeout: float = 30.0  # wall-clock seconds for running all cells once
    submission_timeout: float = 120.0  # wall-clock seconds for everything
    memory_bytes: int = 2 << 30  # address space per process (RLIMIT_AS)
    cpu_seconds: int | None = None  # RLIMIT_CPU per process; None: submission_timeout
    output_bytes: int = 4096  # tail of stdout/stderr kept per cell and per call
    file_bytes: int = 16 << 20  # largest file a submission may write
    message_bytes: int = 64 << 20  # largest result the child may send
    processes: int = 16  # processes and threads per submission (RLIMIT_NPROC of its uid)
    scratch_bytes: int = 64 << 20  # all files in the scratch folder (namespaces only)
    # hidden calls bounded by the reference's own time, within call_timeout (grader.grading.checks)
    relative_timeout: bool = True


def _top_level_folders() -> list[Path]:
    """Every top-level folder but the operating system's own: other checkouts of the
    course (a second clone, a colleague's copy under /work or /srv) must not be visible
    either. What the interpreter needs is bound back by the isolation setup."""
    try:
        entries = list(Path("/").iterdir())
    except OSError:
        return []
    return [entry for entry in entries
            if entry.name not in SYSTEM_KEPT and not entry.is_symlink() and entry.is_dir()]


def hidden_paths(extra: Sequence[Path | str] = ()) -> list[str]:
    """Folders a submission must not see: the grader's own, system ones, and ``extra``."""
    package = _PACKAGE
    paths = [package, Path.cwd(), Path.home(), *SYSTEM_HIDDEN, tempfile.gettempdir(),
             *_top_level_folders()]
    site_folders = set()
    for getter in ("getsitepackages", "getusersitepackages"):  # old virtualenvs lack one
        try:
            found = getattr(site, getter)()
        except Exception:
            continue
        site_folders.update(Path(p).resolve() for p in ([found] if isinstance(found, str)
                                                         else found))
    if package.parent not in site_folders:  # a checkout (editable install): course files
        paths.append(package.parent)
    if sys.pycache_prefix:  # the grader's own bytecode, reference included
        paths.append(sys.pycache_prefix)
    paths += list(extra)
    result = []
    for path in paths:
        resolved = str(Path(path).resolve())
        if resolved != "/" and resolved not in result:
            result.append(resolved)
    return result


class Sandbox:
    """One fork server; :meth:`open` gives a session per submission.

    ``hide``: more folders submissions must not see (the output folder, the folders of
    the submissions); the grader package, its checkout, the working folder, homes and
    /tmp are hidden anyway. ``mode``: ``auto`` (namespaces where possible), ``namespaces``
    (SandboxError where impossible) or ``rlimits``; default ``$GRADER_SANDBOX``, else
    auto. ``scratch_root``: where scratch folders go in rlimits mode (with namespaces
    each submission gets a tmpfs of ``Limits.scratch_bytes`` instead). ``wait=False``
    returns as soon as the helper process is started: it loads numpy and matplotlib
    (~0.4 s) while the caller goes on, and the first use waits for it (errors included).
    """

    def __init__(self, limits: Limits = Limits(), *, preload: Sequence[str] = PRELOAD,
                 scratch_root: Path | None = None, start_timeout: float = 60.0,
                 hide: Sequence[Path | str] = (), mode: str | None = None,
                 wait: bool = True):
        self.limits = limits
        self._preload, self._start_timeout = tuple(preload), start_timeout
        self._scratch_root = None if scratch_root is None else str(scratch_root)
        self._hide = hidden_paths(hide)
        self._mode, self._reason = _mode(mode)
        self._lock = threading.Lock()
        self._start_guard = threading.Lock()
        self._closed = False
        self._sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self._memo = ReplyMemo()
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
        """Start the helper process and hand it its sources; it answers when ready."""
        if self._mode == "auto" and _namespace_failure is not None:
            self._mode, self._reason = "rlimits", _namespace_failure
        parent_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr = tempfile.TemporaryFile()
        payload = json.dumps({
            "sources": {name: (_HERE / file).read_text(encoding="utf-8")
                        for name, file in _SOURCES.items()},
            "control_fd": zygote_end.fileno(), "preload": list(self._preload),
            "blocked": __name__.partition(".")[0], "mode": self._mode, "reason": self._reason,
            # only namespaces use it; its children must never read it (grader.sandbox.inside.zygote.main)
            "hide": self._hide if self._mode != "rlimits" else []}).encode()
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
        self._process, self._control, self._leftovers = process, parent_end, []
        self._stderr = stderr
        self._finalizer = weakref.finalize(self, _stop, process, parent_end, stderr,
                                           self._leftovers)
        try:
            process.stdin.write(payload)
            process.stdin.close()
        except OSError:
            pass  # it died at once: the handshake says why

    def _handshake(self) -> dict:
        process, stderr = self._process, self._stderr
        try:
            self._control.settimeout(self._start_timeout)
            ready = self._control.recv(1 << 16)
        except OSError:
            ready = b""
        if not ready:
            try:  # let it finish writing why it failed before the finalizer closes stderr
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            stderr.seek(0)
            detail = stderr.read()[-2000:].decode(errors="replace").strip()
            self._finalizer()
            raise SandboxError("the sandbox's helper process did not start"
                               + (f": {detail}" if detail else ""))
        if json.loads(ready).get("op") != "ready":
            self._finalizer()
        return json.loads(ready)

    def open(self, cells: Sequence[str], helper_dir: Path | None = None,
             aliases: Mapping[str, str] | None = None, *, limits: Limits | None = None,
             numbers: Sequence[int] | None = None, names: Sequence[str] | None = None
             ) -> Session:
        """Fork a child for one submission and run its cells (see :attr:`Session.cell_results`).

        ``numbers``: each cell's number as the notebook shows it (all cells counted, from
        1; default: its position in ``cells`` + 1), used in tracebacks and reports;
        ``names``: how a student finds each cell (its exercise or function), for reports."""
        self._started()
        session = Session(self, list(cells), helper_dir, dict(aliases or {}), limits or self.limits,
                          numbers=numbers, names=names)
        try:
            session._start()
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
            session._drop()
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

    def _kill(self, pid: int, scratch: str, grace: float | None = None) -> int | None:
        """Kill a child's processes; with ``grace``, wait for its exit status."""
        try:
            return self._request({"op": "kill", "pid": pid, "wait": grace is not None,
                                  "grace": grace or 0.0})["status"]
        except SandboxError:  # the helper is gone, and its children with it
            if not self.strong:
                shutil.rmtree(scratch, ignore_errors=True)
            return None

    def _view(self, path: str) -> Path:
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
        raise SandboxError(f"unknown sandbox mode {mode!r} from {source} "
                           f"(known: {', '.join(MODES)})")
    return mode, f"asked for with {source}" if mode == "rlimits" else ""


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
