"""The course under the server root, as the dashboard lists it, and the one rule for
paths a request names: relative to the root, and inside it once symlinks are followed."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from grader.errors import GraderError

SOURCE, RELEASE, SOLUTIONS = "source_notebooks", "release", "solutions"
OUTPUT = "grading-output"  # the dashboard's reports: OUTPUT/<what was graded>/
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PathError(ValueError):
    """A path a request names that is not one under the root; ``status`` 400 or 404."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def confined(root: Path, relative: object, what: str) -> Path:
    """``root / relative`` resolved, refused (:class:`PathError`) unless it is an existing
    path inside ``root``: no absolute path, no ``..``, no symlink out."""
    if not isinstance(relative, str) or not relative.strip():
        raise PathError(f"{what}: name a path relative to the server root")
    pure = PurePosixPath(relative.strip())
    if pure.is_absolute() or ".." in pure.parts or "\\" in relative or "\0" in relative:
        raise PathError(f"{what} {relative!r}: only paths inside the server root, without '..'")
    path = (root / pure).resolve()
    if not path.is_relative_to(root):
        raise PathError(f"{what} {relative!r} leads outside the server root")
    if not path.exists():
        raise PathError(f"{what} {relative} does not exist", 404)
    return path


def output_for(root: Path, path: Path) -> str:
    """Where the dashboard writes the reports of ``path`` (relative to the root)."""
    name = _UNSAFE.sub("_", path.relative_to(root).as_posix()).strip("._") or "submissions"
    return f"{OUTPUT}/{name}"


def source_folder(root: Path, name: object) -> Path:
    """The source folder of assignment folder ``name`` (a plain folder name)."""
    if not isinstance(name, str) or not name or name != PurePosixPath(name).name or name == "..":
        raise PathError(f"assignment {name!r}: name a folder of {SOURCE}/")
    folder = root / SOURCE / name
    if not folder.is_dir() or not any(folder.glob("*.ipynb")):
        raise PathError(f"no assignment {name} in {SOURCE}/", 404)
    return confined(root, f"{SOURCE}/{name}", "assignment")


def assignments(root: Path) -> list[dict[str, Any]]:
    """Every assignment folder of ``source_notebooks/``: its exercises and points, and
    whether its release and solutions exist; a folder that cannot be read says why."""
    from grader.authoring.assignment import load_assignment
    from grader.authoring.generate import source_folders

    if not (root / SOURCE).is_dir():
        return []
    try:
        folders = source_folders(root / SOURCE)
    except GraderError:
        return []  # no folder with a notebook
    listed = []
    for folder in folders:
        entry: dict[str, Any] = {
            "folder": folder.name,
            "name": folder.name,
            "title": folder.name,
            "release": (root / RELEASE / folder.name).is_dir(),
            "solutions": (root / SOLUTIONS / folder.name).is_dir(),
            "exercises": [],
            "max_score": 0.0,
        }
        try:
            assignment, _ = load_assignment(folder)
        except GraderError as exc:
            entry["error"] = str(exc)
        else:
            entry.update(
                name=assignment.name,
                title=assignment.title,
                max_score=assignment.max_score,
                exercises=[{"name": e.name, "points": e.points} for e in assignment.exercises],
            )
        listed.append(entry)
    return listed
