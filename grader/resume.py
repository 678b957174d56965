"""Resuming a batch: a journal of finished results in the output folder.

Each result is appended to ``DIR/.grader-journal.jsonl`` as one JSON line,
``{"fingerprint": ..., "result": submission_to_dict(...)}``, in one ``write`` the
moment it exists. A rerun takes a result from the journal when the student, the
file, its content hash and the fingerprint all match, and grades only the rest,
so an interrupted batch of 100 000 continues where it stopped. The fingerprint
covers everything else a grade depends on: the grader's version and code, the
Python and numpy versions, the limits and scoring options, and the release's
files. A line cut short by a crash is dropped, never fatal. Submissions the grader
itself failed on (status ``not_graded``) are not recorded, so a rerun retries them.

The journal holds only byte offsets in memory; results are read back when used.
It is compacted (rewritten atomically) when most of its lines are outdated.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grader.errors import UsageError
from grader.grading.submissions import Submission, content_hash
from grader.results import NOT_GRADED, SubmissionResult, submission_from_dict, submission_to_dict
from grader.version import __version__

if TYPE_CHECKING:
    from grader.authoring.assignment import Assignment
    from grader.grading.pipeline import Context

JOURNAL_NAME = ".grader-journal.jsonl"
FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """The grader's own source: an editable install changes without a new version."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def release_digest(assignment: Assignment) -> str:
    """The released notebook and every helper file, by name and content."""
    digest = hashlib.sha256()
    for name in sorted((assignment.notebook_name, *assignment.helper_files)):
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256((assignment.source_dir / name).read_bytes()).digest())
    return digest.hexdigest()


def fingerprint(context: Context) -> str:
    """What, besides the notebook itself, decides its grade (``--jobs`` does not)."""
    options = context.options
    data = {
        "format": FORMAT,
        "grader": __version__,
        "code": code_digest(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "assignment": context.assignment.name,
        "limits": asdict(options.limits),
        "isolation": options.isolation,
        "all_or_nothing": options.all_or_nothing,
        "release": release_digest(context.assignment),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def journal_path(out_dir: Path) -> Path:
    return Path(out_dir) / JOURNAL_NAME


class Journal:
    """One run's view of a journal file: what it may reuse, and where new results go.

    A context manager; while open it holds an exclusive lock, so two graders never
    write into the same output folder. ``fresh`` starts the journal over.
    """

    def __init__(self, path: Path, fingerprint: str, *, fresh: bool = False):
        self.path, self.fingerprint = Path(path), fingerprint
        self.reused = 0  # how many results the last reusable() call found
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            _lock(self._fd, self.path)
            if fresh:
                os.ftruncate(self._fd, 0)
            # (student, file) -> (content hash, offset, length) of its latest matching line
            self._index: dict[tuple[str, str], tuple[str, int, int]] = {}
            self._lines = 0
            self._load()
        except BaseException:
            os.close(self._fd)
            raise

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._fd < 0:
            return
        try:
            os.fsync(self._fd)
        except OSError:
            pass
        os.close(self._fd)  # releases the lock
        self._fd = -1

    def _load(self) -> None:
        for offset, line in _lines(self._fd):
            if not line.endswith(b"\n"):  # cut short by a crash: drop it, append after it
                os.ftruncate(self._fd, offset)
                break
            self._lines += 1
            try:
                entry = json.loads(line)
                result = entry["result"]
                fields = (result["student"], result["submission"], result["content_hash"])
                current = entry["fingerprint"] == self.fingerprint
            except (ValueError, KeyError, TypeError, IndexError):
                continue  # damaged: whatever it held is graded again
            if current and all(isinstance(field, str) for field in fields):
                self._index[fields[:2]] = (fields[2], offset, len(line))

    def reusable(self, submissions: Sequence[Submission]) -> dict[int, SubmissionResult]:
        """Position -> result, for each submission graded before exactly as it is now."""
        found: dict[int, SubmissionResult] = {}
        for position, submission in enumerate(submissions):
            entry = self._index.get((submission.student, str(submission.path)))
            if entry is None or not entry[0]:
                continue
            digest, offset, length = entry
            try:
                if content_hash(submission.path.read_bytes()) != digest:
                    continue
                found[position] = submission_from_dict(
                    json.loads(os.pread(self._fd, length, offset))["result"]
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue  # unreadable now, or a damaged line: grade it again
        self.reused = len(found)
        return found

    def record(self, result: SubmissionResult) -> None:
        """Append one result; it is in the file (the OS's buffers) when this returns.

        A submission the grader failed on (``not_graded``) is not kept: the next run
        grades it again instead of repeating the fault's result."""
        if result.status == NOT_GRADED:
            return
        line = (
            json.dumps(
                {"fingerprint": self.fingerprint, "result": submission_to_dict(result)},
                ensure_ascii=True,
                separators=(",", ":"),
            )
            + "\n"
        ).encode("ascii")
        offset = os.lseek(self._fd, 0, os.SEEK_END)
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]
        self._lines += 1
        self._index[(result.student, result.submission)] = (result.content_hash, offset, len(line))

    def completed(self, results: Sequence[SubmissionResult]) -> None:
        """The run is complete: make it durable, and compact when mostly outdated.

        Compaction keeps the latest result of every (student, file) under the
        current fingerprint, including files that are not in this run.
        """
        kept = len(self._index)
        if self._lines - kept <= max(kept, 64):
            os.fsync(self._fd)
            return
        # stream the kept lines into a sibling file, then rename it over the journal
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        index: dict[tuple[str, str], tuple[str, int, int]] = {}
        try:
            with os.fdopen(fd, "wb") as handle:
                for key, (digest, offset, length) in sorted(
                    self._index.items(), key=lambda item: item[1][1]
                ):
                    index[key] = (digest, handle.tell(), length)
                    handle.write(os.pread(self._fd, length, offset))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        old, self._fd = self._fd, os.open(self.path, os.O_RDWR | os.O_APPEND)
        os.close(old)
        _lock(self._fd, self.path)
        self._index, self._lines = index, len(index)


def _lines(fd: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every line, the last one possibly without its newline."""
    offset = 0
    with os.fdopen(os.dup(fd), "rb") as handle:
        handle.seek(0)
        for line in handle:
            yield offset, line
            offset += len(line)


def _lock(fd: int, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise UsageError(
            f"another grader is writing {path.parent} (its journal {path.name} is locked)"
        ) from None
