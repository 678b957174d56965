"""The pytest plugin's collectors and items (:mod:`grader.integrations.pytest_plugin`).

A notebook is graded by :class:`grader.engine.GradingJob` once per session, when pytest
first collects one of the notebooks asked for; the items only replay the results: one per
hidden check (``NB.ipynb::<exercise>::case-<n>``), one ``<exercise>::run`` for an
exercise whose failure no check shows (not defined, stopped before any check), one
``NB.ipynb::notebook`` for a notebook that could not be graded. A failure's text is what
the student may see (:meth:`grader.results.CheckResult.shown_message`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from grader.errors import GraderError
from grader.results import ERROR, GRADED, NOT_GRADED, PASSED, TIMEOUT, SubmissionResult
from grader.terminal import printable

if TYPE_CHECKING:
    from grader.engine import GradingJob

CASE = re.compile(r"case (\d+)\b", re.IGNORECASE)
RUN, NOTEBOOK = "run", "notebook"  # the items that stand for an exercise, for a notebook


@dataclass(frozen=True)
class Planned:
    """One test item to be: where it sits, what it says, whether it passes."""

    exercise: str | None  # None: an item of the notebook itself
    name: str
    title: str  # the heading of its report
    passed: bool
    text: str = ""  # the failure's text


def slug(text: str) -> str:
    """A node-id-friendly name: lower case, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def item_names(check_names: Sequence[str], reserved: Iterable[str] = (RUN,)) -> list[str]:
    """``case-<n>`` for a check named ``case <n>: ...``, else its slug; unique in the list."""
    taken, names = set(reserved), []
    for check in check_names:
        match = CASE.match(check)
        base = f"case-{match.group(1)}" if match else slug(check) or "check"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        names.append(name)
    return names


def plan_items(result: SubmissionResult, reveal_expected: bool = False) -> list[Planned]:
    """The items of one graded notebook, in the assignment's order."""
    from grader.reports.failures import problem_text

    if result.status != GRADED:
        why = (
            "not graded because of a fault of the grader or of this machine (run it again)"
            if result.status == NOT_GRADED
            else "could not be graded"
        )
        text = f"The notebook {why}: {result.error or result.status}"
        return [Planned(None, NOTEBOOK, NOTEBOOK, False, printable(text, lines=True))]
    planned = []
    for exercise in result.exercises:
        stopped = exercise.status in (ERROR, TIMEOUT) and exercise.error
        names = item_names([check.name for check in exercise.checks])
        for check, name in zip(exercise.checks, names):
            text = "" if check.passed else check.shown_message(reveal_expected) or "(no message)"
            if text and stopped:
                text += "\n\n" + exercise.error
            title = printable(f"{exercise.name}: {check.name}")
            planned.append(
                Planned(exercise.name, name, title, check.passed, printable(text, lines=True))
            )
        shown = any(not check.passed for check in exercise.checks)
        if not exercise.checks or (exercise.status != PASSED and not shown):
            passed = exercise.status == PASSED
            text = "" if passed else problem_text(exercise, reveal_expected)
            title = f"{exercise.name}: {RUN}"
            planned.append(Planned(exercise.name, RUN, title, passed, printable(text, lines=True)))
    return planned


class CheckFailed(Exception):
    """A failed check; its one argument is the report's text."""


class GradingFailed(Exception):
    """The grading job itself stopped (one line)."""


