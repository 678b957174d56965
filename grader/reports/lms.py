"""Gradebook import files of Canvas and Moodle: one row per student, one column holding the
assignment's total (points, not percent), as each LMS documents its CSV import.

Canvas, "How do I import grades in the Gradebook?"
(https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807)
and its importer (https://github.com/instructure/canvas-lms/blob/master/app/models/gradebook_importer.rb):
the header is ``Student,ID,SIS User ID,SIS Login ID,Section`` then one column per
assignment, named ``Title (assignment id)`` for an existing assignment or ``Title`` (an
assignment of that title, else a new one); a row whose first cell holds
``Points Possible`` gives each column's points. A student is found by ``ID`` (Canvas's
user id), then ``SIS User ID``, then ``SIS Login ID``, then by name (``Student``). A
blank cell (or ``-``) is no score.

Moodle, "Grade import" (https://docs.moodle.org/en/Grade_import), CSV: each row is
matched to a user through one column chosen on import ("Map from" a column, "Map to"
the user's id, ID number, email address or username), every other column is mapped to a
grade item or ignored. The header is the one Moodle's own export writes
(``grade/export/lib.php``, ``format_column_name``): ``First name,Last name,ID number,
Institution,Department,Email address`` then ``<item> (Real)``. A blank cell (or ``-``)
is no grade (``grade/import/csv/classes/load_data.php``); a row whose user is not found
aborts the whole import, so every row must carry an identity. Moodle's export also ends
with a ``Last downloaded from this course`` timestamp, which its import checks only
when the column is there: a file made elsewhere leaves it out.

What a cell holds, in both (the same totals ``grades.json`` and ``grades.csv`` hold): a
graded submission its total, after any late penalty; an unreadable notebook or no
submission (``missing``) 0, as in every report; a submission the grader failed on
(``not_graded``) a blank cell, no score rather than a wrong one. Canvas's ``Points
Possible`` row gives the assignment the batch's maximum. A text cell a spreadsheet would
run as a formula (``=``, ``+``, ``-``, ``@``...) starts with ``'``, as in ``grades.csv``:
the LMS keeps the quote, so such an id matches no one and the import lists it as unknown,
rather than a spreadsheet opening the file running it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from grader.reports._common import fmt_number
from grader.reports.csv_report import spreadsheet_text
from grader.results import NOT_GRADED, BatchResult, SubmissionResult

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
# without a roster entry the grader's id is the student's name and login id: a course's
# notebooks are usually named (nbgrader, JupyterHub) by the login students sign in with
CANVAS_DEFAULTS = ("Student", "SIS Login ID")
MOODLE_IDENTITY = (
    "First name",
    "Last name",
    "ID number",
    "Institution",
    "Department",
    "Email address",
)
MOODLE_DISPLAY = "Real"  # Moodle's export names a column "<item> (<display type>)"
MOODLE_DEFAULTS = ("ID number",)  # on import: Map from "ID number" to ID number or username
DEFAULT_ROSTER_KEY = "student"

# grader student id -> column name (as in the roster's header) -> value
Roster = Mapping[str, Mapping[str, str]]


def column_key(name: str) -> str:
    """A column name as compared: case and runs of spaces do not matter."""
    return " ".join(name.split()).casefold()


def parse_roster(text: str, key: str = DEFAULT_ROSTER_KEY) -> dict[str, dict[str, str]]:
    """A roster CSV as ``{grader id: {column: value}}``.

    The ``key`` column holds each student's id in the grader (their notebook's or
    submission's name); the other columns are named as the LMS names its identity
    columns (``SIS User ID``, ``Email address``...; case and spacing aside) and the
    rest are ignored, so a gradebook exported by the LMS is a roster as it is, with
    ``key`` naming the column that holds the grader's ids (the ``key`` column fills an
    identity column only when named exactly as it is). Rows with an empty key are
    skipped (Canvas's ``Points Possible`` row); a repeated key is an error (``ValueError``,
    one line), as is a header without ``key``.
    """
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(rows, None)
    if not header or not any(cell.strip() for cell in header):
        raise ValueError("the roster is empty (a header row and one row per student expected)")
    names = [column_key(cell) for cell in header]
    exact = [" ".join(cell.split()) for cell in header]
    if " ".join(key.split()) in exact:
        at = exact.index(" ".join(key.split()))
    elif column_key(key) in names:
        at = names.index(column_key(key))
    else:
        shown = ", ".join(repr(cell) for cell in header if cell.strip())
        raise ValueError(f"the roster has no column {key!r} (its columns: {shown})")
    if exact[at] not in CANVAS_IDENTITY + MOODLE_IDENTITY:
        names[at] = ""  # the grader's "student" is not Canvas's "Student" (a name)
    roster: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        student = row[at].strip() if at < len(row) else ""
        if not student:
            continue
        if student in roster:
            raise ValueError(f"the roster lists {student!r} twice (line {line})")
        roster[student] = {
            name: value.strip() for name, value in zip(names, row, strict=False) if name
        }
    return roster


def unlisted(batch: BatchResult, roster: Roster) -> list[str]:
    """The batch's students the roster does not name (their rows fall back to the id)."""
    return [s.student for s in batch.submissions if s.student not in roster]


