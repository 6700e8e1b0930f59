"""The page cache: its bounds, and how each database tells a worker that something changed."""

import sqlite3
import time

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text

from referral_hub.caching import UNSHOWN_TABLES, PageCache, PostgreSQLChanges, SQLiteChanges, changes_for
from referral_hub.extensions import db
from tests.conftest import ON_POSTGRESQL

NOT_NOTIFYING = {"alembic_version", *UNSHOWN_TABLES}


class Counter:
    """A change source whose version the test moves by hand."""

    def __init__(self):
        self.value = 0

    def version(self):
        return self.value

    def close(self):
        pass


def test_a_page_is_served_until_the_database_version_moves():
    changes = Counter()
    cache = PageCache(changes, entries=10, seconds=60)
    version = cache.version()
    cache.put(("board",), version, b"<p>board</p>", "text/html")
    assert cache.get(("board",), cache.version()).body == b"<p>board</p>"
    changes.value += 1
    assert cache.get(("board",), cache.version()) is None


def test_a_commit_in_this_process_moves_the_version_before_any_notification():
    cache = PageCache(Counter(), entries=10, seconds=60)
    before = cache.version()
    cache.note_commit()
    assert cache.version() != before


def test_a_page_rendered_while_the_database_changed_is_not_kept():
    changes = Counter()
    cache = PageCache(changes, entries=10, seconds=60)
    read_before_rendering = cache.version()
    changes.value += 1
    cache.version()  # another request saw the change meanwhile
    cache.put(("board",), read_before_rendering, b"old", "text/html")
    assert cache.get(("board",), read_before_rendering) is None


def test_a_source_that_lost_track_never_brings_back_an_old_version():
    changes = Counter()
    cache = PageCache(changes, entries=10, seconds=60)
    before = cache.version()
    cache.put(("board",), before, b"x", "text/html")
    changes.value = None
    assert cache.version() is None
    changes.value = 0  # a reconnected source may count from where it once was
    after = cache.version()
    assert after != before and cache.get(("board",), after) is None
    cache.put(("board",), before, b"rendered before the loss", "text/html")
    assert cache.get(("board",), cache.version()) is None


def test_a_request_that_finds_the_source_busy_renders_without_emptying_the_cache():
    cache = PageCache(Counter(), entries=10, seconds=60)
    version = cache.version()
    cache.put(("board",), version, b"x", "text/html")
    with cache._reading:  # another thread is reading the change source
        assert cache.version() is None
    assert cache.get(("board",), cache.version()).body == b"x"


def test_pages_expire_after_their_seconds(monkeypatch):
    cache = PageCache(Counter(), entries=10, seconds=30)
    clock = [1000.0]
    monkeypatch.setattr("referral_hub.caching.time.monotonic", lambda: clock[0])
    cache.put(("board",), cache.version(), b"x", "text/html")
    clock[0] += 29
    assert cache.get(("board",), cache.version()) is not None
    clock[0] += 2
    assert cache.get(("board",), cache.version()) is None


def test_the_least_recently_used_page_goes_first():
    cache = PageCache(Counter(), entries=2, seconds=60)
    version = cache.version()
    for name in ("a", "b"):
        cache.put((name,), version, name.encode(), "text/html")
    cache.get(("a",), version)
    cache.put(("c",), version, b"c", "text/html")
    assert [cache.get((n,), version) is not None for n in ("a", "b", "c")] == [True, False, True]


def test_sqlite_changes_move_with_each_commit_of_any_other_connection(tmp_path):
    path = tmp_path / "changes.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE t (x INTEGER)")
    changes = SQLiteChanges(str(path))
    first = changes.version()
    assert changes.version() == first
    writer.execute("INSERT INTO t VALUES (1)")
    second = changes.version()
    assert second != first
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (2)")
    assert changes.version() == second, "an uncommitted change is not a change yet"
    writer.execute("COMMIT")
    assert changes.version() != second
    changes.close()
    writer.close()


def test_an_unreadable_sqlite_counter_means_no_version(tmp_path):
    changes = SQLiteChanges(str(tmp_path / "no such folder" / "db.sqlite3"))
    assert changes.version() is None


def test_an_in_memory_database_cannot_report_changes():
    assert changes_for(create_engine("sqlite://")) is None


def _next_version(changes: PostgreSQLChanges, after, timeout: float = 5.0):
    """The first version read that differs from `after` (notifications arrive asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = changes.version()
        if version != after:
            return version
        time.sleep(0.01)
    pytest.fail(f"the version stayed {after} for {timeout} s")


def _commit(*statements: str) -> None:
    """Commit one transaction on a connection of its own, outside the test's rolled-back one."""
    with db.engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
        connection.commit()


postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="change notifications are PostgreSQL's")


@pytest.fixture
def listening(app):
    with app.app_context():
        changes = PostgreSQLChanges(db.engine)
        yield changes
        changes.close()


@postgresql_only
def test_every_table_a_page_shows_notifies_its_changes(app):
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            notifying = set(
                connection.scalars(
                    text(
                        "SELECT event_object_table FROM information_schema.triggers "
                        "WHERE trigger_name = 'notify_change'"
                    )
                )
            )
    assert notifying == tables - NOT_NOTIFYING


@postgresql_only
def test_postgresql_changes_arrive_once_per_committed_transaction(app, listening):
    first = listening.version()
    assert first is not None
    with app.app_context():
        # A statement-level trigger fires even when no row matches: no test data is touched.
        _commit("UPDATE outbox_messages SET id = id WHERE false")
        _commit("UPDATE needs SET id = id WHERE false", "UPDATE members SET id = id WHERE false")
    second = _next_version(listening, first)
    time.sleep(0.1)
    assert listening.version() == second == first + 1, "one notification: the outbox change sends none"


@postgresql_only
def test_a_lost_listening_connection_means_no_version_then_listening_again(app, listening):
    first = listening.version()
    with psycopg.connect(listening._connection.info.dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (listening._connection.info.backend_pid,))
    assert _next_version(listening, first) is None
    listening_again = listening.version()
    assert listening_again is not None
    with app.app_context():
        _commit("UPDATE needs SET id = id WHERE false")
    assert _next_version(listening, listening_again) is not None, "the new connection hears changes"
