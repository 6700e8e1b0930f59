"""Outbox fixtures: a mail template of its own, a clock, an SMTP server the test steers, real commits."""

import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import delete, func, select

from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.mail import services
from referral_hub.mail.models import OutboxMessage, OutboxStatus

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture(autouse=True)
def outbox_test_template(app, monkeypatch):
    """`mail/outbox_test/` exists for these tests only, so they do not hang on other domains' emails."""
    monkeypatch.setattr(
        app.jinja_env, "loader", ChoiceLoader([FileSystemLoader(TEMPLATES), app.jinja_env.loader])
    )


def write(to: str = "member@example.com", name: str = "Ada", **context) -> OutboxMessage:
    """Enqueue the test template and flush, as a service would."""
    context.setdefault("link", "http://localhost/news/1")
    message = services.enqueue("outbox_test", to=to, name=name, **context)
    db.session.flush()
    return message


def pending() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)))


class Clock:
    """The worker's notion of now, moved by the test."""

    def __init__(self):
        # A minute ahead of the wall clock, so every message the test writes is already due.
        self.now = utcnow() + timedelta(minutes=1)

    def __call__(self):
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(services, "utcnow", clock)
    return clock


class Recorder:
    """A transport that keeps what it was given, and fails when the test's script says so."""

    def __init__(self, failures=None):
        self.tried: list[EmailMessage] = []
        self.sent: list[EmailMessage] = []
        # recipient -> exception raised instead of sending; a list is consumed one per attempt
        self.failures = failures or {}
        self.closed = False

    def send(self, email: EmailMessage) -> None:
        self.tried.append(email)
        failure = self.failures.get(email["To"])
        if isinstance(failure, list):
            failure = failure.pop(0) if failure else None
        if failure is not None:
            raise failure
        self.sent.append(email)

    def close(self) -> None:
        self.closed = True


class ScriptedSmtpHandler:
    """An aiosmtpd handler whose faults the test sets: 4xx, 5xx and connections dropped mid-DATA."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received: list[EmailMessage] = []
        self.over_tls: list[bool] = []
        self.logins: list[str] = []
        self.busy_data_replies = 0  # answer DATA with "451 try later" this many times
        self.refused: set[str] = set()  # "550 no such user" at RCPT
        self.always_busy: set[str] = set()  # "451" at RCPT, every time
        self.drops: dict[str, int] = {}  # recipient -> times to drop the connection after the data

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 no such user"
        if address in self.always_busy:
            return "451 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            recipient = envelope.rcpt_tos[0]
            if self.drops.get(recipient, 0) > 0:
                self.drops[recipient] -= 1
                # The data has arrived but no reply ever will: the client cannot know the outcome.
                server.transport.abort()
                return "250 never seen"
            if self.busy_data_replies > 0:
                self.busy_data_replies -= 1
                return "451 4.3.0 try later"
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))
            self.over_tls.append(session.ssl is not None)
        return "250 OK queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        with self.lock:
            self.logins.append(auth_data.login.decode())
        # handled=False: aiosmtpd itself then answers "535" to a wrong password
        return AuthResult(success=auth_data.password == b"right password", handled=False)

    def received_ids(self) -> list[str]:
        with self.lock:
            return [email["Message-ID"] for email in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """A real SMTP server on 127.0.0.1, started by `serve` and stopped after the test."""

    def __init__(self, app, monkeypatch):
        self.app = app
        self.monkeypatch = monkeypatch
        self.controllers: list[Controller] = []

    def serve(self, **smtp_options) -> ScriptedSmtpHandler:
        handler = ScriptedSmtpHandler()
        port = free_port()
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            authenticator=handler.authenticate,
            auth_require_tls=False,
            **smtp_options,
        )
        controller.start()
        self.controllers.append(controller)
        for key, value in {
            "MAIL_TRANSPORT": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
            "SMTP_TIMEOUT": 5.0,
            "SMTP_STARTTLS": False,
            "SMTP_USERNAME": None,
            "SMTP_PASSWORD": None,
        }.items():
            self.monkeypatch.setitem(self.app.config, key, value)
        return handler

    def stop(self) -> None:
        for controller in self.controllers:
            controller.stop()


@pytest.fixture
def smtp_server(app, monkeypatch):
    server = SmtpServer(app, monkeypatch)
    yield server
    server.stop()


@pytest.fixture
def committed(app, db_session):
    """For tests whose threads need really committed rows: the app's real session, and a clean-up.

    The per-test transaction cannot serve here: its one connection is invisible to other connections
    and must not be shared between threads. Outbox rows written during the test are deleted after it.
    """
    rolled_back = db.session
    db.session = db._make_scoped_session({})
    last_before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    db.session.remove()
    try:
        yield db.session
    finally:
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(delete(OutboxMessage).where(OutboxMessage.id > last_before))
        db.session = rolled_back
