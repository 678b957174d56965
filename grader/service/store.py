"""The grading service's record of every check and submission, in one SQLite file.

What a student was told was received must survive the server being killed: ``accept``
commits (WAL journal, ``synchronous=FULL``: the commit is on disk) before it returns,
and anything accepted and never finished is found again by ``unfinished`` to be graded
after a restart. Notebook bytes are stored once per content (sha256), however often the
same file is checked and submitted. One connection serves every thread of the server,
one statement group at a time under a lock: SQLite writes one at a time anyway, and a
grading result is small next to the time it took to grade.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.results import SubmissionResult, submission_from_dict, submission_to_dict
from grader.service.schema import StoreError, migrate, version

__all__ = ["KINDS", "PENDING", "Store", "StoreError", "StoredSubmission", "utc_text"]

KINDS = ("check", "submission")
PENDING = "pending"  # the status of a submission accepted and not yet graded
_COLUMNS = (
    "id, user, assignment, kind, received_at, content_hash, status, score, max_score, "
    "late_days, penalty, counted, grader_version"
)


def utc_text(moment: datetime) -> str:
    """``moment`` as the store writes times: ISO 8601 in UTC, always the same width, so
    that comparing the text compares the times."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a time without a time zone is ambiguous: {moment!r}")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StoredSubmission:
    """One accepted check or submission, as the store holds it."""

    id: int
    user: str
    assignment: str
    kind: str
    received_at: str  # ISO 8601, UTC (see utc_text)
    content_hash: str
    status: str  # PENDING until finished, then the result's status
    score: float | None  # the total after the late penalty; None until finished
    max_score: float | None
    late_days: int
    penalty: float  # 0..1, the fraction of the score taken off
    counted: bool  # False: recorded, but not a grade (e.g. refused as too late)
    grader_version: str
    result: SubmissionResult | None  # as graded, before the penalty; None until finished

    @property
    def late(self) -> bool:
        return self.late_days > 0

    def to_dict(self) -> dict[str, Any]:
        """The API's row of a submission listing."""
        return {
            "id": self.id,
            "user": self.user,
            "assignment": self.assignment,
            "received_at": self.received_at,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "late": self.late,
            "late_days": self.late_days,
            "counted": self.counted,
        }


