"""The fork server's helper process, as the grader starts, greets and stops it.

:func:`spawn` starts a fresh ``python -I`` that reads its sources (the zygote, mounts,
isolation and child modules of :mod:`grader.sandbox.inside`, sealing and wire, as text)
from stdin and answers on a SOCK_SEQPACKET socket: first ``ready`` or ``failed``
(:func:`greeting`), then one reply per request of :class:`grader.sandbox.server.Sandbox`.
:func:`stop` asks it to exit, kills it if it does not, and removes what it left.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
SOURCES = {
    "zygote": "inside/zygote.py",
    "mounts": "inside/mounts.py",
    "isolation": "inside/isolation.py",
    "sealing": "sealing.py",
    "wire": "wire.py",
    "child": "inside/child.py",
}
BOOTSTRAP = (
    "import json, sys, types\n"
    "payload = json.loads(sys.stdin.buffer.read())\n"
    "module = types.ModuleType('_sandbox_zygote')\n"
    "sys.modules['_sandbox_zygote'] = module\n"
    "exec(compile(payload['sources']['zygote'], '<_sandbox_zygote>', 'exec'), module.__dict__)\n"
    "del json, types, module\n"
    "sys.modules['_sandbox_zygote'].main(payload)\n"
)
ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH")  # passed on
SETTINGS = {
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def spawn(settings: dict[str, Any]) -> tuple[subprocess.Popen, socket.socket, IO[bytes]]:
    """Start the helper and hand it its sources and ``settings`` (see
    :func:`grader.sandbox.inside.zygote.main`): the process, the grader's end of its
    control socket, and the file its stderr goes to. OSError if it cannot start."""
    parent_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    stderr = tempfile.TemporaryFile()
    sources = {name: (HERE / file).read_text(encoding="utf-8") for name, file in SOURCES.items()}
    payload = json.dumps({"sources": sources, "control_fd": zygote_end.fileno(), **settings})
    env = {key: os.environ[key] for key in ENVIRONMENT if key in os.environ}
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", BOOTSTRAP],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            pass_fds=[zygote_end.fileno()],
            env={**env, **SETTINGS},
            start_new_session=True,
        )
    except OSError:
        parent_end.close()
        stderr.close()
        raise
    finally:
        zygote_end.close()
    stdin = process.stdin
    assert stdin is not None  # stdin=PIPE
    try:
        stdin.write(payload.encode())
        stdin.close()
    except OSError:
        pass  # it died at once: the greeting says why
    return process, parent_end, stderr


def greeting(control: socket.socket, timeout: float) -> dict | None:
    """The helper's first message (``ready`` or ``failed``); None if it ended first."""
    try:
        control.settimeout(timeout)
        data = control.recv(1 << 16)
    except OSError:
        return None
    return json.loads(data) if data else None


def why_not_started(process: subprocess.Popen, stderr: IO[bytes]) -> str:
    """The end of what a helper that did not start wrote (once it had time to write it)."""
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    stderr.seek(0)
    return stderr.read()[-2000:].decode(errors="replace").strip()


def stop(
    process: subprocess.Popen, control: socket.socket, stderr: IO[bytes], leftovers: list[str]
) -> None:
    """Ask the helper to exit (it kills its children first), kill it after 10 s, and
    remove ``leftovers`` (folders it should have removed itself)."""
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
