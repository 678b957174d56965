"""Tamper evidence: did a submission change cells that students are not meant to edit?

As nbgrader does, locked cells of the release (the public test cells, the helper
imports, the instructions) are compared with the submission's cells of the same
``grade_id`` by nbgrader's own checksum. The result is a flag for the instructor,
never a penalty: grading does not depend on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class TamperReport:
    checked: bool  # False: the submission carries no nbgrader ids to compare (old layouts)
    changed_cells: tuple[str, ...] = ()  # grade_ids of locked cells edited or deleted


def _grade_id(cell: dict) -> str | None:
    """The cell's nbgrader ``grade_id``; None for metadata of any other shape (a
    submission's metadata is the student's to write: a list there is no grade_id)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def compute_checksum(cell: dict) -> str:
    """nbgrader's cell checksum (``nbgrader.utils.compute_checksum``), bit for bit.

    Importing nbgrader loads its server extensions and database layer, most of a
    second of every ``grader grade``; the algorithm is five lines. A test holds the
    two equal."""
    meta = cell["metadata"]["nbgrader"] if "nbgrader" in cell["metadata"] else {}
    grade, solution = meta.get("grade", False), meta.get("solution", False)
    locked = False if not meta or solution else True if grade else meta.get("locked", False)
    digest = hashlib.md5()
    for part in (
        cell["source"],
        cell["cell_type"],
        str(grade),
        str(solution),
        str(locked),
        meta["grade_id"],
    ):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def locked_checksums(release: dict) -> dict[str, str]:
    """grade_id -> checksum of every locked, non-solution cell of the released notebook."""
    checksums = {}
    for cell in release["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if meta.get("locked") and not meta.get("solution") and meta.get("grade_id"):
            checksums[meta["grade_id"]] = compute_checksum(cell)
    return checksums


def _checksum(cell: dict) -> str | None:
    try:
        return compute_checksum(cell)
    except Exception:  # malformed metadata in a submission counts as a change
        return None


def check(submission: dict, expected: dict[str, str]) -> TamperReport:
    """Which locked cells differ from the release (missing ones count as changed).

    Every cell carrying a locked ``grade_id`` is compared, not only the first: an
    untouched copy placed before an edited one would hide the edit. A locked
    ``grade_id`` found more than once is evidence itself ("<id> (appears 2 times)").

    ``submission``: a notebook, as nbformat's node or plain JSON data."""
    found: dict[str, list[dict]] = {}
    for cell in submission["cells"]:
        grade_id = _grade_id(cell)
        if grade_id in expected:
            found.setdefault(grade_id, []).append(cell)
    if not found:
        return TamperReport(checked=False)
    changed: list[str] = []
    for grade_id, checksum in expected.items():
        cells = found.get(grade_id, [])
        if not cells or any(_checksum(cell) != checksum for cell in cells):
            changed.append(grade_id)
        if len(cells) > 1:
            changed.append(f"{grade_id} (appears {len(cells)} times)")
    return TamperReport(checked=True, changed_cells=tuple(changed))
