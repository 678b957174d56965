"""How a batch is spread over workers: processes on this machine, or a Dask cluster.

One small interface, as httpx puts its transports behind one: a :class:`Runner` is
called with the submissions and the batch's context and yields ``(position, result)``
as each submission is graded, in any order. The engine (:mod:`grader.engine`,
:mod:`grader.grading.batch`) knows only this interface; a runner knows only the
per-submission pipeline (:mod:`grader.grading.pipeline`), never the engine.

* :func:`grader.runners.local.local_runner`: worker processes (or threads) here;
* :class:`grader.runners.dask_cluster.DaskRunner`: the workers of a Dask cluster.

This module imports neither (nor anything at run time), so that the engine can name the
interface without loading a runner.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from grader.grading.pipeline import Context
    from grader.grading.submissions import Submission
    from grader.results import SubmissionResult

__all__ = ["Runner", "Results"]

# what a runner yields: (position in its input, result), closed when the batch stops early
Results = Generator["tuple[int, SubmissionResult]", None, None]


@runtime_checkable
class Runner(Protocol):
    """Grades batches of submissions; owns its workers (or its connection to them)."""

    def __call__(self, submissions: Sequence[Submission], context: Context) -> Results:
        """Grade ``submissions`` with ``context`` (built once, by
        :func:`grader.grading.pipeline.prepare`); yield each ``(position, result)`` as it
        is done. A submission never makes this raise (a fault of the grader's own is a
        ``not_graded`` result); a worker that fails does. Closing the generator before
        the end stops the work still in flight."""

    def close(self) -> None:
        """Release what the runner holds between batches; it grades no more batches."""
