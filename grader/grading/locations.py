"""Where an assignment's release and solutions folders are, from any working folder.

Without ``--release`` (``release_dir=`` in Python), the release of the submissions'
assignment is ``<root>/<assignment>``, where ``<root>`` is the first of these that
holds it:

1. ``$GRADER_RELEASE_ROOT``, when set (then nothing else is searched: an explicit
   setting that is wrong must say so, not fall back quietly);
2. ``release/`` of the checkout that holds the ``grader`` package (with an editable
   install, where ``grader release`` wrote it, whatever the working folder);
3. ``release/`` of the working folder.

Solutions (for ``grader sample``) are found the same way under ``solutions/``, without
the variable. The assignment is the one the submissions name (their nbgrader folder
``submitted/<student>/<assignment>/``, else the first notebook's metadata
``grader.authoring.assignment``) when a kit of that name is installed, else the only installed kit.
Light to import: the command line uses it before loading the rest of the grader.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from grader.assignments import available
from grader.errors import UsageError
from grader.grading.submissions import Submission, nbgrader_assignments

RELEASE_ROOT_VARIABLE = "GRADER_RELEASE_ROOT"
MAX_NOTEBOOK_BYTES = 64 << 20  # grader.grading.notebooks' bound (not imported: nbformat is heavy)
DEFAULT_ASSIGNMENT = "dnn_step_by_step"


def checkout_root() -> Path:
    """The folder above the ``grader`` package: the repository, for an editable install."""
    return Path(__file__).resolve().parents[2]


def _roots(kind: str) -> list[Path]:
    if kind == "release" and os.environ.get(RELEASE_ROOT_VARIABLE):
        return [Path(os.environ[RELEASE_ROOT_VARIABLE])]
    return list(dict.fromkeys((checkout_root() / kind, Path.cwd() / kind)))


def find_folder(assignment: str, kind: str = "release", override: str = "--release") -> Path:
    """``<root>/<assignment>`` for the first root (see the module) that holds it; else a
    one-line usage error naming where it looked and ``override``, the way to name one."""
    candidates = [root / assignment for root in _roots(kind)]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    variable = os.environ.get(RELEASE_ROOT_VARIABLE) if kind == "release" else None
    if variable:
        raise UsageError(f"{RELEASE_ROOT_VARIABLE}={variable} has no {assignment} folder "
                         f"(run `grader release` first, or pass {override})")
    looked = " or ".join(str(candidate) for candidate in candidates)
    hint = f", set {RELEASE_ROOT_VARIABLE}" if kind == "release" else ""
    raise UsageError(f"no {kind} folder for {assignment} in {looked} "
                     f"(run `grader release` first{hint}, or pass {override})")


def _named_in_metadata(path: Path) -> str | None:
    """``metadata.grader.authoring.assignment`` of a notebook file; None when it cannot tell. The
    file is a student's: any size, nesting, numbers or types (only a hint is at stake)."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_NOTEBOOK_BYTES + 1)
        document = json.loads(data) if len(data) <= MAX_NOTEBOOK_BYTES else None
    except (OSError, ValueError, RecursionError, MemoryError):  # ValueError: digits, UTF-8
        return None
    metadata = document.get("metadata") if isinstance(document, dict) else None
    grader = metadata.get("grader") if isinstance(metadata, dict) else None
    name = grader.get("assignment") if isinstance(grader, dict) else None
    return name if isinstance(name, str) else None


def release_assignment(release_dir: Path) -> str | None:
    """The assignment a release folder is of (its notebook's metadata); None when it
    cannot tell (the release is then refused with its own error when it is read)."""
    notebooks = sorted(Path(release_dir).glob("*.ipynb"))
    return _named_in_metadata(notebooks[0]) if len(notebooks) == 1 else None


def default_assignment() -> str:
    """The only installed kit, else the flagship one."""
    kits = available()
    return kits[0] if len(kits) == 1 else DEFAULT_ASSIGNMENT


def assignment_of(submissions: Sequence[Submission], override: str = "--release") -> str:
    """The installed assignment kit the submissions belong to (see the module)."""
    kits = available()
    named = [name for name in nbgrader_assignments(submissions) if name in kits]
    if not named:
        first = next((s.path for s in submissions if not s.missing), None)
        name = _named_in_metadata(first) if first is not None else None
        named = [name] if name in kits else []
    if len(named) > 1:
        raise UsageError(f"the submissions belong to {len(named)} assignments "
                         f"({', '.join(named)}): pass {override} to grade one")
    return named[0] if named else default_assignment()
