"""How a batch is spread over workers: processes on this machine, or a Dask cluster.

A runner is a callable ``(submissions, context) -> iterator of (position, result)``
(:data:`Runner`); it owns its workers and stops them when closed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Sequence

if TYPE_CHECKING:
    from grader.grading.pipeline import Context
    from grader.grading.submissions import Submission
    from grader.results import SubmissionResult

# A runner grades submissions and yields (position in its input, result) as each
# finishes, in any order; it owns its workers and stops them when closed.
Runner = Callable[["Sequence[Submission]", "Context"],
                  "Iterator[tuple[int, SubmissionResult]]"]
