"""Class-wide numbers of a batch, shared by the terminal summary and the class report.

One rule for both: an unreadable or missing submission counts as 0 in the mean and
median (as in the gradebook), a ``not_graded`` one (the grader's fault) is left out; per exercise, a
graded submission lacking the exercise counts as not passed, 0 points. Accumulated one
submission at a time, so a report can gather everything it needs in a single pass.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from grader.results import GRADED, MISSING, NOT_GRADED, PASSED, SubmissionResult


@dataclass
class ExerciseTally:
    """One exercise over the graded submissions."""

    passed: int = 0
    points: float = 0.0  # summed over the graded submissions that have the exercise
    max_score: float = 0.0


@dataclass
class BatchStats:
    submissions: int = 0
    graded: int = 0
    missing: int = 0  # no notebook at all
    not_graded: int = 0
    totals: list[float] = field(default_factory=list)  # the scores that count, see above
    # exercise name -> tally, in assignment order: the batch's own list, then any other
    # a graded submission holds (as ``grader.reports._common.exercise_names``)
    exercises: dict[str, ExerciseTally] = field(default_factory=dict)

    @classmethod
    def start(cls, exercises: Iterable[str] = ()) -> BatchStats:
        """Empty, with a tally for each of the assignment's ``exercises``, in order."""
        return cls(exercises={name: ExerciseTally() for name in exercises})

    @classmethod
    def of(
        cls, submissions: Iterable[SubmissionResult], exercises: Iterable[str] = ()
    ) -> BatchStats:
        stats = cls.start(exercises)
        for submission in submissions:
            stats.add(submission)
        return stats

    def add(self, submission: SubmissionResult) -> None:
        self.submissions += 1
        if submission.status == NOT_GRADED:
            self.not_graded += 1
            return
        self.totals.append(submission.score if submission.status == GRADED else 0.0)
        if submission.status != GRADED:
            self.missing += submission.status == MISSING
            return
        self.graded += 1
        for exercise in submission.exercises:
            tally = self.exercises.get(exercise.name)
            if tally is None:
                tally = self.exercises[exercise.name] = ExerciseTally(max_score=exercise.max_score)
            tally.passed += exercise.status == PASSED
            tally.points += exercise.score
            tally.max_score = max(tally.max_score, exercise.max_score)

    @property
    def unreadable(self) -> int:
        """Every submission neither graded, missing nor not_graded."""
        return self.submissions - self.graded - self.missing - self.not_graded

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.totals) if self.totals else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.totals) if self.totals else None

    def pass_rate(self, name: str) -> float:
        """Share of the graded submissions that passed exercise ``name`` (0 when none)."""
        tally = self.exercises.get(name)
        return tally.passed / self.graded if tally and self.graded else 0.0

    def mean_points(self, name: str) -> float:
        tally = self.exercises.get(name)
        return tally.points / self.graded if tally and self.graded else 0.0
