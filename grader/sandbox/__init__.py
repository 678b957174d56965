"""Running untrusted notebook code: a fork server with numpy loaded, a session per
submission, the messages and wire format between them, and the code that runs inside.

What the grading pipeline uses of a sandbox is the interface in
:mod:`grader.sandbox.backend` (:class:`SandboxBackend`, :class:`SandboxSession`); the fork
server (:mod:`grader.sandbox.server`, :mod:`grader.sandbox.session`) implements it::

    from grader.sandbox import Limits, Sandbox

    with Sandbox(Limits(call_timeout=5)) as sandbox, sandbox.open(cells) as session:
        results = session.calls(batch)
"""

from grader.sandbox.backend import Limits, SandboxBackend, SandboxError, SandboxSession
from grader.sandbox.messages import CallBatch, CallResult, CellResult
from grader.sandbox.server import Sandbox
from grader.sandbox.session import Session

__all__ = [
    "Sandbox",
    "Session",
    "Limits",
    "SandboxError",
    "SandboxBackend",
    "SandboxSession",
    "CallBatch",
    "CallResult",
    "CellResult",
]
