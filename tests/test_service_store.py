"""The grading service's submission store: what it keeps, how it lists it, and that an
acknowledged submission survives anything short of losing the disk."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.errors import GraderError
from grader.results import GRADED, CheckResult, ExerciseResult, SubmissionResult
from grader.service import schema
from grader.service.store import PENDING, Store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def result(student: str, score: float, max_score: float = 10.0) -> SubmissionResult:
    exercise = ExerciseResult(
        "f",
        score,
        max_score,
        "passed" if score == max_score else "failed",
        checks=(CheckResult("case 1", score == max_score, "got 1, expected 2", "wrong value"),),
    )
    return SubmissionResult(student, "upload", score, max_score, GRADED, exercises=(exercise,))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "grader.sqlite") as opened:
        yield opened


def accept(store: Store, user: str, minutes: int = 0, data: bytes = b"{}", **extra) -> int:
    extra.setdefault("kind", "submission")
    return store.accept(
        user=user,
        assignment=extra.pop("assignment", "hw1"),
        data=data,
        received_at=T0 + timedelta(minutes=minutes),
        **extra,
    )


def test_accept_then_finish_keeps_the_result_and_the_penalized_total(store):
    sid = accept(store, "alice", data=b"notebook", late_days=2, penalty=0.2)
    pending = store.get(sid)
    assert (pending.status, pending.score, pending.result) == (PENDING, None, None)
    assert pending.received_at == "2025-03-01T12:00:00.000000+00:00"
    assert store.notebook(pending.content_hash) == b"notebook"
    graded = result("alice", 7.5)
    store.finish(sid, graded, "9.9")
    done = store.get(sid)
    assert done.status == GRADED and done.grader_version == "9.9"
    assert done.score == 6.0 and done.max_score == 10.0  # round(7.5 * 0.8, 4)
    assert done.result == graded  # the unpenalized result, through the one serialization
    assert done.to_dict() == {
        "id": sid,
        "user": "alice",
        "assignment": "hw1",
        "received_at": "2025-03-01T12:00:00.000000+00:00",
        "status": GRADED,
        "score": 6.0,
        "max_score": 10.0,
        "late": True,
        "late_days": 2,
        "counted": True,
    }
    assert store.unfinished() == []


def test_unknown_ids_and_bad_arguments(store):
    with pytest.raises(KeyError):
        store.get(99)
    with pytest.raises(KeyError):
        store.finish(99, result("x", 1), "1")
    with pytest.raises(KeyError):
        store.notebook("0" * 64)
    with pytest.raises(ValueError, match="kind"):
        accept(store, "alice", kind="grade")
    with pytest.raises(ValueError, match="time zone"):
        store.accept(
            user="a", assignment="hw1", kind="check", data=b"", received_at=datetime(2025, 1, 1)
        )
    with pytest.raises(ValueError, match="penalty"):
        accept(store, "alice", penalty=1.5)


def test_listings_are_newest_first_and_latest_is_the_newest_counted(store):
    first = accept(store, "alice", 0)
    second = accept(store, "alice", 10)
    late = accept(store, "alice", 20, counted=False, late_days=1)
    bob = accept(store, "bob", 5)
    check = accept(store, "bob", 30, kind="check")
    other = accept(store, "bob", 40, assignment="hw2")
    ids = lambda rows: [row.id for row in rows]  # noqa: E731
    assert ids(store.submissions("hw1")) == [late, second, bob, first]
    assert ids(store.submissions("hw1", user="alice")) == [late, second, first]
    assert ids(store.submissions("hw1", latest=True)) == [second, bob]
    assert ids(store.submissions("hw1", kind="check")) == [check]
    assert ids(store.submissions("hw1", kind=None, user="bob")) == [check, bob]
    assert ids(store.submissions("hw2", latest=True)) == [other]
    assert store.submissions("hw3") == []
    assert store.assignments() == ["hw1", "hw2"]
    # unfinished: oldest first, checks included (all of them need an answer)
    assert ids(store.unfinished()) == [first, second, late, bob, check, other]
    store.finish(first, result("alice", 1), "1")
    assert first not in ids(store.unfinished())
    light = store.submissions("hw1", user="alice", with_results=False)
    assert [row.result for row in light] == [None, None, None]
    assert light[-1].score == 1.0


def test_count_since_counts_one_users_kind_from_a_time_on(store):
    for minutes in (0, 30, 50, 70):
        accept(store, "alice", minutes)
    accept(store, "alice", 55, kind="check")
    accept(store, "bob", 55)
    since = T0 + timedelta(minutes=30)
    assert store.count_since("alice", "hw1", since) == 3  # 30 (inclusive), 50, 70
    assert store.count_since("alice", "hw1", since, kind="check") == 1
    assert store.count_since("alice", "hw2", since) == 0
    # any time zone: the same instant
    plus_two = timezone(timedelta(hours=2))
    assert store.count_since("alice", "hw1", since.astimezone(plus_two)) == 3


def test_roster_is_replaced_whole(store):
    store.set_roster([("carol", "student"), ("alice", "student"), ("prof", "instructor")])
    assert store.roster() == [("alice", "student"), ("carol", "student"), ("prof", "instructor")]
    store.set_roster([("dave", "student")])
    assert store.roster() == [("dave", "student")]


def test_the_same_bytes_are_stored_once(store, tmp_path):
    one = accept(store, "alice", data=b"same notebook")
    two = accept(store, "bob", data=b"same notebook", kind="check")
    three = accept(store, "bob", data=b"another notebook")
    hashes = {store.get(sid).content_hash for sid in (one, two)}
    assert len(hashes) == 1 and store.get(three).content_hash not in hashes
    with sqlite3.connect(tmp_path / "grader.sqlite") as raw:
        assert raw.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 2


def test_wal_journal_and_latest_schema(store, tmp_path):
    assert store.schema_version == schema.LATEST
    raw = sqlite3.connect(tmp_path / "grader.sqlite")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST
    finally:
        raw.close()


def test_a_version_1_database_is_migrated_keeping_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(raw, path, upto=1) == 1
    raw.execute("INSERT INTO blobs VALUES ('h', x'00')")
    raw.execute(
        "INSERT INTO submissions (user, assignment, kind, received_at, content_hash) "
        "VALUES ('alice', 'hw1', 'submission', '2025-01-01T00:00:00.000000+00:00', 'h')"
    )
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'submissions_%'"
    assert raw.execute(indexes).fetchall() == []
    raw.close()
    with Store(path) as store:
        assert store.schema_version == schema.LATEST > 1
        assert [row.user for row in store.unfinished()] == ["alice"]
        assert store.notebook("h") == b"\x00"
    raw = sqlite3.connect(path)
    try:
        names = {name for (name,) in raw.execute(indexes)}
    finally:
        raw.close()
    assert "submissions_by_user" in names


def test_a_database_from_a_newer_grader_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    with Store(path):
        pass
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(GraderError) as caught:
        Store(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "newer" in message


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b""])
def test_a_file_that_is_not_a_database_is_one_line_naming_it(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content or b"SQLite format 3\x00" + b"\xff" * 200)  # a torn header
    with pytest.raises(GraderError) as caught:
        Store(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message


def test_a_folder_as_database_is_one_line_naming_it(tmp_path):
    with pytest.raises(GraderError, match="cannot open") as caught:
        Store(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_closed_store_says_so(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.close()
    store.close()  # twice is fine
    with pytest.raises(GraderError, match="closed"):
        store.roster()


ACCEPT_AND_WAIT = """
import sys, time
from datetime import datetime, timezone
from grader.service.store import Store
store = Store(sys.argv[1])
sid = store.accept(user="alice", assignment="hw1", kind="submission",
                   data=b"the acknowledged notebook", received_at=datetime.now(timezone.utc))
