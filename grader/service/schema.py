"""The submission store's SQLite schema, in one place, as versioned migrations.

A database records the version it is at in ``PRAGMA user_version``; opening it applies
the migrations it lacks, in order, each in the same transaction as the version it
brings, so a crash midway leaves the database at the version before. Released
migrations are never edited: a change of schema is a new entry at the end of
:data:`MIGRATIONS`. A database written by a newer grader (a version above the last one
here) is refused, not guessed at.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from grader.errors import GraderError


class StoreError(GraderError):
    """The submission database cannot be used: not a database, corrupt, too new."""


# (version, statements): version 1 is the first release of the store
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE blobs (
                hash TEXT PRIMARY KEY,   -- sha256 of data, hex
                data BLOB NOT NULL
            )""",
            """CREATE TABLE submissions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user TEXT NOT NULL,
                assignment TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('check', 'submission')),
                received_at TEXT NOT NULL,      -- ISO 8601, UTC, fixed width
                content_hash TEXT NOT NULL REFERENCES blobs (hash),
                status TEXT NOT NULL DEFAULT 'pending',
                score REAL,                     -- the total after the late penalty
                max_score REAL,
                late_days INTEGER NOT NULL DEFAULT 0,
                penalty REAL NOT NULL DEFAULT 0,
                counted INTEGER NOT NULL DEFAULT 1,
                grader_version TEXT NOT NULL DEFAULT '',
                result TEXT                     -- grader.results.submission_to_dict, JSON
            )""",
            """CREATE TABLE roster (
                user TEXT PRIMARY KEY,
                role TEXT NOT NULL
            )""",
        ),
    ),
    (
        2,
        (
            # a student's own listing, the latest per student, the rate limit's count
            """CREATE INDEX submissions_by_user
                ON submissions (assignment, user, kind, id)""",
            """CREATE INDEX submissions_by_time
                ON submissions (assignment, kind, received_at)""",
            # regrading after a restart looks up what was never finished
            """CREATE INDEX submissions_pending
                ON submissions (id) WHERE status = 'pending'""",
        ),
    ),
)
LATEST = MIGRATIONS[-1][0]


def version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: sqlite3.Connection, path: Path | str, upto: int = LATEST) -> int:
    """Bring the database to version ``upto`` (default: the latest); its version after.

    ``connection`` must be in autocommit mode (``isolation_level=None``): each migration
    runs in its own ``BEGIN IMMEDIATE`` transaction, so that two processes opening the
    same new database do not both apply it. ``path`` only names the file in errors.
    """
    current = version(connection)
    if current > LATEST:
        raise StoreError(
            f"{path}: the database is at schema version {current}, newer than this "
            f"grader knows ({LATEST}); use the grader that wrote it, or a newer one"
        )
    for number, statements in MIGRATIONS:
        if number > upto:
            break
        connection.execute("BEGIN IMMEDIATE")
        try:
            if version(connection) >= number:  # another process got there first
                connection.execute("ROLLBACK")
                continue
            for statement in statements:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {int(number)}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return version(connection)
