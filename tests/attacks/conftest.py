"""The app served for real by gunicorn on 127.0.0.1, seeded with the demo chapter, for attack tools to probe.

One server and one seed for the whole package (sqlmap and schemathesis share them); its database is
the live one of `live_database` (a SQLite file, or `<TEST_DATABASE_URL>_live` on PostgreSQL).
"""

import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade

from referral_hub import create_app
from referral_hub.accounts.services import find_by_email
from referral_hub.cli import demo
from referral_hub.extensions import db
from referral_hub.reports.access import create_token
from tests.conftest import free_port
from tests.journeys.conftest import HttpClient, live_database

PROJECT = Path(__file__).resolve().parents[2]
SERVED_SUITES = ("test_sqlmap.py", "test_schemathesis_live.py")
DEMO_MEMBERS = 12

# An attack tool sends thousands of requests from one address, most of them failed logins: at the
# production limits it would soon meet nothing but 429 and probe the rate limiter instead of the app.
ATTACK_RATE_LIMIT = "100000 per minute"
RAISED_LIMITS = (
    "RATELIMIT_AUTH_PER_ADDRESS",
    "RATELIMIT_LOGIN_PER_ACCOUNT",
    "RATELIMIT_API_PER_TOKEN",
    "RATELIMIT_API_PER_ADDRESS",
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/attacks/" in str(item.path) and item.path.name in SERVED_SUITES:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.live)


REQUEST_LINE = re.compile(r"referral_hub\.requests (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) ")


@dataclass
class ServedApp:
    """The gunicorn-served app, the demo chapter's people, and the app's request log."""

    base_url: str
    log_path: Path
    slug: str
    member_email: str
    password: str
    token: str

    def log_mark(self) -> int:
        """Where the request log ends now: pass it as `since` to see only what came after."""
        return self.log_path.stat().st_size

    def log_since(self, since: int) -> str:
        return self.log_path.read_bytes()[since:].decode(errors="replace")

    def statuses(self, method: str, path: str, *, since: int) -> list[int]:
        """The status of every `method path` request the app answered after `since`."""
        return [
            int(line["status"])
            for line in REQUEST_LINE.finditer(self.log_since(since))
            if line["method"] == method and line["path"] == path
        ]

    def session_cookie(self, email: str) -> str:
        """Log in through the form, as a browser does; returns the `Cookie` header of that session."""
        browser = HttpClient(self.base_url)
        status, url, page = browser.submit("/login", {"email": email, "password": self.password})
        assert (status, url) == (200, f"{self.base_url}/dashboard"), page
        return browser.cookie_header()


def seed_demo_chapter(database_url: str) -> str:
    """The schema, the demo chapter (members, introductions, needs) and its organizer's API token."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "MAIL_TRANSPORT": "memory"})
    with app.app_context():
        upgrade()
        list(demo.seed(DEMO_MEMBERS))  # a generator: it seeds as it is consumed
        organizer = find_by_email(demo.ORGANIZER_EMAIL)
        _token, secret = create_token(organizer, name="Attack suite", chapter_slug=demo.CHAPTER_SLUG)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return secret


def wait_until_serving(base_url: str, server: subprocess.Popen) -> None:
    for _ in range(150):
        assert server.poll() is None, "gunicorn exited before serving"
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{base_url} did not answer /healthz within 15 s")


@pytest.fixture(scope="package")
def served_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attacks")
    database_url = live_database(folder)
    token = seed_demo_chapter(database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REFERRAL_HUB_ENV": "testing",
        "SECRET_KEY": "attack-suite",
        "MAIL_TRANSPORT": "memory",
        "BASE_URL": base_url,
        **dict.fromkeys(RAISED_LIMITS, ATTACK_RATE_LIMIT),
    }
    log_path = folder / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(base_url, server)
        yield ServedApp(
            base_url=base_url,
            log_path=log_path,
            slug=demo.CHAPTER_SLUG,
            member_email="member1@demo.referral-hub.local",
            password=demo.PASSWORD,
            token=token,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Traceback" not in log_path.read_text(errors="replace"), log_path.read_text()[-3000:]
