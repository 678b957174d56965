"""The sandbox's helper process: a fork server ("zygote") that starts one child per submission.

Never imported by the grader: :mod:`grader.sandbox.server` starts a fresh ``python -I``
and hands it this file's source text, and the sources it loads: first
:mod:`grader.sandbox.inside.mounts` and :mod:`grader.sandbox.inside.isolation`, then, once
a finder that refuses ``grader`` is in place, :mod:`grader.sandbox.sealing`,
:mod:`grader.sandbox.wire` and :mod:`grader.sandbox.inside.child`. Standard library only
(numpy comes with the preloads).

With namespaces (Linux, root) the zygote is pid 1 of its own pid namespace, in its own
mount and network namespaces (:mod:`grader.sandbox.inside.isolation`); otherwise ("rlimits only") it
is a plain process and its children get resource limits only.

Protocol with the grader (SOCK_SEQPACKET, one JSON object per packet): first the
zygote sends ``ready`` (or ``failed``); then ``fork`` (the child's socket attached,
and in namespace mode the helper folder opened) -> ``{"pid", "scratch"}``;
``kill`` -> ``{"status"}``; ``exit``.
"""

from __future__ import annotations

import gc
import importlib
import importlib.machinery
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import types

_PR_SET_CHILD_SUBREAPER = 36
_SWEEP_ROUNDS = 50
NICENESS = 10  # a submission running past Limits.lower_priority_after: yields to the others

isolation: types.ModuleType  # loaded from source by main
child: types.ModuleType
box = None  # the Namespace in namespace mode
nproc_base = 0  # rlimits only, not root: tasks the user already runs


def main(payload: dict) -> None:
    """Enter the namespaces if asked, load what every submission needs, serve the grader."""
    global isolation, child, box, nproc_base
    # nothing of the payload may outlive its use: every child is forked from this process
    # and can walk up into this frame (or the bootstrap's), and ``hide`` names the
    # folders of every submission of the batch
    sources, hide, mode = payload.pop("sources"), payload.pop("hide"), payload.pop("mode")
    control = socket.socket(fileno=payload["control_fd"])
    _load("_sandbox_mounts", sources.pop("mounts"))  # isolation imports it
    isolation = _load("_sandbox_isolation", sources.pop("isolation"))
    reason = payload.get("reason") or ""
    if mode != "rlimits":
        try:
            box = isolation.enter()
        except isolation.Unavailable as exc:  # still the one process: go on without
            reason = str(exc)
            if mode == "namespaces":
                _fail(control, reason)
        except OSError as exc:  # pid 1 of half-made namespaces: the grader starts over
            _fail(control, f"cannot set up the namespaces ({isolation.describe(exc)})")
    os.umask(0o022)
    _hide(payload["blocked"])
    _load("_sandbox_sealing", sources.pop("sealing"))  # wire imports it
    _load("_sandbox_wire", sources.pop("wire"))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's business
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    for name in payload["preload"]:
        try:
            importlib.import_module(name)
        except Exception:  # optional: a notebook that needs it will say so itself
            pass
    payload.clear()
    if box is not None:
        try:
            box.setup(hide, _python_folders())
        except OSError as exc:
            _fail(control, f"cannot set up the namespaces ({isolation.describe(exc)})")
        sys.pycache_prefix = f"{box.root}/pycache"
        os.mkdir(sys.pycache_prefix, 0o755)
    else:
        isolation.prctl(_PR_SET_CHILD_SUBREAPER, 1)  # escaped grandchildren come back to us
        # helper modules compile once per zygote, without writing into the helper folder
        sys.pycache_prefix = tempfile.mkdtemp(prefix="grader-pycache-")
        if os.geteuid() != 0:
            nproc_base = _tasks_of(os.getuid())
    hide.clear()  # the mounts are made: no child may read which folders they cover
    child = _load("_sandbox_child", sources.pop("child"))
    gc.collect()
    gc.freeze()  # fewer copy-on-write page faults in the children
    description = box.description if box is not None else f"rlimits only: {reason}"
    control.send(
        json.dumps(
            {
                "op": "ready",
                "pid": box.outer_pid if box is not None else os.getpid(),
                "pycache": None if box is not None else sys.pycache_prefix,
                "isolation": description,
                "strong": box is not None,
            }
        ).encode()
    )
    _serve(control)


def _fail(control: socket.socket, reason: str) -> None:
    try:
        control.send(json.dumps({"op": "failed", "reason": reason}).encode())
    finally:
        os._exit(1)


def _load(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def _python_folders() -> list[str]:
    """What submissions need to read: this Python, its packages, and the libraries loaded."""
    folders = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    }
    folders.update(entry for entry in sys.path if entry and os.path.isdir(entry))
    try:
        with open("/proc/self/maps") as handle:
            for line in handle:
                parts = line.split(maxsplit=5)
                path = parts[5].strip() if len(parts) == 6 else ""
                if path.startswith("/") and ".so" in os.path.basename(path):
                    folders.add(os.path.dirname(path))
    except OSError:
        pass
    return sorted(folders)


