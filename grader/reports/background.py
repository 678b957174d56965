"""Run one pure function in a forked child while this process goes on with other work.

The class report's charts need matplotlib (~0.5 s to import, ~0.2 s to draw) while the
other reports take about as long to write at N = 1000: drawn in a child on the core the
finished workers left free, they cost a batch no wall time. Only where forking is safe
(a POSIX system, no other thread that could hold a lock the child would need); otherwise,
or when the child fails, the function simply runs here. The result crosses as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable
from typing import Any


class Started:
    """``function(*args)``, begun in a child where that is safe."""

    def __init__(self, function: Callable[..., Any], *args: Any):
        self._function, self._args = function, args
        self._child: tuple[int, int] | None = None  # its pid, and the pipe's end to read
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no processes left: it will run here
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: compute, send, leave without the parent's exit code
            status = 1
            try:
                os.close(read)
                data = json.dumps(function(*args)).encode("utf-8")
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._child = (pid, read)

    def result(self) -> Any:
        """The child's result (waited for), or the function's own here if it failed."""
        if self._child is None:
            return self._function(*self._args)
        pid, read = self._child
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        self._child = None
        if status == 0 and data:
            return json.loads(data)
        return self._function(*self._args)

    def cancel(self) -> None:
        """Stop the child and reap it (when the work it was for failed)."""
        if self._child is None:
            return
        pid, read = self._child
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.close(read)
        os.waitpid(pid, 0)
        self._child = None
