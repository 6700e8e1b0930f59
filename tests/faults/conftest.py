"""Real processes for fault tests: the app under gunicorn, `flask outbox worker`, an SMTP server, a database.

Every process shares one committed database (a SQLite file, or `<TEST_DATABASE_URL>_live`), and the
test reads the outbox from it the way an operator would, in a transaction of its own each time.
"""

import asyncio
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from referral_hub import create_app
from referral_hub.extensions import db
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from tests.conftest import free_port
from tests.journeys.conftest import HttpClient, live_database

PROJECT = Path(__file__).resolve().parents[2]
HEADERS = BytesHeaderParser(policy=policy.default)


class Mailbox:
    """An aiosmtpd handler that accepts every message after `delay` seconds and records its Message-ID
    with the moment it said 250; `on_accept(n)` runs after the n-th acceptance, before the reply."""

    def __init__(self, *, delay: float = 0.0, on_accept: Callable[[int], None] | None = None):
        self.delay = delay
        self.on_accept = on_accept
        self.lock = threading.Lock()
        self.accepted: list[tuple[str, float]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            # A client that disconnects meanwhile cancels this coroutine: its message is not accepted.
            await asyncio.sleep(self.delay)
        message_id = HEADERS.parsebytes(envelope.content)["Message-ID"]
        with self.lock:
            self.accepted.append((message_id, time.time()))
            count = len(self.accepted)
        if self.on_accept:
            self.on_accept(count)
        return "250 OK queued"

    def snapshot(self) -> list[tuple[str, float]]:
        with self.lock:
            return list(self.accepted)

    def received(self) -> Counter:
        """How many times each Message-ID was accepted."""
        return Counter(message_id for message_id, _ in self.snapshot())


@contextmanager
def smtp_server(mailbox: Mailbox, port: int) -> Iterator[Mailbox]:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def unlistened_port() -> int:
    """A free port below the ephemeral range, for a server that is down: connecting to a silent port
    inside that range can be given the same port as its source, and then the socket talks to itself."""
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(10_000, ephemeral_low), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.2) -> float:
    """Seconds until `condition()` held; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(every)
    return time.monotonic() - started


@dataclass(frozen=True)
class LiveDatabase:
    """The database every process of a test shares, and the app the test seeds and reads it with."""

    url: str
    app: Flask

    def outbox(self) -> list[OutboxMessage]:
        """Every outbox row as committed right now (detached: read its columns, nothing lazy)."""
        with self.app.app_context():
            rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            db.session.expunge_all()
            return rows

    def pending(self) -> int:
        return sum(row.status is OutboxStatus.PENDING for row in self.outbox())


@pytest.fixture
def live_db(tmp_path) -> Iterator[LiveDatabase]:
    url = live_database(tmp_path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_TRANSPORT": "memory"})
    with app.app_context():
        upgrade()
    yield LiveDatabase(url, app)
    with app.app_context():
        db.engine.dispose()


class Processes:
    """Starts the app's own commands as subprocesses against one database; stops whatever is left."""

    def __init__(self, logs: Path, database_url: str):
        self.logs = logs
        self.database_url = database_url
        self.started: list[subprocess.Popen] = []

    def environment(self, smtp_port: int, **settings) -> dict[str, str]:
        return {
            **os.environ,
            **{name: str(value) for name, value in settings.items()},
            "REFERRAL_HUB_ENV": "testing",
            "SECRET_KEY": "mail-faults",
            "DATABASE_URL": self.database_url,
            "MAIL_TRANSPORT": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
        }

    def start(self, name: str, command: list[str], smtp_port: int, **settings) -> subprocess.Popen:
        environment = self.environment(smtp_port, **settings)
        with (self.logs / f"{name}.log").open("wb") as log:  # a file: a full pipe would stall the child
            process = subprocess.Popen(
                command, cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        """What the process started as `name` wrote to stdout and stderr."""
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def worker(self, name: str, smtp_port: int, **settings) -> subprocess.Popen:
        """`flask outbox worker`, with `settings` (e.g. OUTBOX_LEASE_SECONDS) in its environment."""
        command = [sys.executable, "-m", "flask", "--app", "referral_hub", "outbox", "worker"]
        command += ["--poll", "0.2"]
        return self.start(name, command, smtp_port, **settings)

    def gunicorn(self, smtp_port: int) -> str:
        """The app served by gunicorn; returns its base URL once /healthz answers."""
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
        command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
        server = self.start("gunicorn", command, smtp_port)
        base_url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert server.poll() is None, self.log("gunicorn")
            try:
                return HttpClient(base_url).get("/healthz")[0] == 200
            except OSError:
                return False

        wait_until(healthy, timeout=60, what="gunicorn answers /healthz")
        return base_url

    def stop(self, process: subprocess.Popen) -> int:
        """SIGTERM (the worker finishes its message first), then the exit status."""
        if process.poll() is None:
            process.terminate()
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def stop_all(self) -> None:
        for process in self.started:
            self.stop(process)


@pytest.fixture
def processes(tmp_path, live_db) -> Iterator[Processes]:
    started = Processes(tmp_path, live_db.url)
    yield started
    started.stop_all()
