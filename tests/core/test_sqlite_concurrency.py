"""SpatiaLite with readers and writers at once (issue 12, finding 12): on a real database file,
with the connection settings of ``gridmap.settings`` (WAL, busy timeout, BEGIN IMMEDIATE).

Before: a long read (``/grids/`` loading) held SQLite's shared lock, so another user's write waited
out the busy timeout and answered "database is locked"; two transactions that read and then write
failed at once when both reached their write. Each connection here is its own, in its own thread,
as gunicorn's threads and workers have them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SpatiaLite only")
WRITERS = 6


@pytest.fixture
def open_db(tmp_path: Path, django_db_blocker) -> Iterator[Callable[[], object]]:
    """A function opening a new connection to a fresh database file, configured as the service's."""
    opened, numbers = [], itertools.count()
    settings_dict = {**connections["default"].settings_dict, "NAME": str(tmp_path / "gridmap.sqlite3")}
    unblocked = django_db_blocker.unblock()
    unblocked.__enter__()

    def open_() -> object:
        wrapper = type(connections["default"])(dict(settings_dict), alias=f"concurrency-{next(numbers)}")
        wrapper.ensure_connection()
        wrapper.inc_thread_sharing()  # closed by the main thread at the end
        connections[wrapper.alias] = wrapper  # this thread's handler: for atomic(using=...)
        opened.append(wrapper)
        return wrapper

    first = open_()
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        cursor.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
        cursor.execute("CREATE TABLE log (v TEXT NOT NULL)")
        cursor.executemany("INSERT INTO log (v) VALUES (%s)", [(f"seed {i}",) for i in range(100)])
    yield open_
    for wrapper in opened:
        wrapper.close()
    unblocked.__exit__(None, None, None)


def run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def test_the_connection_is_spatialite_in_wal_mode_with_a_busy_timeout(open_db):
    db = open_db()
    with db.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0].lower() == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
        cursor.execute("SELECT AsText(GeomFromText('POINT(120.87 31.62)', 4326))")  # the extension
        assert cursor.fetchone()[0] == "POINT(120.87 31.62)"
    assert db.transaction_mode == "IMMEDIATE"
    db.prepare_database()  # SpatiaLite's metadata set-up runs on a WAL database
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM spatial_ref_sys WHERE srid = 4326")
        assert cursor.fetchone()[0] == 1


def test_writers_succeed_while_a_long_read_is_open(open_db):
    reader = open_db()

    def write() -> None:
        db = open_db()  # each writer its own connection, opened in its own thread
        with transaction.atomic(using=db.alias), db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM log")  # read, then write: as 立案 does
            cursor.execute("INSERT INTO log (v) VALUES (%s)", [f"by {db.alias}"])
        with db.cursor() as cursor:  # and a write in autocommit, as a login's last_login
            cursor.execute("UPDATE counter SET n = n + 1 WHERE id = 1")

    # The slow page: a statement that has read its first row and is not finished holds its read.
    raw = reader.connection.cursor()
    raw.execute("SELECT v FROM log ORDER BY rowid")
    assert raw.fetchone() == ("seed 0",)
    try:
        errors = run_threads([write] * WRITERS)
        assert [str(e) for e in errors] == []
        assert len(raw.fetchall()) == 99  # the read goes on, on its own snapshot
    finally:
        raw.close()
    with reader.cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        assert cursor.fetchone()[0] == WRITERS
        cursor.execute("SELECT count(*) FROM log")
        assert cursor.fetchone()[0] == 100 + WRITERS


def test_two_read_then_write_transactions_both_commit(open_db):
    """A reads then writes; B begins while A is open, reads, then writes. With DEFERRED
    transactions B's write fails at once ("database is locked": its read cannot become a write);
    with IMMEDIATE, B's BEGIN waits for A's commit, then B reads A's write and commits."""
    a_wrote, b_begins = threading.Event(), threading.Event()
    b_read = threading.Event()
    seen: dict[str, int] = {}

    def bump(db, name: str) -> None:
        with db.cursor() as cursor:
            cursor.execute("SELECT n FROM counter WHERE id = 1")
            seen[name] = cursor.fetchone()[0]
            if name == "b":
                b_read.set()
            cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [seen[name] + 1])

    def first() -> None:
        a = open_db()
        with transaction.atomic(using=a.alias):
            bump(a, "a")
            a_wrote.set()
            assert b_begins.wait(timeout=30)
            b_read.wait(timeout=2)  # B has read (DEFERRED), or is waiting at its BEGIN (IMMEDIATE)

    def second() -> None:
        b = open_db()
        assert a_wrote.wait(timeout=30)
        b_begins.set()
        with transaction.atomic(using=b.alias):
            bump(b, "b")

    errors = run_threads([first, second])
    assert [str(e) for e in errors] == []
    with open_db().cursor() as cursor:
        cursor.execute("SELECT n FROM counter WHERE id = 1")
        assert cursor.fetchone()[0] == 2 and seen == {"a": 0, "b": 1}  # no lost update