class CheckItem(pytest.Item):
    """One hidden check's result, replayed."""

    def __init__(self, *, planned: Planned, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned = planned

    def runtest(self) -> None:
        if not self.planned.passed:
            raise CheckFailed(self.planned.text)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.planned.title


class ExerciseNode(pytest.Collector):
    """One exercise of a notebook: its checks' items."""

    def __init__(self, *, items: Sequence[Planned], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned = tuple(items)

    def collect(self) -> list[CheckItem]:
        return [CheckItem.from_parent(self, name=p.name, planned=p) for p in self.planned]


class NotebookFile(pytest.File):
    """A notebook asked for with ``--grade-notebook``: its exercises."""

    def __init__(self, *, grading: NotebookGrading, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grading = grading

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        try:
            result = self.grading.result(self.path)
        except GradingFailed as exc:
            raise self.CollectError(str(exc)) from None
        planned = plan_items(result, self.grading.reveal_expected)
        nodes: list[pytest.Item | pytest.Collector] = []
        for item in planned:
            if item.exercise is None:
                nodes.append(CheckItem.from_parent(self, name=item.name, planned=item))
            elif not nodes or getattr(nodes[-1], "name", None) != item.exercise:
                group = [p for p in planned if p.exercise == item.exercise]
                nodes.append(ExerciseNode.from_parent(self, name=item.exercise, items=group))
        return nodes


class NotebookGrading:
    """The session's notebooks, their grading jobs (found at configuration, no process
    started) and, once the first notebook is collected, every notebook's result."""

    def __init__(
        self, jobs: Sequence[GradingJob], warnings: list[str], base: Path, reveal: bool
    ) -> None:
        self.jobs, self.warnings, self.base = list(jobs), warnings, base
        self.reveal_expected = reveal
        self.notebooks = [s.path for job in self.jobs for s in job.notebooks]
        self.wanted = {self.resolve(path) for path in self.notebooks}
        self.results: dict[Path, SubmissionResult] | None = None
        self.error = ""

    @classmethod
    def from_config(cls, config: pytest.Config, paths: Sequence[str]) -> NotebookGrading:
        """The jobs the options ask for; a wrong path or release is a one-line usage error."""
        from grader.engine import GradingJob, jobs_by_assignment
        from grader.grading.locations import find_folder

        release = config.getoption("grade_release")
        assignment = config.getoption("grade_assignment")
        base = config.invocation_params.dir
        warnings: list[str] = []
        settings: dict[str, Any] = dict(
            warn=lambda line: warnings.append(printable(line)),
            argument="--assignment NAME or --release PATH",
        )
        try:
            if release is not None and assignment is not None:
                raise GraderError("give --assignment or --release, not both")
            if assignment is not None:
                release = find_folder(assignment, "release", "--release PATH")
            here = Path.cwd() == base  # then the notebooks keep the names given
            notebooks = [Path(path) if here else base / path for path in paths]
            if release is not None:
                jobs = [GradingJob(notebooks, release_dir=base / release, **settings)]
            else:
                jobs = list(jobs_by_assignment(notebooks, **settings).values())
        except GraderError as exc:
            raise pytest.UsageError(printable(exc)) from None
        grading = cls(jobs, warnings, base, bool(config.getoption("grade_reveal_expected")))
        if not grading.notebooks:
            raise pytest.UsageError(f"no notebooks (*.ipynb) in {', '.join(paths)}")
        return grading

    def resolve(self, path: Path | str) -> Path:
        return (self.base / path).resolve()

    def wants(self, path: Path) -> bool:
        return path.resolve() in self.wanted

    def collector(self, path: Path, parent: pytest.Collector) -> NotebookFile:
        return NotebookFile.from_parent(parent, path=path, grading=self)

    def result(self, path: Path) -> SubmissionResult:
        """``path``'s result; every notebook is graded on the first call."""
        if self.results is None:
            self.results = {}
            try:
                for job in self.jobs:
                    batch = job.run()
                    for submission, result in zip(job.submissions, batch.submissions):
                        self.results[self.resolve(submission.path)] = result
            except GraderError as exc:
                self.error = printable(exc)
        if self.error:
            raise GradingFailed(self.error)
        return self.results[self.resolve(path)]

    def header(self) -> list[str]:
        count = len(self.notebooks)
        return [
            f"grader: {count} notebook{'s' if count != 1 else ''} against "
            + ", ".join(str(job.release_dir) for job in self.jobs)
        ]

    def summary(self) -> list[str]:
        """A score line per graded notebook, then the grading's warnings."""
        from grader.reports.failures import score_text

        lines = []
        for path in self.notebooks:
            result = (self.results or {}).get(self.resolve(path))
            if result is not None:
                status = "" if result.status == GRADED else f" ({result.status})"
                shown = path.relative_to(self.base) if path.is_relative_to(self.base) else path
                score = score_text(result.score, result.max_score)
                lines.append(printable(f"{shown}: {score}{status}"))
        return lines + [f"warning: {line}" for line in self.warnings]
