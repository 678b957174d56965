"""``junit.xml``: the batch as JUnit test results, for CI dashboards that already read that format.

One suite per submission, one test case per check. Built with ElementTree so
quoting is right, and with XML-illegal characters stripped from student text:
one stray control character in a student's output would otherwise make the
whole file unparsable for everyone. Produced one suite at a time
(``iter_junit_xml``): a tree of 10 000 suites alone takes hundreds of MiB.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from grader.reports._common import clean_text, fmt_number
from grader.results import (
    ERROR,
    GRADED,
    MISSING,
    TIMEOUT,
    BatchResult,
    ExerciseResult,
    SubmissionResult,
)

ERROR_STATUSES = (ERROR, TIMEOUT, MISSING)
MESSAGE_LIMIT = 200  # the ``message`` attribute is a one-line summary; the body holds the full text


def _summary(text: str) -> str:
    """First non-blank line, shortened: what dashboards show in a list."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= MESSAGE_LIMIT else first[: MESSAGE_LIMIT - 1] + "\u2026"


def _outcome(case: ET.Element, tag: str, kind: str, text: str) -> None:
    text = clean_text(text)
    element = ET.SubElement(case, tag, message=_summary(text) or kind, type=kind)
    element.text = text


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=clean_text(classname), name=clean_text(name))


def _exercise_cases(suite: ET.Element, student: str, exercise: ExerciseResult) -> None:
    """Test cases of one exercise: a check that failed in an exercise that errored (or timed
    out, or is missing) is an error, else a failure; an errored exercise with no failed check
    still gets one error case of its own, so its error is never lost."""
    classname = f"{student}.{exercise.name}"
    errored = exercise.status in ERROR_STATUSES
    reported = False
    for check in exercise.checks:
        case = _case(suite, classname, check.name)
        if check.passed:
            continue
        if errored:
            _outcome(
                case,
                "error",
                exercise.status,
                "\n\n".join(t for t in (check.message, exercise.error) if t),
            )
            reported = True
        else:
            _outcome(case, "failure", "failed", check.message)
    if errored and not reported:
        _outcome(
            _case(suite, classname, exercise.name),
            "error",
            exercise.status,
            exercise.error or f"exercise {exercise.status}",
        )


def _count(suite: ET.Element) -> None:
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    suite.set("errors", str(len(suite.findall("testcase/error"))))
    suite.set("skipped", "0")


def _suite(submission: SubmissionResult) -> ET.Element:
    student = clean_text(submission.student)
    suite = ET.Element("testsuite", name=student)
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("submission", clean_text(submission.submission)),
        ("score", fmt_number(submission.score)),
        ("max_score", fmt_number(submission.max_score)),
    ):
        ET.SubElement(properties, "property", name=key, value=value)
    if submission.status != GRADED:
        _outcome(
            _case(suite, student, "notebook"),
            "error",
            submission.status,
            submission.error or "unreadable notebook",
        )
    for exercise in submission.exercises:
        _exercise_cases(suite, student, exercise)
    _count(suite)
    return suite


def _totals(submission: SubmissionResult) -> tuple[int, int, int]:
    """(tests, failures, errors) of the submission's suite, counted without building it,
    so that the root's totals can be written before any suite: the same rules as
    ``_exercise_cases``."""
    tests = failures = errors = 0
    if submission.status != GRADED:
        tests, errors = 1, 1
    for exercise in submission.exercises:
        failed = sum(not check.passed for check in exercise.checks)
        tests += len(exercise.checks)
        if exercise.status not in ERROR_STATUSES:
            failures += failed
        elif failed:
            errors += failed
        else:  # the exercise's own error case
            tests, errors = tests + 1, errors + 1
    return tests, failures, errors


def iter_junit_xml(batch: BatchResult) -> Iterator[str]:
    """``junit_xml(batch)`` in chunks, one suite each; the same text as indenting and
    serialising the whole tree at once (``ET.indent`` at level 1 for each suite)."""
    totals = [0, 0, 0]
    for submission in batch.submissions:
        totals = [a + b for a, b in zip(totals, _totals(submission))]
    root = ET.Element("testsuites", name=clean_text(batch.assignment))
    for key, value in zip(("tests", "failures", "errors"), totals):
        root.set(key, str(value))
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if not batch.submissions:
        yield declaration + ET.tostring(root, encoding="unicode") + "\n"
        return
    end = "</testsuites>"
    empty = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    yield declaration + empty[: -len(end)]
    for submission in batch.submissions:
        suite = _suite(submission)
        ET.indent(suite, level=1)
        yield "\n  " + ET.tostring(suite, encoding="unicode")
    yield "\n" + end + "\n"


def junit_xml(batch: BatchResult) -> str:
    """The batch as a JUnit XML document (UTF-8 declared)."""
    return "".join(iter_junit_xml(batch))