class Store:
    """A submission database at ``path``, created or opened (and migrated) here.

    Thread-safe. Errors of the database itself (not a database, corrupt, disk full)
    are :class:`StoreError` naming the file; an unknown id is a ``KeyError``.
    """

    def __init__(self, path: Path | str, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            connection = sqlite3.connect(
                str(path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the database ({exc})") from None
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            migrate(connection, path)
        except sqlite3.Error as exc:
            connection.close()
            raise StoreError(f"{path}: not a usable SQLite database ({exc})") from None
        except BaseException:
            connection.close()
            raise
        self._connection: sqlite3.Connection | None = connection

    # -- plumbing -------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None:
                raise StoreError(f"{self.path}: the store is closed")
            try:
                yield self._connection
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from None

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed (durably) when the block ends without error."""
        with self._reading() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:  # a failed COMMIT (disk full) too
                    connection.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._reading() as connection:
            return version(connection)

    # -- writing --------------------------------------------------------------------

    def accept(
        self,
        *,
        user: str,
        assignment: str,
        kind: str,
        data: bytes,
        received_at: datetime,
        late_days: int = 0,
        penalty: float = 0.0,
        counted: bool = True,
    ) -> int:
        """Record a notebook as received, committed before this returns; its id."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if not 0.0 <= penalty <= 1.0:
            raise ValueError(f"penalty must be a fraction between 0 and 1, not {penalty!r}")
        if late_days < 0:
            raise ValueError(f"late_days must not be negative: {late_days!r}")
        stamp = utc_text(received_at)
        digest = hashlib.sha256(data).hexdigest()  # outside the lock: other threads go on
        with self._writing() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)", (digest, bytes(data))
            )
            cursor = connection.execute(
                "INSERT INTO submissions (user, assignment, kind, received_at, content_hash, "
                "late_days, penalty, counted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user, assignment, kind, stamp, digest, int(late_days), penalty, int(counted)),
            )
            sid = cursor.lastrowid
        assert sid is not None
        return sid

    def finish(self, sid: int, result: SubmissionResult, grader_version: str) -> None:
        """Record the result of submission ``sid``: the result as graded, and its total
        after the late penalty as ``score`` (what listings and grades show)."""
        text = json.dumps(submission_to_dict(result))
        with self._writing() as connection:
            row = connection.execute(
                "SELECT penalty FROM submissions WHERE id = ?", (sid,)
            ).fetchone()
            if row is None:
                raise KeyError(sid)
            score = round(result.score * (1.0 - row[0]), 4)
            connection.execute(
                "UPDATE submissions SET status = ?, score = ?, max_score = ?, "
                "grader_version = ?, result = ? WHERE id = ?",
                (result.status, score, result.max_score, grader_version, text, sid),
            )

    def set_roster(self, entries: Iterable[tuple[str, str]]) -> None:
        """Replace the roster: (user, role) pairs, role ``student`` or ``instructor``."""
        rows = [(str(user), str(role)) for user, role in entries]
        with self._writing() as connection:
            connection.execute("DELETE FROM roster")
            connection.executemany("INSERT OR REPLACE INTO roster (user, role) VALUES (?, ?)", rows)

    # -- reading --------------------------------------------------------------------

    def _select(
        self, where: str, parameters: tuple[Any, ...], order: str, with_results: bool = True
    ) -> list[StoredSubmission]:
        result = ", result" if with_results else ", NULL"
        sql = f"SELECT {_COLUMNS}{result} FROM submissions WHERE {where} ORDER BY {order}"
        with self._reading() as connection:
            rows = connection.execute(sql, parameters).fetchall()
        return [_stored(row) for row in rows]

    def get(self, sid: int) -> StoredSubmission:
        found = self._select("id = ?", (sid,), "id")
        if not found:
            raise KeyError(sid)
        return found[0]

    def unfinished(self) -> list[StoredSubmission]:
        """Everything accepted and never finished, oldest first: to grade after a restart."""
        return self._select("status = ?", (PENDING,), "id")

    def notebook(self, content_hash: str) -> bytes:
        with self._reading() as connection:
            row = connection.execute(
                "SELECT data FROM blobs WHERE hash = ?", (content_hash,)
            ).fetchone()
        if row is None:
            raise KeyError(content_hash)
        return bytes(row[0])

    def submissions(
        self,
        assignment: str,
        *,
        user: str | None = None,
        latest: bool = False,
        kind: str | None = "submission",
        with_results: bool = True,
    ) -> list[StoredSubmission]:
        """An assignment's submissions (``kind=None``: checks too), newest first.

        ``latest``: only the newest *counted* one of each user. ``with_results=False``
        leaves ``result`` None, for listings that show only :meth:`StoredSubmission.to_dict`.
        """
        where, parameters = "assignment = ?", [assignment]
        if user is not None:
            where += " AND user = ?"
            parameters.append(user)
        if kind is not None:
            where += " AND kind = ?"
            parameters.append(kind)
        newest = "received_at DESC, id DESC"
        if not latest:
            return self._select(where, tuple(parameters), newest, with_results)
        newest_each = (
            "id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER ("
            f"PARTITION BY user ORDER BY {newest}) AS rank FROM submissions "
            f"WHERE {where} AND counted = 1) WHERE rank = 1)"
        )
        return self._select(newest_each, tuple(parameters), newest, with_results)

    def count_since(
        self, user: str, assignment: str, since: datetime, kind: str = "submission"
    ) -> int:
        """How many of ``user``'s ``kind`` on ``assignment`` were received at or after
        ``since`` (the per-hour limit's count)."""
        with self._reading() as connection:
            row = connection.execute(
                "SELECT COUNT(*) FROM submissions WHERE assignment = ? AND user = ? "
                "AND kind = ? AND received_at >= ?",
                (assignment, user, kind, utc_text(since)),
            ).fetchone()
        return int(row[0])

    def roster(self) -> list[tuple[str, str]]:
        with self._reading() as connection:
            rows = connection.execute("SELECT user, role FROM roster ORDER BY user").fetchall()
        return [(user, role) for user, role in rows]

    def assignments(self) -> list[str]:
        """The assignments that have anything recorded, by name."""
        with self._reading() as connection:
            rows = connection.execute(
                "SELECT DISTINCT assignment FROM submissions ORDER BY assignment"
            ).fetchall()
        return [name for (name,) in rows]


def _stored(row: tuple[Any, ...]) -> StoredSubmission:
    (sid, user, assignment, kind, received_at, content_hash, status, score, max_score) = row[:9]
    late_days, penalty, counted, grader_version, result = row[9:]
    return StoredSubmission(
        id=sid,
        user=user,
        assignment=assignment,
        kind=kind,
        received_at=received_at,
        content_hash=content_hash,
        status=status,
        score=score,
        max_score=max_score,
        late_days=late_days,
        penalty=penalty,
        counted=bool(counted),
        grader_version=grader_version,
        result=None if result is None else submission_from_dict(json.loads(result)),
    )
