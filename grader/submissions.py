"""Finding submissions: loose notebooks, folders of them, or an nbgrader course tree.

A student id comes from the nbgrader layout ``submitted/<student>/<assignment>/``
when the file sits in one, else from the file name. Given an nbgrader course folder
(one with ``submitted/``), only what is under ``submitted/`` is a submission. Ids are
made unique deterministically so two ``HW.ipynb`` files in different folders never merge.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from grader.errors import UsageError

SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


def content_hash(data: bytes) -> str:
    """Key of a submission's content, for resuming and for spotting identical files."""
    return hashlib.sha256(data).hexdigest()


def _student_of(path: Path) -> tuple[str, bool]:
    """(student id, whether it came from an nbgrader tree)."""
    parts = path.parts
    for depth in range(len(parts) - 3, -1, -1):
        if parts[depth] == "submitted" and depth + 3 == len(parts) - 1:
            return parts[depth + 1], True
    return path.stem, False


def _notebooks_under(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        if SKIPPED_DIRS & set(path.relative_to(folder).parts[:-1]):
            continue
        if path.is_file():
            found.append(path)
    return found


def nbgrader_assignments(submissions: Iterable[Submission]) -> list[str]:
    """The assignment folders (``submitted/<student>/<assignment>/``) the submissions sit in."""
    return sorted({s.path.parent.name for s in submissions if _student_of(s.path)[1]})


def find_submissions(paths: Iterable[Path | str]) -> list[Submission]:
    """Expand the command-line paths into submissions, in a stable order."""
    notebooks: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / "submitted").is_dir():  # an nbgrader course: its source/, release/,
            notebooks += _notebooks_under(path / "submitted")  # autograded/ are not students'
        elif path.is_dir():
            notebooks += _notebooks_under(path)
        elif path.is_file():
            notebooks.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    unique = list(dict.fromkeys(p.resolve() for p in notebooks))
    named = [(p, *_student_of(p)) for p in unique]
    counts: dict[str, int] = {}
    for _path, student, _tree in named:
        counts[student] = counts.get(student, 0) + 1
    submissions = []
    for path, student, from_tree in named:
        if counts[student] > 1:
            # same id twice: nbgrader trees keep one notebook per folder, loose files get
            # their parent folder's name in front
            student = f"{student}/{path.stem}" if from_tree else f"{path.parent.name}/{student}"
        submissions.append(Submission(student=student, path=path))
    return sorted(submissions, key=lambda s: (s.student, str(s.path)))
