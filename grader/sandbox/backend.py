"""The sandbox as the grading pipeline uses it: the interface of an isolation back end.

The pipeline (:mod:`grader.grading`, :mod:`grader.runners`) needs only what is typed
here. A back end is a :class:`SandboxBackend`; :meth:`SandboxBackend.open` runs one
submission's cells and gives a :class:`SandboxSession`, which then calls the
submission's functions on the grader's behalf. The fork server
(:class:`grader.sandbox.server.Sandbox`, with :class:`grader.sandbox.session.Session`) is
one; another (a container per worker, say) implements the same methods:

* it runs the cells top to bottom in one namespace, recording a :class:`CellResult` per
  cell (a cell that raises does not stop the next one);
* it answers :meth:`SandboxSession.calls` with :class:`CallResult` values built only
  from :mod:`grader.sandbox.wire` data (never by unpickling what the submission sends),
  calls the ``callbacks`` in the grader's process when the submission's code calls
  them, and keeps every wait within :class:`Limits`;
* it raises :class:`SandboxError` when the isolation itself fails (never for what a
  submission does: that is a result);
* closing a session or the back end leaves no process of the submission behind.

:class:`Limits` are the same for every back end; what each one enforces, and how, is
its own documentation's business (see :attr:`SandboxBackend.isolation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from grader.errors import GraderError
from grader.sandbox.messages import CallBatch, CallResult, CellResult

__all__ = ["Limits", "SandboxError", "SandboxBackend", "SandboxSession"]


class SandboxError(GraderError):
    """The sandbox's helper process could not be started or stopped answering."""


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
    # seconds into a submission after which its processes run at a lower CPU priority
    # (nice 10): a loop then slows the others' grading little; None: never
    lower_priority_after: float | None = 0.5


@runtime_checkable
class SandboxSession(Protocol):
    """One submission, its cells already run: what the pipeline reads and asks of it."""

    @property
    def limits(self) -> Limits:
        """The limits this submission runs under."""

    @property
    def cell_results(self) -> tuple[CellResult, ...]:
        """One result per cell given to :meth:`SandboxBackend.open`, in that order."""

    @property
    def hung(self) -> Mapping[str, int]:
        """Function name -> index of the cell that ran out of time while running it
        (where the back end can tell): the pipeline then does not call it again."""

    def cell_errors(self) -> list[str]:
        """One line per cell that did not run cleanly, for reports."""

    def cell_label(self, index: int) -> str:
        """How a student finds cell ``index``: ``cell 23 (linear_forward)``."""

    def calls(
        self,
        batch: CallBatch,
        callbacks: Mapping[str, Callable[..., Any]] = {},
        *,
        expected: Sequence[tuple[bytes, bytes]] | None = None,
        timeout: float | None = None,
        why: str = "",
    ) -> list[CallResult]:
        """Call ``batch.function`` once per argument set, each within ``timeout`` seconds
        (default ``limits.call_timeout``; ``why`` says where that limit comes from).

        Stops after a call that is missing, timed out or died, so the list may be
        shorter than ``batch.calls``. ``expected``: per call, the encodings of the
        expected value and of the arguments: a result equal to them byte for byte is
        flagged (``value_matches``, ``args_match``) and need not be decoded."""

    def close(self) -> None:
        """Stop the submission's processes and delete its files."""

    def __enter__(self) -> SandboxSession: ...

    def __exit__(self, *exc_info: object) -> None: ...


@runtime_checkable
class SandboxBackend(Protocol):
    """An isolation back end: one per worker; it may be shared by threads, one session
    per thread."""

    @property
    def limits(self) -> Limits:
        """The default limits of its sessions."""

    @property
    def isolation(self) -> str:
        """What holds, in words, for reports (``environment.sandbox`` in grades.json)."""

    @property
    def strong(self) -> bool:
        """True when submissions are fully isolated (no file, process or network of the
        grader's is within reach); the command warns otherwise."""

    def wait_ready(self) -> None:
        """Wait until the back end can open sessions; :class:`SandboxError` if it cannot."""

    def open(
        self,
        cells: Sequence[str],
        helper_dir: Path | None = None,
        aliases: Mapping[str, str] | None = None,
        *,
        limits: Limits | None = None,
        numbers: Sequence[int] | None = None,
        names: Sequence[str] | None = None,
    ) -> SandboxSession:
        """Run one submission's ``cells`` and return its session (a context manager).

        ``helper_dir``: a folder the cells may import modules from (read-only);
        ``aliases``: imported module name -> module of ``helper_dir`` to load instead;
        ``numbers``/``names``: each cell's number as the notebook shows it and what it
        is (an exercise's name), for :meth:`SandboxSession.cell_label`."""

    def hand_over(self, *, reap: bool) -> None:
        """Let a worker process forked after this back end started drive it, and stop
        using it here (``reap``: this process still cleans up after it when closed)."""

    def close(self) -> None:
        """Stop the back end; when this returns, no process of any submission is left."""

    def __enter__(self) -> SandboxBackend: ...

    def __exit__(self, *exc_info: object) -> None: ...
