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
``grader.assignment``) when a kit of that name is installed, else the only installed kit.
Light to import: the command line uses it before loading the rest of the grader.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from grader.assignments import available
from grader.errors import UsageError
from grader.grading.submissions import Submission, nbgrader_assignments

RELEASE_ROOT_VARIABLE = "GRADER_RELEASE_ROOT"
MAX_NOTEBOOK_BYTES = 64 << 20  # grader.grading.notebooks' bound (not imported: nbformat is heavy)


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
        raise UsageError(
            f"{RELEASE_ROOT_VARIABLE}={variable} has no {assignment} folder "
            f"(run `grader release` first, or pass {override})"
        )
    looked = " or ".join(str(candidate) for candidate in candidates)
    hint = f", set {RELEASE_ROOT_VARIABLE}" if kind == "release" else ""
    raise UsageError(
        f"no {kind} folder for {assignment} in {looked} "
        f"(run `grader release` first{hint}, or pass {override})"
    )


def _named_in_metadata(path: Path) -> str | None:
    """``metadata.grader.assignment`` of a notebook file; None when it cannot tell. The
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


def default_assignment(override: str = "--release") -> str:
    """The only installed kit; with several, a usage error: which one cannot be guessed."""
    kits = available()
    if len(kits) == 1:
        return kits[0]
    raise UsageError(
        f"cannot tell which assignment the submissions are ({len(kits)} are "
        f"installed: {', '.join(kits)}; none is named by their nbgrader folder or "
        f"notebook metadata): pass {override}"
    )


def _named(submission: Submission, kits: list[str]) -> str | None:
    """The installed kit one submission names: its nbgrader folder, else its metadata,
    else the folder it sits in (``grader sample`` writes ``DIR/<assignment>/``)."""
    folder = nbgrader_assignments([submission])
    if folder and folder[0] in kits:
        return folder[0]
    name = None if submission.missing else _named_in_metadata(submission.path)
    if name in kits:
        return name
    parent = submission.path.parent.name
    return parent if parent in kits else None


def assignment_groups(
    submissions: Sequence[Submission], override: str = "--release"
) -> dict[str, list[Submission]]:
    """The submissions by the installed assignment each belongs to (see the module), in
    their order; those that name none join the only group. Several groups are several
    grading jobs; a submission that names none among several is a usage error."""
    kits = available()
    names = [_named(submission, kits) for submission in submissions]
    known = sorted({name for name in names if name is not None})
    if not known:
        return {default_assignment(override): list(submissions)} if submissions else {}
    unnamed = [s for s, name in zip(submissions, names) if name is None]
    if len(known) > 1 and unnamed:
        raise UsageError(
            f"the submissions belong to {len(known)} assignments "
            f"({', '.join(known)}) and {len(unnamed)} name none (e.g. "
            f"{unnamed[0].path.name}): pass {override} to grade them against one"
        )
    return {
        name: [s for s, named in zip(submissions, names) if named in (name, None)] for name in known
    }


def assignment_of(submissions: Sequence[Submission], override: str = "--release") -> str:
    """The installed assignment kit the submissions belong to (see the module)."""
    groups = assignment_groups(submissions, override)
    if len(groups) > 1:
        raise UsageError(
            f"the submissions belong to {len(groups)} assignments "
            f"({', '.join(groups)}): pass {override} to grade one"
        )
    return next(iter(groups)) if groups else default_assignment(override)
