"""Rendered pages kept in each worker until the database changes: the fast path of the busiest pages."""

import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps

import psycopg
from flask import Flask, Response, current_app, g, has_app_context, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db
from .mail.models import OutboxMessage

log = logging.getLogger("referral_hub.caching")

# The channel the migrations' triggers notify on every committed change to a table a page shows.
CHANGES_CHANNEL = "referral_hub_changes"  # as in migrations/versions/c3a1f0d2b9e4
RECONNECT_SECONDS = 1.0
LISTENER_OPTIONS = {
    "autocommit": True,
    "connect_timeout": 2,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
# Tables no page shows: their changes keep the cached pages (the migration gives them no trigger).
UNSHOWN_TABLES = frozenset({OutboxMessage.__tablename__})


class ChangeSource:
    """Where a database reports committed changes: `version()` is a number that moves with each
    one, or None when the source cannot tell. Its connection is its own, opened on first use."""

    def __init__(self):
        self._connection = None

    def version(self) -> int | None:
        raise NotImplementedError

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class SQLiteChanges(ChangeSource):
    """The database file's change counter (`PRAGMA data_version`), read on a connection of its own.

    The counter moves when any other connection, in this process or another, commits a write;
    this connection never writes, so every such commit anywhere moves it. A read takes a few
    microseconds. An error reading it means no version (None): pages render afresh.
    """

    def __init__(self, path: str):
        super().__init__()
        self._path = path

    def version(self) -> int | None:
        try:
            if self._connection is None:
                # Opened on the first request, after gunicorn has forked the worker.
                self._connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            return self._connection.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error as error:
            log.warning("cannot read the database's change counter (%s); pages render afresh", error)
            self.close()
            return None


class PostgreSQLChanges(ChangeSource):
    """A count of the change notifications this worker received, read without a round trip.

    The connection LISTENs on `CHANGES_CHANNEL`; PostgreSQL delivers a notification when the
    transaction that changed a table commits. Each read takes what has arrived from the socket
    without waiting. While the connection is down the version is unknown (None): pages render
    afresh. TCP keepalives find a connection that died silently (a dropped network path) within
    about a minute; until then `PAGE_CACHE_SECONDS` bounds what goes unheard.
    """

    def __init__(self, engine: Engine):
        super().__init__()
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._received = 0
        self._retry_at = 0.0

    def version(self) -> int | None:
        if self._connection is None and not self._listen():
            return None
        pgconn = self._connection.pgconn
        try:
            pgconn.consume_input()
        except psycopg.OperationalError as error:
            log.warning("change notifications lost (%s); pages render afresh until reconnected", error)
            self.close()
            return None
        while pgconn.notifies() is not None:
            self._received += 1
        return self._received

    def _listen(self) -> bool:
        now = time.monotonic()
        if now < self._retry_at:
            return False
        args, kwargs = self._connect_args
        try:
            connection = psycopg.connect(*args, **{**kwargs, **LISTENER_OPTIONS})
            connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        except psycopg.Error as error:
            log.warning("cannot listen for changes (%s); pages render afresh", error)
            self._retry_at = now + RECONNECT_SECONDS
            return False
        self._connection = connection
        return True


@dataclass(frozen=True)
class CachedPage:
    version: tuple
    expires_at: float
    body: bytes
    mimetype: str


class PageCache:
    """The last rendering of each (URL, session) pair, valid while the database version stands.

    The version is what the change source reports, this process's own commits of shown tables
    (heard at once, before their notification), and how often the source lost track: a source
    that comes back may start counting again from where it once was. Pages are bounded by
    `entries` (least recently used first out) and by `seconds`, a limit on how long a page can
    stand if a change goes unheard (a change source that failed silently).
    """

    def __init__(self, changes: ChangeSource, *, entries: int, seconds: float):
        self._changes = changes
        self._entries = entries
        self._seconds = seconds
        self._pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._version: tuple | None = None
        self._commits = 0
        self._lost = 0
        # The development server serves requests in threads. One reads the change source at a time
        # (a request that finds it busy, or connecting, renders afresh rather than wait).
        self._lock = threading.Lock()
        self._reading = threading.Lock()

    def close(self) -> None:
        """Let go of the change source's connection (an app that stops serving, as in tests)."""
        with self._reading, self._lock:
            self._changes.close()
            self._pages.clear()

    def note_commit(self) -> None:
        """This process committed a change: its own next request must not wait for the notification."""
        with self._lock:
            self._commits += 1

    def version(self) -> tuple | None:
        if not self._reading.acquire(blocking=False):
            return None
        try:
            changes = self._changes.version()
        finally:
            self._reading.release()
        with self._lock:
            if changes is None:
                self._lost += 1
                version = None
            else:
                version = (changes, self._commits, self._lost)
            if version != self._version:
                self._pages.clear()
                self._version = version
            return version

    def get(self, key: tuple, version: tuple) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None or page.version != version or page.expires_at < time.monotonic():
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, version: tuple, body: bytes, mimetype: str) -> None:
        with self._lock:
            if version != self._version:
                return  # a request has seen a newer version meanwhile: this page could never be served
            self._pages[key] = CachedPage(version, time.monotonic() + self._seconds, body, mimetype)
            self._pages.move_to_end(key)
            while len(self._pages) > self._entries:
                self._pages.popitem(last=False)