def total_cell(submission: SubmissionResult) -> str:
    """The total as the gradebook gets it: blank for no score (not_graded), else the
    score, 0 for an unreadable or missing notebook (as in ``grades.csv``)."""
    return "" if submission.status == NOT_GRADED else fmt_number(submission.score)


def canvas_column(title: str, assignment_id: str | None = None) -> str:
    """Canvas's name for an assignment column: ``Title (id)`` names an existing
    assignment; ``Title`` alone matches one by title or creates it on import."""
    return title if assignment_id is None else f"{title} ({assignment_id})"


def moodle_column(title: str) -> str:
    """The grade item's column as Moodle's export names it (real points)."""
    return f"{title} ({MOODLE_DISPLAY})"


def canvas_csv(
    batch: BatchResult,
    column: str,
    roster: Roster | None = None,
    *,
    points_possible: bool = True,
) -> str:
    """Canvas's gradebook import file: the identity columns, then ``column`` holding
    each student's total; with ``points_possible`` a second row gives the assignment's
    points (the batch's maximum), which Canvas uses for a new assignment."""
    rows = [[*CANVAS_IDENTITY, column]]
    if points_possible:
        rows.append([CANVAS_POINTS_ROW, *[""] * (len(CANVAS_IDENTITY) - 1)])
        rows[-1].append(fmt_number(batch.max_score))
    rows += _student_rows(batch, roster, CANVAS_IDENTITY, CANVAS_DEFAULTS)
    return _csv_text(rows)


def moodle_csv(batch: BatchResult, column: str, roster: Roster | None = None) -> str:
    """Moodle's grade import file: the identity columns of its export, then ``column``
    (see :func:`moodle_column`) holding each student's total."""
    rows = [[*MOODLE_IDENTITY, column]]
    rows += _student_rows(batch, roster, MOODLE_IDENTITY, MOODLE_DEFAULTS)
    return _csv_text(rows)


def _student_rows(
    batch: BatchResult,
    roster: Roster | None,
    identity: Sequence[str],
    defaults: Sequence[str],
) -> list[list[str]]:
    """One row per submission: its identity cells, then its total. A student on the
    roster gets exactly the roster's values (a column it lacks stays blank); one who is
    not gets their grader id in the ``defaults`` columns."""
    rows = []
    for submission in batch.submissions:
        entry = None if roster is None else roster.get(submission.student)
        if entry is None:
            cells = [submission.student if name in defaults else "" for name in identity]
        else:
            cells = [entry.get(column_key(name), "") for name in identity]
        rows.append([*cells, total_cell(submission)])
    return rows


def _csv_text(rows: Iterable[list[str]]) -> str:
    """RFC 4180 text (quoted as needed, CRLF); every text cell made inert for
    spreadsheets (:func:`spreadsheet_text`: ids and names may come from students).
    Totals are numbers this module wrote, never neutralized: a quote would make them
    text the LMS refuses."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        *text, last = row
        writer.writerow([*map(spreadsheet_text, text), _number_or_text(last)])
    return buffer.getvalue()


def _number_or_text(cell: str) -> str:
    try:
        float(cell)
    except ValueError:
        return spreadsheet_text(cell)
    return cell
