"""Tamper evidence: locked cells compared with the release by nbgrader checksum."""

import copy
from pathlib import Path

import pytest

import grader
from grader.assignments.dnn_step_by_step.samples import NOTEBOOK, original_layout, with_edited_test
from grader.grading.notebooks import read_notebook
from grader.grading.options import Options
from grader.grading.tamper import check, compute_checksum, locked_checksums
from grader.sandbox.server import Limits

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release" / "dnn_step_by_step"
SOLUTIONS = REPO / "solutions" / "dnn_step_by_step"


@pytest.fixture(scope="module")
def release():
    return read_notebook(RELEASE / NOTEBOOK)


@pytest.fixture(scope="module")
def solved():
    return read_notebook(SOLUTIONS / NOTEBOOK)


def _variants(cell):
    """The cell with each nbgrader flag and field a checksum reads, in turn, changed."""
    for change in (
        {"grade": True, "points": 7},
        {"grade": True, "points": "2.5"},
        {"solution": True},
        {"locked": True},
        {"locked": False},
        {"solution": True, "grade": True, "points": 1},
        {"grade": 0},
        {},
    ):
        variant = copy.deepcopy(cell)
        variant.metadata.setdefault("nbgrader", {}).update(change)
        yield variant


def test_checksum_is_nbgraders_own(release, solved):
    """Our copy of the algorithm (nbgrader's package is slow to import) agrees with it."""
    from nbgrader.utils import compute_checksum as nbgrader_checksum

    cells = [c for nb in (release, solved) for c in nb.cells if "nbgrader" in c.metadata]
    assert len(cells) > 20
    for cell in cells:
        assert compute_checksum(cell) == nbgrader_checksum(cell)
        for variant in _variants(cell):
            assert compute_checksum(variant) == nbgrader_checksum(variant)
    plain = copy.deepcopy(cells[0])
    plain.metadata.nbgrader = {"grade_id": "x"}
    assert compute_checksum(plain) == nbgrader_checksum(plain)
    assert len({compute_checksum(v) for v in _variants(cells[0])}) >= 5


def test_locked_cells_cover_tests_and_imports_but_not_solutions(release):
    expected = locked_checksums(release)
    assert "setup" in expected and "linear_forward_test" in expected
    assert "linear_forward" not in expected  # students are meant to edit solution cells


def test_untouched_and_solved_notebooks_are_clean(release, solved):
    expected = locked_checksums(release)
    assert check(release, expected).changed_cells == ()
    assert check(solved, expected).checked and check(solved, expected).changed_cells == ()


def test_edited_and_deleted_locked_cells_are_named(release, solved):
    expected = locked_checksums(release)
    edited = with_edited_test(solved, "linear_forward")
    assert check(edited, expected).changed_cells == ("linear_forward_test",)
    deleted = copy.deepcopy(solved)
    deleted.cells = [
        c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "setup"
    ]
    assert check(deleted, expected).changed_cells == ("setup",)


def test_changed_points_metadata_counts_as_tampering(release, solved):
    expected = locked_checksums(release)
    changed = copy.deepcopy(solved)
    for cell in changed.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "compute_cost_test":
            cell.metadata.nbgrader.points = 1000
    assert check(changed, expected).changed_cells == ("compute_cost_test",)


def test_notebooks_without_ids_cannot_be_checked(release, solved):
    assert check(original_layout(solved), locked_checksums(release)).checked is False


def test_grading_flags_but_does_not_penalise(tmp_path, solved):
    from grader.grading.notebooks import notebook_bytes

    path = tmp_path / "edited.ipynb"
    path.write_bytes(notebook_bytes(with_edited_test(solved, "linear_forward")))
    (tmp_path / "plain.ipynb").write_bytes(notebook_bytes(solved))
    (tmp_path / "old.ipynb").write_bytes(notebook_bytes(original_layout(solved)))
    options = Options(limits=Limits(call_timeout=3, cells_timeout=10))
    batch = grader.grade([tmp_path], release_dir=RELEASE, options=options)
    by_student = {s.student: s for s in batch.submissions}
    assert by_student["edited"].score == 100
    assert by_student["edited"].tampered is True
    assert by_student["edited"].tampered_cells == ("linear_forward_test",)
    assert by_student["plain"].tampered is False and by_student["plain"].tampered_cells == ()
    assert by_student["old"].tampered is None
