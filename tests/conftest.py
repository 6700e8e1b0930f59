"""Test fixtures: one app per run, a schema built by the migrations, a rolled-back transaction per test.

Set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> to run on PostgreSQL; the default
is a SQLite file in a temporary folder.
"""

import os
import re
import socket
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session
from sqlalchemy import event, text

os.environ["REFERRAL_HUB_ENV"] = "testing"

from referral_hub import create_app  # noqa: E402
from referral_hub.config import database_uri  # noqa: E402
from referral_hub.extensions import db, limiter  # noqa: E402
from referral_hub.mail.models import OutboxMessage  # noqa: E402


def _reset_schema(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()


ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgresql", "postgres:"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return database_uri(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


class RequestScopedClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    Without it a request reuses the test's app context, so `g` (Flask-Login's current user
    included) and the session's identity map leak from one request into the next, even across clients.
    Each request's database session still joins the test's rolled-back transaction.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_TRANSPORT": "memory",
            "MAIL_DIR": str(tmp_path_factory.mktemp("mail")),
            "BASE_URL": "http://localhost",
            "OUTBOX_DELIVER_IN_APP": False,
            "SERVER_NAME": None,
        }
    )
    app.test_client_class = RequestScopedClient
    _reset_schema(app)
    yield app
    with app.app_context():
        db.engine.dispose()


class ConnectionBoundSession(Session):
    """Flask-SQLAlchemy's session picks its engine itself and ignores `bind`; a test's session must
    run every statement on the test's connection, or the code's commits would really commit."""

    def get_bind(self, *_args, **_kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def db_session(request):
    """Each test runs inside one outer transaction that is rolled back; commits become savepoints.

    Tests marked `live` serve a real app with its own database and commit for real instead.
    """
    if request.node.get_closest_marker("live"):
        yield None
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": ConnectionBoundSession,
            }
        )
        original, db.session = db.session, session
        limiter.reset()
        app.extensions.get("mail_memory", []).clear()
        try:
            yield session
        finally:
            session.remove()
            db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


TRANSACTION_CONTROL = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN)\b", re.I)


class QueryLog:
    """The SQL statements sent while counting; `count` leaves out transaction control."""

    def __init__(self):
        self.statements: list[str] = []

    @property
    def queries(self) -> list[str]:
        return [s for s in self.statements if not TRANSACTION_CONTROL.match(s)]

    @property
    def count(self) -> int:
        return len(self.queries)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as log: ...`, then `log.count`: statements sent to the database."""

    @contextmanager
    def counting():
        log = QueryLog()

        def record(_connection, _cursor, statement, *_args):
            log.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield log
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def client(app):
    return app.test_client()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A test client that carries the CSRF token the way a browser would: from the page's form."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, *, form_page=None, **kwargs):
        page = self.client.get(form_page or path)
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)

    def login(self, email, password="correct horse battery"):
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


@pytest.fixture
def browser(client):
    return Browser(client)


def mail_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
        )
    )


def link_in(message: OutboxMessage, path_prefix: str) -> str:
    """The path of the first link in the message body that starts with `path_prefix`."""
    match = re.search(r"http://localhost(" + re.escape(path_prefix) + r"[^\s\"<]+)", message.body_text)
    assert match, f"no {path_prefix} link in {message.body_text!r}"
    return match.group(1)
