"""The one engine that runs a grading job, whoever asks: the command, the Python API
(:func:`grade`), and the callers to come (the grading service, the Jupyter extension,
the pytest plugin). They differ only in how they show warnings and progress.

A :class:`GradingJob` is made in two steps, so that a caller can refuse a job before
any process starts: building it finds the submissions and the release (cheap, no
process); :meth:`GradingJob.run` starts the sandboxes, computes the expected values,
grades (resuming from a journal when given one) and returns the :class:`BatchResult`.
A :class:`GradingPool` is the same engine kept running for a service: every assignment
prepared once, workers started once, notebooks graded as they arrive.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.assignments import get_kit
from grader.errors import GraderError, UsageError
from grader.grading.locations import (
    assignment_groups,
    assignment_of,
    find_folder,
    release_assignment,
)
from grader.grading.options import (
    Options,
    default_jobs,
    hiding,
    release_folder,
    sandbox_isolation,
    start_sandboxes,
)
from grader.grading.submissions import Submission, find_submissions, nbgrader_assignments
from grader.results import BatchResult, SubmissionResult
from grader.terminal import printable

if TYPE_CHECKING:
    from concurrent.futures import Future

    from grader.grading.pipeline import Context
    from grader.results import Environment
    from grader.runners import Runner
    from grader.runners.pool import RunnerPool, WorkerPool

Warn = Callable[[str], None]


def _python_warning(message: str) -> None:
    # grade() -> GradingJob -> here: the warning points at the caller of grade()
    warnings.warn(message, UserWarning, stacklevel=4)


class GradingJob:
    """One grading run over ``paths`` (files, folders, nbgrader course trees).

    ``release_dir``: default, the release of the submissions' assignment
    (:mod:`grader.grading.locations`). ``journal``: a file to resume from and record
    to (:mod:`grader.resume`); ``fresh`` ignores what it holds. ``runner``: how the
    submissions are spread (default: worker processes here, see :mod:`grader.runners`).
    ``hide``: more folders submissions must not see (e.g. the reports' folder).
    ``warn`` receives each warning as one printable line. ``argument``: how errors
    name the release parameter (``--release`` for the command).
    """

    def __init__(
        self,
        paths: Path | str | Iterable[Path | str],
        *,
        release_dir: Path | str | None = None,
        options: Options | None = None,
        journal: Path | str | None = None,
        fresh: bool = False,
        runner: Runner | None = None,
        hide: Sequence[Path] = (),
        warn: Warn = _python_warning,
        argument: str = "release_dir",
        submissions: Sequence[Submission] | None = None,
    ) -> None:
        self.paths = _paths(paths)
        self.warn = warn
        if submissions is None:
            submissions = find_submissions(self.paths)
            _tell(submissions, warn)
        self.submissions: list[Submission] = list(submissions)
        self.release_dir = self._release(release_dir, argument)
        assignments = nbgrader_assignments(self.submissions)
        if len(assignments) > 1:
            warn(
                printable(
                    f"notebooks of {len(assignments)} nbgrader assignments "
                    f"({', '.join(assignments)}) are all graded against "
                    f"{self.release_dir}; pass submitted/*/<assignment> to grade one"
                )
            )
        self.options = hiding(options or Options(), self.submissions, *hide)
        self.journal = Path(journal) if journal is not None else None
        self.fresh, self.runner = fresh, runner
        self.context: Context | None = None  # set by run(): the release, read and planned
        self.reused = 0  # results taken from the journal by run()

    def _release(self, release_dir: Path | str | None, argument: str) -> Path:
        """The release folder, found or checked, with errors naming ``argument``."""
        flag = argument.startswith("--")
        if release_dir is None:
            override = argument if flag else f"{argument}=..."
            return find_folder(assignment_of(self.submissions, override), "release", override)
        return release_folder(release_dir, None if flag else argument)

    @property
    def notebooks(self) -> list[Submission]:
        """The submissions that hold a notebook (not the empty nbgrader folders)."""
        return [submission for submission in self.submissions if not submission.missing]

    def run(
        self,
        progress: Callable[[SubmissionResult], None] | None = None,
        *,
        prepared: Callable[[Context], None] | None = None,
    ) -> BatchResult:
        """Grade every submission. ``prepared`` sees the context before any grading (a
        caller's last chance to refuse, e.g. a bound above the maximum score)."""
        from grader.grading.batch import finish, grade_submissions
        from grader.grading.pipeline import prepare

        with contextlib.ExitStack() as stack:
            # the workers' sandboxes start first: their helpers load numpy while this
            # process computes the expected values
            self.options = replace(self.options, preload=_preload(self.release_dir))
            started = (
                []
                if self.runner is not None
                else start_sandboxes(self.options, len(self.notebooks), stack)
            )
            self.context = context = prepare(self.release_dir, self.options)
            if prepared is not None:
                prepared(context)
            try:
                isolation, strong = sandbox_isolation(self.options, started)
            except GraderError as exc:  # e.g. namespaces required where there are none
                raise UsageError(str(exc)) from None
            if not strong:
                self.warn(f"submissions are not fully isolated: {isolation}")
            runner = self.runner
            if runner is None:
                from grader.runners.local import local_runner

                runner = local_runner(self.options.jobs, sandboxes=started)
            journal = None
            if self.journal is not None:
                from grader.resume import Journal, fingerprint

                journal = stack.enter_context(
                    Journal(self.journal, fingerprint(context), fresh=self.fresh)
                )
            results = grade_submissions(
                self.submissions, context, progress, journal=journal, runner=runner
            )
            self.reused = journal.reused if journal is not None else 0
        return finish(context, results, isolation)


def _paths(paths: Path | str | Iterable[Path | str]) -> tuple[Path, ...]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return tuple(Path(path) for path in paths)


def _tell(submissions: Sequence[Submission], warn: Warn) -> None:
    for submission in submissions:  # e.g. which of a student's notebooks counts
        if submission.warning:
            warn(printable(submission.warning))


def jobs_by_assignment(
    paths: Path | str | Iterable[Path | str],
    *,
    warn: Warn = _python_warning,
    argument: str = "release_dir",
    **job: Any,
) -> dict[str, GradingJob]:
    """One job per assignment the submissions belong to (their nbgrader folder or notebook
    metadata; see :func:`grader.grading.locations.assignment_groups`), by assignment name:
    a folder of several assignments' notebooks is graded against each one's release."""
    submissions = find_submissions(_paths(paths))
    _tell(submissions, warn)
    override = argument if argument.startswith("--") else f"{argument}=..."
    groups = assignment_groups(submissions, override)
    if len(groups) > 1:  # student ids told apart within each assignment, not across them
        groups = {name: _renamed(group) for name, group in groups.items()}
    return {
        name: GradingJob(
            paths,
            submissions=group,
            warn=warn,
            argument=argument,
            release_dir=find_folder(name, "release", override),
            **job,
        )
        for name, group in groups.items()
    }


def _renamed(group: list[Submission]) -> list[Submission]:
    """The group's submissions found again from their own files: ``alice`` in two
    assignments' folders is ``alice`` in each (found together, they were told apart)."""
    found = find_submissions([s.path for s in group if not s.missing])
    return found + [s for s in group if s.missing]


def _preload(release_dir: Path) -> tuple[str, ...] | None:
    """The modules the release's kit wants loaded in every sandbox; None (the sandbox's
    default) when it says nothing or the release names no known kit (reading it then
    fails with the reason)."""
    name = release_assignment(release_dir)
    try:
        return get_kit(name).preload if name else None
    except GraderError:
        return None


def grade(
    paths: Path | str | Iterable[Path | str],
    *,
    release_dir: Path | str | None = None,
    options: Options | None = None,
    progress: Callable[[SubmissionResult], None] | None = None,
    journal: Path | str | None = None,
    fresh: bool = False,
    runner: Runner | None = None,
) -> BatchResult:
    """Grade notebooks (files, folders, nbgrader trees) against the released assignment.

    See :class:`GradingJob` for the arguments. Paths without a notebook give an empty
    batch. Warnings (several notebooks in one nbgrader folder, weak isolation) are
    issued as :class:`UserWarning`; errors are :class:`grader.errors.GraderError`.
    """
    job = GradingJob(
        paths, release_dir=release_dir, options=options, journal=journal, fresh=fresh, runner=runner
    )
    return job.run(progress)


@dataclass(frozen=True)
class AssignmentInfo:
    """What a service tells about an assignment it grades."""

    name: str
    max_score: float
    exercises: tuple[tuple[str, float], ...]  # (exercise, points), in notebook order


class GradingPool:
    """The engine kept running: notebooks of the ``releases``' assignments graded as
    they arrive, as :meth:`submit` futures (the grading service's engine).

    ``releases``: a folder of release folders (``release/``), one release folder, or
    ``{assignment: release folder}``. ``options.jobs`` workers (0: one per core) are
    forked once by :meth:`start`, each with its sandbox; ``runner`` grades on another
    :class:`~grader.runners.Runner` instead (e.g. a Dask cluster). The results are
    those of :func:`grade` for the same bytes; ``submission`` is the label given.
    """

    def __init__(
        self,
        releases: Path | str | Mapping[str, Path | str],
        *,
        options: Options | None = None,
        runner: Runner | None = None,
        hide: Sequence[Path] = (),
        warn: Warn = _python_warning,
    ) -> None:
        self.releases = _releases(releases)
        self.options = replace(
            options or Options(), hide=tuple(sorted({*(options or Options()).hide, *hide}, key=str))
        )
        self.runner, self.warn = runner, warn
        self.assignments: dict[str, AssignmentInfo] = {}
        self.environment: Environment | None = None
        self._pool: WorkerPool | RunnerPool | None = None
        self._stack = contextlib.ExitStack()

    def start(self) -> GradingPool:
        """Prepare every assignment and start the workers (seconds; no request waits)."""
        from grader.grading.batch import environment
        from grader.grading.pipeline import prepare
        from grader.runners.pool import RunnerPool, WorkerPool

        preloads = [_preload(folder) for folder in self.releases.values()]
        if preloads and None not in preloads:  # what every kit wants, loaded once
            merged = tuple(dict.fromkeys(m for preload in preloads for m in preload or ()))
            self.options = replace(self.options, preload=merged)
        try:
            jobs = self.options.jobs or default_jobs()
            started = (
                start_sandboxes(replace(self.options, jobs=jobs), jobs, self._stack)
                if self.runner is None
                else []
            )
            contexts = {
                name: prepare(folder, self.options) for name, folder in self.releases.items()
            }
            try:
                isolation, strong = sandbox_isolation(self.options, started)
            except GraderError as exc:
                raise UsageError(str(exc)) from None
            if not strong:
                self.warn(f"submissions are not fully isolated: {isolation}")
            self.environment = environment(self.options, isolation)
            self._pool = (
                WorkerPool(contexts, jobs, self.options, started)
                if self.runner is None
                else RunnerPool(contexts, self.runner, jobs)
            )
            self._stack.callback(self._pool.close)
        except BaseException:
            self._stack.close()
            raise
        self.assignments = {
            name: AssignmentInfo(
                name,
                context.assignment.max_score,
                tuple((e.name, e.points) for e in context.assignment.exercises),
            )
            for name, context in contexts.items()
        }
        return self

    @property
    def jobs(self) -> int:
        return self._started().jobs

    @property
    def queued(self) -> int:
        """Notebooks submitted and not yet graded (waiting or running)."""
        return self._started().queued

    @property
    def mean_seconds(self) -> float:
        """Recent notebooks' mean grading time (0 before the first)."""
        return self._started().timing.mean

    def submit(self, assignment: str, student: str, label: str, data: bytes) -> Future:
        """Grade one notebook's bytes; a future of its :class:`SubmissionResult`."""
        return self._started().submit(assignment, student, label, data)

    def grade(self, assignment: str, student: str, label: str, data: bytes) -> SubmissionResult:
        return self.submit(assignment, student, label, data).result()

    def _started(self) -> WorkerPool | RunnerPool:
        if self._pool is None:
            raise UsageError("the grading pool is not started (call start())")
        return self._pool

    def close(self) -> None:
        """Stop the workers and their sandboxes."""
        self._stack.close()
        self._pool = None

    def __enter__(self) -> GradingPool:
        return self if self._pool is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _releases(releases: Path | str | Mapping[str, Path | str]) -> dict[str, Path]:
    """The release folder of each assignment served, by name."""
    if isinstance(releases, Mapping):
        return {name: release_folder(folder) for name, folder in releases.items()}
    root = release_folder(releases, "releases")
    name = release_assignment(root)
    if name:
        return {name: root}
    found = {
        name: folder
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        if (name := release_assignment(folder))
    }
    if not found:
        raise UsageError(f"no release folder of an assignment in {root} (run `grader release`)")
    return found