print(sid, flush=True)
time.sleep(60)
"""


def test_an_accepted_submission_survives_sigkill(tmp_path):
    path = tmp_path / "grader.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", ACCEPT_AND_WAIT, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        sid = int(process.stdout.readline())
        os.kill(process.pid, signal.SIGKILL)  # no close, no checkpoint, no atexit
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert Path(f"{path}-wal").exists()  # the row is in the WAL, not yet checkpointed
    with Store(path) as store:
        row = store.get(sid)
        assert (row.user, row.status) == ("alice", PENDING)
        assert store.notebook(row.content_hash) == b"the acknowledged notebook"
        assert [r.id for r in store.unfinished()] == [sid]


def test_threads_accepting_and_finishing_at_once_lose_nothing(store):
    threads, per_thread = 8, 25
    ids: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                data = f"{n}-{i % 5}".encode()  # some bytes shared within a thread
                sid = accept(store, f"user{n}", i, data=data)
                store.finish(sid, result(f"user{n}", float(i % 11)), "1")
                store.count_since(f"user{n}", "hw1", T0)
                ids.append(sid)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert len(set(ids)) == threads * per_thread
    rows = store.submissions("hw1")
    assert len(rows) == threads * per_thread and store.unfinished() == []
    assert {row.user for row in store.submissions("hw1", latest=True)} == {
        f"user{n}" for n in range(threads)
    }
    assert all(row.result is not None and row.score == row.result.score for row in rows)