class _Blocker:
    """Refuses to import the grader package, where the reference solution lives."""

    def __init__(self, package: str):
        self.package = package

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.package or fullname.startswith(self.package + "."):
            raise ModuleNotFoundError(
                f"the {self.package} package is not available to submissions", name=fullname
            )
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


class _Child:
    def __init__(self, pid: int, scratch: str, uid: int | None):
        self.pid, self.scratch, self.uid = pid, scratch, uid


def _serve(control: socket.socket) -> None:
    children: dict[int, _Child] = {}  # by the pid the grader knows
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
                    reply = _fork(control, request, fds, children)
                except OSError as exc:  # out of processes or disk: this submission only
                    reply = {"error": str(exc)}
                finally:
                    for fd in fds:
                        os.close(fd)
            elif request["op"] == "kill" and request.get("wait"):
                reply = {"status": _reap(request["pid"], request.get("grace", 0.0), children)}
            elif request["op"] == "nice":
                entry = children.get(request["pid"])
                _lower_priority(entry.pid if entry else None)
                reply = {"status": None}
            elif request["op"] == "kill":  # nobody waits for the status: answer first
                entry = children.get(request["pid"])
                _signal(entry.pid if entry else None)
                reply, later = {"status": None}, request["pid"]
            else:
                break
            control.send(json.dumps(reply).encode())
            if later is not None:
                _reap(later, 0.0, children)
            if request["op"] == "kill":
                _sweep(children)
    finally:
        for key in list(children):
            _reap(key, 0.0, children)
        _sweep(children)
        if box is None and sys.pycache_prefix:  # set by main in rlimits mode
            _remove(sys.pycache_prefix)
        os._exit(0)


def _fork(
    control: socket.socket, request: dict, fds: list[int], children: dict[int, _Child]
) -> dict:
    limits, uid, helper_dir = request["limits"], None, request.get("helper_dir")
    if box is not None:
        uid = box.take_uid()
        if uid is None:
            raise OSError("too many submissions at once in one sandbox")
        try:
            scratch = box.scratch(uid, limits["scratch_bytes"])
            helper_dir = box.helper_copy(fds[1]) if len(fds) > 1 else None
        except BaseException:
            box.free.append(uid - box.uid_base)
            raise
    else:
        scratch = tempfile.mkdtemp(prefix="grader-submission-", dir=request.get("scratch_root"))
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            isolation.become_child(fds[0], scratch, limits, uid, zygote, nproc_base)
            child.main(socket.socket(fileno=3), request, helper_dir)
            code = 0
        finally:
            os._exit(code)
    key = box.outer_pid_of(pid) if box is not None else pid
    children[key] = _Child(pid, scratch, uid)
    return {"pid": key, "scratch": scratch}


def _reap(key: int, grace: float, children: dict[int, _Child]) -> int | None:
    """Kill a child and everything it started, reap it; its wait status, or None if unknown."""
    entry = children.pop(key, None)
    if entry is None:
        return None
    deadline = time.monotonic() + grace
    while (
        time.monotonic() < deadline  # unreaped, the pid cannot be reused meanwhile
        and os.waitid(os.P_PID, entry.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    ):
        time.sleep(0.002)
    _signal(entry.pid)
    try:
        status = os.waitpid(entry.pid, 0)[1]
    except ChildProcessError:
        status = None
    if box is not None:
        for _ in range(_SWEEP_ROUNDS):  # its own uid: setsid and double forks do not escape
            if entry.uid is None or not box.kill_uid(entry.uid):
                break
            _sweep(children)
        box.release(entry.uid, entry.scratch)
    else:
        _remove(entry.scratch)
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


def _lower_priority(pid: int | None) -> None:
    """Nice a child's process group (every process and thread of the submission)."""
    if pid is None:
        return
    for which in (os.PRIO_PGRP, os.PRIO_PROCESS):
        try:
            os.setpriority(which, pid, NICENESS)
        except OSError:
            pass


def _sweep(children: dict[int, _Child]) -> None:
    """Kill processes a submission left behind that were reparented to the zygote."""
    known = {entry.pid for entry in children.values()}
    for _ in range(10):
        strays = [pid for pid in _child_pids() if pid not in known]
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
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                pids.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _tasks_of(uid: int) -> int:
    """Processes and threads of ``uid`` now (RLIMIT_NPROC counts them all)."""
    count = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{entry}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
            if fields.get("Uid", "").split()[:1] == [str(uid)]:
                count += int(fields.get("Threads", "1"))
        except (OSError, ValueError):
            continue
    return count


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
