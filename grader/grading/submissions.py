"""Finding submissions: loose notebooks, folders of them, or an nbgrader course tree.

A student id comes from the nbgrader layout ``submitted/<student>/<assignment>/``
when the file sits in one, else from the file name. Given an nbgrader course folder
(one with ``submitted/``), only what is under ``submitted/`` is a submission. Ids are
made unique deterministically so two ``HW.ipynb`` files in different folders never merge.

In an nbgrader tree a submission folder is one student's one submission: a folder with
no notebook is a ``missing`` submission, and of a folder with several notebooks the most
recently modified one is graded (ties: the first by name), with a warning naming them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

# folders no student hands in on purpose: Jupyter's checkpoints, caches, and the
# resource-fork copies ("__MACOSX/._HW.ipynb") macOS adds to every zip it makes
SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", "__MACOSX"}


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the notebook; for a missing one, the nbgrader folder that holds none
    missing: bool = False  # an nbgrader submission folder without a notebook
    warning: str = ""  # for the user, e.g. which of several notebooks is graded and why


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


def hidden_folder(submission: Submission) -> Path:
    """The folder to hide from every submission's sandbox for ``submission``: in an
    nbgrader tree its ``submitted/`` folder (one mount that names no student: the
    sandbox's helper and its mount table would otherwise list every student's id),
    else the notebook's own folder."""
    folder = submission.path if submission.missing else submission.path.parent
    if submission.missing or _student_of(submission.path)[1]:
        return folder.parent.parent
    return folder


def _notebooks_under(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        if SKIPPED_DIRS & set(path.relative_to(folder).parts[:-1]):
            continue
        if path.name.startswith("._"):  # an AppleDouble file beside the notebook
            continue
        if path.is_file():
            found.append(path)
    return found


def is_submission_folder(folder: Path) -> bool:
    """``submitted/<student>/<assignment>`` (resolved)."""
    return len(folder.parts) > 3 and folder.parent.parent.name == "submitted"


def _submission_folders(folder: Path) -> list[Path]:
    """The nbgrader submission folders at or under ``folder`` (resolved), with or without
    notebooks: where a student who submitted nothing is seen."""
    folder = folder.resolve()
    if is_submission_folder(folder):
        return [folder]
    if folder.name == "submitted":
        pattern = "*/*"
    elif folder.parent.name == "submitted":  # one student's folder
        pattern = "*"
    else:
        pattern = "**/submitted/*/*"
    return sorted(
        found
        for found in folder.glob(pattern)
        if found.is_dir()
        and is_submission_folder(found)
        and not SKIPPED_DIRS & set(found.relative_to(folder).parts)
    )


def _one_per_folder(notebooks: list[Path]) -> tuple[list[Path], dict[Path, str]]:
    """The notebooks with one per nbgrader submission folder (the most recently modified;
    ties: the first by name), and a warning for each notebook chosen among several."""
    groups: dict[Path, list[Path]] = {}
    for path in notebooks:
        groups.setdefault(path.parent if _student_of(path)[1] else path, []).append(path)
    chosen, warnings = [], {}
    for folder, members in groups.items():
        if len(members) == 1:
            chosen += members
            continue
        members.sort(key=lambda p: p.name)
        newest = max(members, key=_modified)
        chosen.append(newest)
        warnings[newest] = (
            f"{_student_of(newest)[0]}: {len(members)} notebooks in {folder} ("
            + ", ".join(p.name for p in members)
            + f"); grading {newest.name}, "
            "the most recently modified, as this student's one submission"
        )
    return chosen, warnings


def _modified(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def nbgrader_assignments(submissions: Iterable[Submission]) -> list[str]:
    """The assignment folders (``submitted/<student>/<assignment>/``) the submissions sit in."""
    return sorted(
        {
            (s.path if s.missing else s.path.parent).name
            for s in submissions
            if s.missing or _student_of(s.path)[1]
        }
    )


def find_submissions(paths: Iterable[Path | str]) -> list[Submission]:
    """Expand the command-line paths into submissions, in a stable order.

    Besides the notebooks, every nbgrader submission folder without one is a ``missing``
    submission. A submission's ``warning`` is for the user (the CLI prints it,
    :func:`grader.grade` issues it as a :class:`UserWarning`)."""
    notebooks: list[Path] = []
    folders: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / "submitted").is_dir():  # an nbgrader course: its source/, release/,
            path = path / "submitted"  # autograded/ are not students'
        if path.is_dir():
            notebooks += _notebooks_under(path)
            folders += _submission_folders(path)
        elif path.is_file():
            notebooks.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    unique, warnings = _one_per_folder(list(dict.fromkeys(p.resolve() for p in notebooks)))
    holding = {folder for path in unique for folder in path.parents}
    empty = [f for f in dict.fromkeys(folders) if f not in holding]
    named = [(p, *_student_of(p), False) for p in unique] + [
        (f, f.parent.name, True, True) for f in empty
    ]
    counts: dict[str, int] = {}
    for _path, student, _tree, _missing in named:
        counts[student] = counts.get(student, 0) + 1
    submissions = []
    for path, student, from_tree, missing in named:
        if counts[student] > 1:
            # same id twice: in nbgrader trees, one student's submissions of several
            # assignments get the assignment's name after it; loose files get their
            # parent folder's name in front
            student = (
                f"{student}/{path.name if missing else path.parent.name}"
                if from_tree
                else f"{path.parent.name}/{student}"
            )
        submissions.append(
            Submission(student=student, path=path, missing=missing, warning=warnings.get(path, ""))
        )
    return sorted(submissions, key=lambda s: (s.student, str(s.path)))
