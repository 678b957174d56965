"""Report formats of a grading run, each a pure function of the results, and ``write_reports``.

``grades.csv`` for gradebooks, ``grades.json`` as the full record, ``junit.xml``
for CI dashboards, one feedback page per student (HTML and Markdown), and
Gradescope's ``results.json`` when grading runs inside Gradescope.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from grader import atomic
from grader.reports.csv_report import grades_csv
from grader.reports.feedback import feedback_html, feedback_markdown
from grader.reports.gradescope import gradescope_results
from grader.reports.json_report import GRADES_SCHEMA, grades_json
from grader.reports.junit import junit_xml
from grader.reports.summary import summary_text
from grader.results import BatchResult, SubmissionResult

__all__ = ["GRADES_SCHEMA", "feedback_file_stems", "feedback_html", "feedback_markdown",
           "grades_csv", "grades_json", "gradescope_results", "junit_xml", "safe_file_stem",
           "summary_text", "write_reports"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
STEM_LIMIT = 100  # bytes; leaves room for suffixes under the usual 255-byte name limit


def safe_file_stem(student: str) -> str:
    """``student`` as a file name stem: only [A-Za-z0-9._-], never hidden, '.' or '..'."""
    stem = _UNSAFE.sub("_", student)[:STEM_LIMIT]
    return f"_{stem}" if not stem or stem.startswith(".") else stem


def _digest(submission: SubmissionResult) -> str:
    key = f"{submission.student}\0{submission.submission}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).hexdigest()[:8]


def feedback_file_stems(submissions: Sequence[SubmissionResult]) -> list[str]:
    """One unique file stem per submission, in order.

    Names are compared case-insensitively (macOS and Windows file systems). Within a
    clash, a student whose id is already safe keeps it; the others get a suffix
    hashed from (student, submission), so a name depends only on who clashes with
    it, never on the order of the batch.
    """
    stems = [safe_file_stem(s.student) for s in submissions]
    groups: dict[str, list[int]] = defaultdict(list)
    for index, stem in enumerate(stems):
        groups[stem.casefold()].append(index)
    for members in groups.values():
        if len(members) == 1:
            continue
        exact = sorted((submissions[i].student, submissions[i].submission, i)
                       for i in members if submissions[i].student == stems[i])
        keeper = exact[0][2] if exact else None
        for i in members:
            if i != keeper:
                stems[i] = f"{stems[i]}-{_digest(submissions[i])}"
    seen: set[str] = set()
    for index, stem in enumerate(stems):  # a suffixed name could still meet a plain one
        candidate, n = stem, 1
        while candidate.casefold() in seen:
            n += 1
            candidate = f"{stem}-{n}"
        stems[index] = candidate
        seen.add(candidate.casefold())
    return stems


def _encode(text: str) -> bytes:
    # lone surrogates (from undecodable file names) must not abort writing every report
    return text.encode("utf-8", "replace")


def write_reports(batch: BatchResult, out_dir: Path, assignment_title: str,
                  gradescope: Path | None = None) -> list[Path]:
    """Write every report under ``out_dir``, each file atomically; return the paths written.

    ``gradescope`` is where Gradescope's ``results.json`` goes (e.g.
    ``/autograder/results/results.json``); it needs a batch of exactly one submission.
    """
    if gradescope is not None and len(batch.submissions) != 1:
        raise ValueError(f"a Gradescope result is for one submission, the batch has "
                         f"{len(batch.submissions)}")
    out_dir = Path(out_dir)
    files: dict[Path, bytes] = {
        out_dir / "grades.csv": _encode(grades_csv(batch)),
        out_dir / "grades.json": _encode(grades_json(batch)),
        out_dir / "junit.xml": _encode(junit_xml(batch)),
    }
    for submission, stem in zip(batch.submissions, feedback_file_stems(batch.submissions)):
        files[out_dir / "feedback" / f"{stem}.html"] = _encode(feedback_html(submission, assignment_title))
        files[out_dir / "feedback" / f"{stem}.md"] = _encode(feedback_markdown(submission, assignment_title))
    if gradescope is not None:
        files[Path(gradescope)] = _encode(gradescope_results(batch.submissions[0]))
    for path, data in files.items():
        atomic.write_bytes(path, data)
    return list(files)
