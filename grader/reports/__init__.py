"""Report formats of a grading run, each a pure function of the results, and ``write_reports``.

``grades.csv`` for gradebooks, ``grades.json`` as the full record, ``junit.xml``
for CI dashboards, one feedback page per student (HTML and Markdown), the class
report ``index.html`` for the instructor, and
Gradescope's ``results.json`` when grading runs inside Gradescope.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader import atomic
from grader.reports import background
from grader.reports.class_report import chart_data, class_report_html, draw_charts
from grader.reports.csv_report import grades_csv, iter_grades_csv
from grader.reports.feedback import feedback_html, feedback_markdown
from grader.reports.gradescope import gradescope_results
from grader.reports.json_report import GRADES_SCHEMA, grades_json, iter_grades_json
from grader.reports.junit import iter_junit_xml, junit_xml
from grader.reports.summary import summary_text
from grader.results import BatchResult, SubmissionResult

__all__ = [
    "CLASS_REPORT",
    "GRADES_SCHEMA",
    "PAGES_MANIFEST",
    "RESERVED_STEMS",
    "class_report_html",
    "feedback_file_stems",
    "feedback_html",
    "feedback_markdown",
    "grades_csv",
    "grades_json",
    "gradescope_results",
    "iter_grades_csv",
    "iter_grades_json",
    "iter_junit_xml",
    "junit_xml",
    "safe_file_stem",
    "summary_text",
    "write_reports",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
STEM_LIMIT = 100  # bytes; leaves room for suffixes under the usual 255-byte name limit


def safe_file_stem(student: str) -> str:
    """``student`` as a file name stem: only [A-Za-z0-9._-], never hidden, '.' or '..'."""
    stem = _UNSAFE.sub("_", student)[:STEM_LIMIT]
    return f"_{stem}" if not stem or stem.startswith(".") else stem


def _digest(submission: SubmissionResult) -> str:
    key = f"{submission.student}\0{submission.submission}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).hexdigest()[:8]


# the kit's own files in the output folder, and names a web server or a file browser
# gives a meaning: a student's page never takes one (compared case-insensitively)
RESERVED_STEMS = frozenset(
    {"index", "grades", "junit", "results", ".grader-feedback-pages", ".grader-journal"}
)


def feedback_file_stems(submissions: Sequence[SubmissionResult]) -> list[str]:
    """One unique file stem per submission, in order, unambiguous case-insensitively.

    Names are compared case-insensitively (macOS and Windows file systems). A student
    keeps the plain stem only when no other stem equals it case-insensitively, or when
    among those clashing it is the only one whose id is the stem itself (``a_b`` beside
    ``a b``); ids differing only by case (``Alice``, ``alice``) all lose it, so none opens
    in place of the other. The others get a suffix hashed from their own (student,
    submission), and no page takes a name in ``RESERVED_STEMS``: a name depends only on
    who clashes with it, never on the order of the batch.
    """
    stems = [safe_file_stem(s.student) for s in submissions]
    plain = [True] * len(stems)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, stem in enumerate(stems):
        groups[stem.casefold()].append(index)
    for key, members in groups.items():
        exact = [i for i in members if submissions[i].student == stems[i]]
        keeper = (
            None
            if key in RESERVED_STEMS
            else members[0]
            if len(members) == 1
            else exact[0]
            if len(exact) == 1
            else None
        )
        for i in members:
            plain[i] = i == keeper
    names = [
        stem if plain[i] else f"{stem}-{_digest(submissions[i])}" for i, stem in enumerate(stems)
    ]
    suffixed = {name.casefold() for i, name in enumerate(names) if not plain[i]}
    for index, name in enumerate(names):  # a plain id that looks like another's suffixed name
        if plain[index] and name.casefold() in suffixed:
            names[index] = f"{name}-{_digest(submissions[index])}"
    seen: set[str] = set()
    for index, stem in enumerate(names):  # only a clash of the hashes themselves is left
        candidate, n = stem, 1
        while candidate.casefold() in seen:
            n += 1
            candidate = f"{stem}-{n}"
        names[index] = candidate
        seen.add(candidate.casefold())
    return names


def _encode(text: str) -> bytes:
    # lone surrogates (from undecodable file names) must not abort writing every report
    return text.encode("utf-8", "replace")


PAGES_MANIFEST = ".grader-feedback-pages"  # in the output folder: the pages written last
CLASS_REPORT = "index.html"  # in the output folder: the page for the instructor
_PAGE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.(?:html|md)")


def _pages_of_last_run(out_dir: Path) -> set[str]:
    try:
        lines = (out_dir / PAGES_MANIFEST).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()  # first run here, or not ours to read: delete nothing
    return {line for line in lines if _PAGE_NAME.fullmatch(line)}


def _forget_stale_pages(out_dir: Path, earlier: set[str], pages: list[str]) -> Path:
    """Record this run's pages first, then delete the earlier ones it did not write: an
    interruption between the two leaves a stale page, never a missing one."""
    manifest = out_dir / PAGES_MANIFEST
    atomic.write_bytes(manifest, "".join(f"{name}\n" for name in pages).encode(), durable=False)
    for name in earlier.difference(pages):
        try:
            (out_dir / "feedback" / name).unlink()
        except OSError:  # gone already, or made a folder by someone: not ours to force
            pass
    return manifest


def _write_text(path: Path, chunks: Iterable[str], durable: bool = True) -> None:
    """Stream ``chunks`` into ``path`` atomically, encoded as ``_encode`` would."""
    with atomic.open_write(path, text=True, errors="replace", durable=durable) as handle:
        handle.writelines(chunks)


def write_reports(
    batch: BatchResult,
    out_dir: Path,
    assignment_title: str,
    gradescope: Path | None = None,
    *,
    reveal_expected: bool = False,
) -> list[Path]:
    """Write every report under ``out_dir``, each file atomically; return the paths written.

    Each file is written as soon as it is produced, and the big ones chunk by chunk,
    so memory stays flat in the batch size (at N = 10 000 building them all first
    took ~0.9 GiB). An error midway leaves every file whole: the ones before it new,
    the rest as they were.

    Feedback pages this function wrote for an earlier batch in ``out_dir`` and not for
    this one (a submission withdrawn, a student renamed) are deleted, so that
    ``feedback/`` matches ``grades.csv``; other files there are never touched.

    Student-facing files (feedback pages, Gradescope's results) show what kind of problem
    a failed hidden check found, never its expected values, unless ``reveal_expected``;
    ``grades.json`` keeps everything for the instructor.

    ``gradescope`` is where Gradescope's ``results.json`` goes (e.g.
    ``/autograder/results/results.json``); it needs a batch of exactly one submission.
    """
    if gradescope is not None and len(batch.submissions) != 1:
        raise ValueError(
            f"a Gradescope result is for one submission, the batch has {len(batch.submissions)}"
        )
    out_dir = Path(out_dir)
    written: list[Path] = []
    # drawn meanwhile in a child process (matplotlib: ~0.7 s), unless this is one
    # student's Gradescope upload, where no instructor reads a class report; a batch of
    # one (a CI run) has no distribution to chart, and would wait for matplotlib
    charts = (
        None
        if gradescope is not None
        else background.Started(draw_charts, chart_data(batch))
        if len(batch.submissions) > 1
        else NO_CHARTS
    )
    try:
        _write_grade_files(batch, out_dir, written)
        stems = _write_feedback(batch, out_dir, assignment_title, reveal_expected, written)
    except BaseException:
        if charts is not None:
            charts.cancel()
        raise
    if charts is not None:
        drawn = charts.result()
        # the class report links the pages above; remade from the grades by any rerun
        _write_text(
            out_dir / CLASS_REPORT,
            class_report_html(batch, assignment_title, stems, drawn),
            durable=False,
        )
        written.append(out_dir / CLASS_REPORT)
    if gradescope is not None:
        atomic.write_bytes(
            Path(gradescope),
            _encode(gradescope_results(batch.submissions[0], reveal_expected=reveal_expected)),
        )
        written.append(Path(gradescope))
    return list(dict.fromkeys(written))  # once each, even if gradescope is one of the others


class _NoCharts:
    """The class report of a one-submission batch: no charts to draw."""

    def result(self) -> list[str]:
        return ["", ""]

    def cancel(self) -> None:
        pass


NO_CHARTS = _NoCharts()


def _write_grade_files(batch: BatchResult, out_dir: Path, written: list[Path]) -> None:
    for name, chunks in (
        ("grades.csv", iter_grades_csv),
        ("grades.json", iter_grades_json),
        ("junit.xml", iter_junit_xml),
    ):
        _write_text(out_dir / name, chunks(batch))
        written.append(out_dir / name)


def _write_feedback(
    batch: BatchResult,
    out_dir: Path,
    assignment_title: str,
    reveal_expected: bool,
    written: list[Path],
) -> list[str]:
    """Every student's pages; the stems they were written under."""
    earlier_pages = _pages_of_last_run(out_dir)
    pages = []
    stems = feedback_file_stems(batch.submissions)
    for submission, stem in zip(batch.submissions, stems):
        for suffix, page in ((".html", feedback_html), (".md", feedback_markdown)):
            path = out_dir / "feedback" / f"{stem}{suffix}"
            # one page per student, remade from the grades by any rerun: not fsynced
            text = page(submission, assignment_title, reveal_expected)
            atomic.write_bytes(path, _encode(text), durable=False)
            pages.append(path.name)
            written.append(path)
    written.append(_forget_stale_pages(out_dir, earlier_pages, pages))
    return stems