def _session_key() -> tuple | None:
    """Who the page is for: the signed-in member's session identity and its CSRF secret (the
    page's forms carry a token made from it). None when the page must render: nobody is signed in
    in the session (a remember-me cookie is checked by rendering), or a flash message waits."""
    identity = session.get("_user_id")
    if not identity or "_flashes" in session:
        return None
    return (request.host, request.full_path, identity, session.get("csrf_token"))


def cached_page(view):
    """Mark a GET view whose page shows only database content: `_serve_cached` answers from the
    cache before any other request work, and the view's 200 renderings are kept for it.

    A hit skips the login check too, which is sound because the page was rendered, with a 200,
    for this very session identity, and any change to the member (a new session token, a
    membership ended) changes the database version. It relies on Flask-Login's "basic" session
    protection (the default: a session from another address is only marked not fresh) and on no
    cached view needing a fresh login.
    """

    @wraps(view)
    def render(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        slot = g.pop("page_cache_slot", None)
        # A rendering that changed the session (a new CSRF secret, a flash shown) is for once only.
        if slot is not None and response.status_code == 200 and not session.modified:
            current_app.extensions["page_cache"].put(*slot, response.get_data(), response.mimetype)
        return response

    render.is_cached_page = True
    return render


def _serve_cached() -> Response | None:
    """The page from the cache, or None to go on: the view renders it and the cache keeps it."""
    view = current_app.view_functions.get(request.endpoint)
    if request.method not in ("GET", "HEAD") or not getattr(view, "is_cached_page", False):
        return None
    cache: PageCache = current_app.extensions["page_cache"]
    key = _session_key()
    version = cache.version() if key else None
    if version is None:
        return None
    page = cache.get(key, version)
    if page is None:
        g.page_cache, g.page_cache_slot = "miss", (key, version)
        return None
    g.page_cache = "hit"
    return Response(page.body, mimetype=page.mimetype)


# This process's writes to shown tables, followed through each session: a commit that carried
# one moves the version at once; the outbox's commits (every second in development) do not.
WRITES = "page_cache_writes"


def _flushed(session, _flush_context) -> None:
    if any(o.__tablename__ not in UNSHOWN_TABLES for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[WRITES] = True


def _executed(state) -> None:
    table = getattr(state.statement, "table", None)
    if (state.is_insert or state.is_update or state.is_delete) and table.name not in UNSHOWN_TABLES:
        state.session.info[WRITES] = True


def _committed(session) -> None:
    cache = current_app.extensions.get("page_cache") if has_app_context() else None
    if session.info.pop(WRITES, False) and cache is not None:
        cache.note_commit()


def _rolled_back(session) -> None:
    session.info.pop(WRITES, None)


SESSION_EVENTS = (
    ("after_flush", _flushed),
    ("do_orm_execute", _executed),
    ("after_commit", _committed),
    ("after_rollback", _rolled_back),
)


def changes_for(engine: Engine):
    """Where this database tells a worker that something changed, or None if it cannot."""
    if engine.dialect.name == "postgresql":
        return PostgreSQLChanges(engine)
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        return SQLiteChanges(engine.url.database)
    return None


def init_app(app: Flask) -> None:
    entries = app.config["PAGE_CACHE_ENTRIES"]
    if entries <= 0:
        return
    with app.app_context():
        changes = changes_for(db.engine)
    if changes is None:
        log.info("page cache off: this database cannot report its changes")
        return
    seconds = app.config["PAGE_CACHE_SECONDS"]
    app.extensions["page_cache"] = PageCache(changes, entries=entries, seconds=seconds)
    for name, listener in SESSION_EVENTS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    app.before_request(_serve_cached)
