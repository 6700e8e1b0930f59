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

log = logging.getLogger("referral_hub.caching")

# The channel the migrations' triggers notify on every committed change to a table a page shows.
CHANGES_CHANNEL = "referral_hub_changes"  # as in migrations/versions/c3a1f0d2b9e4
RECONNECT_SECONDS = 1.0


class SQLiteChanges:
    """The database file's change counter (`PRAGMA data_version`), read on a connection of its own.

    The counter moves when any other connection, in this process or another, commits; this
    connection never writes, so every commit anywhere moves it. A read takes a few microseconds.
    An error reading it means no version (None): pages render afresh.
    """

    def __init__(self, path: str):
        self._path = path
        self._connection: sqlite3.Connection | None = None

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

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgreSQLChanges:
    """A count of the change notifications this worker received, read without a round trip.

    The connection LISTENs on `CHANGES_CHANNEL`; PostgreSQL delivers a notification when the
    transaction that changed a table commits. Each read takes what has arrived from the socket
    without waiting. While the connection is down the version is unknown (None): pages render
    afresh, and a new connection starts a new version, since changes made meanwhile went unheard.
    """

    def __init__(self, engine: Engine):
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._connection: psycopg.Connection | None = None
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
            self._connection.close()
            self._connection = None
            return None
        while pgconn.notifies() is not None:
            self._received += 1
        return self._received

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _listen(self) -> bool:
        now = time.monotonic()
        if now < self._retry_at:
            return False
        args, kwargs = self._connect_args
        try:
            connection = psycopg.connect(*args, **{**kwargs, "autocommit": True, "connect_timeout": 2})
            connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        except psycopg.Error as error:
            log.warning("cannot listen for changes (%s); pages render afresh", error)
            self._retry_at = now + RECONNECT_SECONDS
            return False
        self._connection = connection
        self._received += 1  # whatever was cached before may have changed unheard
        return True


@dataclass(frozen=True)
class CachedPage:
    version: tuple
    expires_at: float
    body: bytes
    mimetype: str


class PageCache:
    """The last rendering of each (URL, session) pair, valid while the database version stands.

    Bounded by `entries` (least recently used first out) and by `seconds`, which limits how long
    a page can show time-dependent text ("2 hours ago") unchanged.
    """

    def __init__(self, changes, *, entries: int, seconds: float):
        self._changes = changes
        self._entries = entries
        self._seconds = seconds
        self._pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._version: tuple | None = None
        self._commits = 0
        self._lock = threading.Lock()  # the development server serves requests in threads

    def close(self) -> None:
        """Let go of the change source's connection (an app that stops serving, as in tests)."""
        with self._lock:
            self._changes.close()
            self._pages.clear()

    def note_commit(self) -> None:
        """This process committed: its own next request must not wait for the change notification."""
        with self._lock:
            self._commits += 1

    def version(self) -> tuple | None:
        with self._lock:
            changes = self._changes.version()
            version = None if changes is None else (changes, self._commits)
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
                return  # the database changed while the page rendered
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
    for this very session identity, and any change to the member (a new session token included)
    changes the database version.
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
    if not getattr(view, "is_cached_page", False):
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


def _note_commit(_session) -> None:
    cache = current_app.extensions.get("page_cache") if has_app_context() else None
    if cache is not None:
        cache.note_commit()


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
    if not event.contains(Session, "after_commit", _note_commit):
        event.listen(Session, "after_commit", _note_commit)
    app.before_request(_serve_cached)
