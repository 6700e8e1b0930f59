"""A live app on a real port with its own database, and a real SMTP server that records what it gets.

Journeys commit for real, so they cannot share the rolled-back transaction of the unit tests: the
live app gets a database of its own (a SQLite file, or `<TEST_DATABASE_URL>_live` on PostgreSQL).
"""

import email
import email.policy
import http.cookiejar
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

import psycopg
import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from werkzeug.serving import make_server

from referral_hub import create_app
from referral_hub.config import database_uri
from referral_hub.extensions import db
from tests.conftest import free_port


def pytest_collection_modifyitems(items):
    for item in items:
        if "/journeys/" in str(item.path):
            item.add_marker(pytest.mark.live)


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def live_database(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'live.sqlite3'}"
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") + "_live"
    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_uri(parts._replace(path=f"/{name}").geturl())


class LiveApp:
    """The app served by a real HTTP server in a thread; requests go over a socket."""

    def __init__(self, app, base_url):
        self.app, self.base_url = app, base_url

    def client(self) -> "HttpClient":
        return HttpClient(self.base_url)


@pytest.fixture
def live_app(tmp_path, smtp_inbox):
    server = make_server("127.0.0.1", 0, None, threaded=True)
    base_url = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": live_database(tmp_path),
            "MAIL_TRANSPORT": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_inbox.port,
            "BASE_URL": base_url,
            "OUTBOX_DELIVER_IN_APP": False,
        }
    )
    with app.app_context():
        upgrade()
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveApp(app, base_url)
    server.shutdown()
    thread.join()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class HttpClient:
    """A small browser over urllib: keeps cookies, fills in the CSRF token of the page it came from."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie_header(self) -> str:
        """The `Cookie` header this browser sends: hand it to another client to act as this session."""
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self._url(path), data=body, method=method)
        try:
            with self.opener.open(request) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request("GET", path)

    def submit(self, path: str, data: dict, *, form_page: str | None = None) -> tuple[int, str, str]:
        """GET the page with the form, then POST the form with its CSRF token (following redirects)."""
        _, _, html = self.get(form_page or path)
        match = CSRF.search(html)
        assert match, f"no form on {form_page or path}"
        return self.request("POST", path, {**data, "csrf_token": match.group(1)})
