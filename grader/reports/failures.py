"""What a student is told about one exercise: its failed checks grouped by message, and
scores rounded for people.

Shared by every student-facing report (feedback pages, Gradescope). A hidden check's
expected values are left out unless the instructor reveals them
(:meth:`grader.results.CheckResult.shown_message`); ``grades.json`` keeps everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.reports._common import fmt_points
from grader.results import ERROR, MISSING, PASSED, TIMEOUT, ExerciseResult

NAMES_LISTED = 3  # check names spelled out in a group's heading


def score_text(score: float, max_score: float) -> str:
    return f"{fmt_points(score)} / {fmt_points(max_score)}"


@dataclass(frozen=True)
class FailureGroup:
    """Checks of one exercise that failed with the same message."""

    checks: tuple[str, ...]
    message: str
    all_checks: bool  # every check of the exercise failed this way

    @property
    def heading(self) -> str:
        if len(self.checks) == 1:
            return f"Failed check: {self.checks[0]}"
        count = len(self.checks)
        if self.all_checks:
            return f"All {count} checks failed the same way"
        shown = "; ".join(self.checks[:NAMES_LISTED])  # names hold commas
        more = f" and {count - NAMES_LISTED} more" if count > NAMES_LISTED else ""
        return f"{count} checks failed the same way ({shown}{more})"


def failure_groups(
    exercise: ExerciseResult, reveal_expected: bool = False
) -> tuple[FailureGroup, ...]:
    """Failed checks grouped by the message a student sees, in order of first failure:
    an untouched exercise says its NotImplementedError once, not once per case."""
    groups: dict[str, list[str]] = {}
    for check in exercise.checks:
        if not check.passed:
            groups.setdefault(check.shown_message(reveal_expected) or "(no message)", []).append(
                check.name
            )
    total = len(exercise.checks)
    return tuple(
        FailureGroup(tuple(names), message, len(names) == total)
        for message, names in groups.items()
    )


STATUS_EXPLANATIONS = {
    "failed": "Some hidden checks failed.",
    ERROR: "Your code raised an error while it was checked.",
    TIMEOUT: "Your code ran past the time limit while it was checked.",
    MISSING: "This function was not found in your notebook (was it renamed or deleted?).",
}
NOT_DEFINED = "Its cell stopped with an error, so the function was never defined."


def explanation(exercise: ExerciseResult) -> str:
    """Our own sentence for the exercise's status ('' for passed; unknown ones named)."""
    if exercise.status == PASSED:
        return ""
    if exercise.status == MISSING and "could not be defined" in exercise.error:
        return NOT_DEFINED
    text = STATUS_EXPLANATIONS.get(exercise.status, f"Status: {exercise.status}.")
    failed = sum(not check.passed for check in exercise.checks)
    if exercise.status in (ERROR, TIMEOUT) and failed > 1 and not shown_groups(exercise):
        text += f" All {failed} checks stopped on the same error:"
    return text


def shown_groups(
    exercise: ExerciseResult, reveal_expected: bool = False
) -> tuple[FailureGroup, ...]:
    """The groups worth showing: none when every check stopped on the one error shown
    below them (the error says it better, with its traceback)."""
    groups = failure_groups(exercise, reveal_expected)
    if (
        exercise.error
        and exercise.status in (ERROR, TIMEOUT)
        and len(groups) == 1
        and groups[0].all_checks
        or exercise.status == MISSING
    ):
        return ()
    return groups


def problem_text(exercise: ExerciseResult, reveal_expected: bool = False) -> str:
    """What went wrong in one exercise, as plain text for a student (Gradescope's output)."""
    if exercise.status == PASSED:
        return ""
    parts = [explanation(exercise)]
    parts += [
        f"{group.heading}:\n{group.message}" for group in shown_groups(exercise, reveal_expected)
    ]
    if exercise.error:
        parts.append(exercise.error)
    return "\n\n".join(part for part in parts if part)
