"""A submission must learn nothing about the other submissions of its batch from memory.

The fork server is told which folders to hide (with an nbgrader tree: every student's
folder, often named by an e-mail address); a child forked from it could walk up its
stack frames into the server's, or through ``gc``, and read them. Each notebook here
searches every string and bytes object it can reach for the other student's id and
reports what it found in a cell error.
"""

from __future__ import annotations

import nbformat
import pytest

import grader
from grader.assignments.dnn_step_by_step.samples import NOTEBOOK
from grader.grading.notebooks import notebook_bytes, read_notebook
from grader.grading.options import Options, hiding
from grader.grading.submissions import find_submissions

from .adversarial_support import LIMITS
from .attack_notebooks import RELEASE, SOLUTIONS

STUDENTS = ("alice@example.edu", "bob@example.edu")

# hex, so that the cell's own source does not hold the id it looks for
SEARCH = """
import gc, sys
def _search(needles):
    keep, seen, todo, frames, strings, found = [], set(), [], 0, 0, set()
    frame = sys._getframe()
    while frame is not None:
        todo.append(frame)
        frames += 1
        frame = frame.f_back
    todo += [sys.modules, *gc.get_objects()]   # frozen objects: reached through the others
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        keep.append(item)   # no id reused while the walk goes on
        if isinstance(item, (str, bytes, bytearray)):
            if any(item is needle for needle in needles):
                continue
            text = item if isinstance(item, str) else bytes(item).decode("latin-1")
            strings += 1
            found.update(needle for needle in needles if needle in text)
            continue
        try:
            todo += gc.get_referents(item)
            if type(item).__name__ == "frame":
                todo += [item.f_locals, item.f_globals]
        except Exception:
            pass
    return frames, strings, sorted(found)

_frames, _strings, _found = _search([bytes.fromhex({other!r}).decode()])
raise RuntimeError(f"probe: {{_frames}} frames, {{_strings > 20000}} strings, found {{_found}}")
"""


def _batch(root, mode: str):
    solved = read_notebook(SOLUTIONS / NOTEBOOK)
    setup = next(i for i, cell in enumerate(solved.cells) if cell.cell_type == "code")
    for student, other in (STUDENTS, STUDENTS[::-1]):
        notebook = solved.copy()
        notebook.cells = list(solved.cells)
        notebook.cells.insert(
            setup + 1, nbformat.v4.new_code_cell(SEARCH.format(other=other.encode().hex()))
        )
        folder = root / "course" / "submitted" / student / "dnn_step_by_step"
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_bytes(notebook_bytes(notebook))
    return grader.grade(
        [root / "course"], release_dir=RELEASE, options=Options(limits=LIMITS, sandbox=mode, jobs=1)
    )


@pytest.mark.parametrize("mode", ["namespaces", "rlimits"])
def test_no_submission_can_read_the_other_students_ids(mode, strong, tmp_path):
    if mode == "namespaces" and not strong:
        pytest.skip("needs the namespace sandbox (not available here)")
    batch = _batch(tmp_path, mode)
    assert [s.student for s in batch.submissions] == list(STUDENTS)
    for submission in batch.submissions:
        probes = [line for line in submission.cell_errors if "probe:" in line]
        assert len(probes) == 1, submission.cell_errors
        # it walked from its own frame up through the fork server's, and far beyond
        assert "True strings" in probes[0] and " 0 frames" not in probes[0], probes
        frames = int(probes[0].split("probe: ")[1].split()[0])
        assert frames >= 6, probes  # the cell, the child's frames, the fork server's
        assert probes[0].endswith("found []"), probes
        assert submission.score == 100  # the probe's cell fails alone


def test_the_folders_hidden_for_an_nbgrader_tree_name_no_student(tmp_path):
    """One mount over ``submitted/``: a mount per student's folder would list every id
    in the sandbox's mount table (``/proc/self/mountinfo``), where a course lives in a
    folder the sandbox leaves visible."""
    for student in STUDENTS:
        folder = tmp_path / "course" / "submitted" / student / "hw1"
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text("{}")
    (tmp_path / "course" / "submitted" / "carol@example.edu" / "hw1").mkdir(parents=True)
    submissions = find_submissions([tmp_path / "course"])
    assert len(submissions) == 3 and submissions[-1].missing
    hidden = hiding(Options(), submissions).hide
    assert hidden == ((tmp_path / "course" / "submitted").resolve(),)
    assert [path for path in hidden if "example.edu" in str(path)] == []
