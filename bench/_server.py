"""What the benches share: a fresh database, a gunicorn server started and awaited, a browser's login."""

import http.client
import os
import re
import socket
import subprocess
import time
import urllib.parse
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parent.parent


def prepare_database(kind: str, scale: int, workdir: Path, postgresql_url: str) -> str:
    """A new empty database of `kind` for `scale` (`postgresql_url` has a `{scale}` field)."""
    if kind == "sqlite":
        path = workdir / f"bench-{scale}x.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return fresh_postgresql(postgresql_url.format(scale=scale))


def fresh_postgresql(url: str) -> str:
    """Drop and create the database `url` names; return `url`."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url


def analyze(engine) -> None:
    """Give the planner its statistics, as autovacuum keeps them on a live database: a freshly seeded
    one would be planned on guesses that no production database is served from."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(target: str, workers: int, environment: dict, log_path: Path):
    """Serve `target` with `workers` sync workers on a free port; yield its base URL once it answers."""
    port = free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [
                str(PROJECT / ".venv/bin/gunicorn"),
                *("--workers", str(workers), "--bind", f"127.0.0.1:{port}", target),
            ],
            cwd=PROJECT,
            env={**os.environ, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/")
                connection.getresponse().read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn {target} did not start; see {log_path}") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


class Browser:
    """One visitor's connection that keeps every cookie the app sets, Secure ones too (the benches
    speak plain HTTP on loopback to a production-configured app)."""

    def __init__(self, base_url: str):
        self.connection = http.client.HTTPConnection(urllib.parse.urlsplit(base_url).netloc)
        self.cookie = SimpleCookie()

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={m.value}" for k, m in self.cookie.items())

    def ask(self, method: str, path: str, **kwargs) -> tuple[int, str, str | None]:
        headers = kwargs.pop("headers", {}) | {"Cookie": self.cookie_header()}
        self.connection.request(method, path, headers=headers, **kwargs)
        response = self.connection.getresponse()
        for set_cookie in response.headers.get_all("Set-Cookie") or ():
            self.cookie.load(set_cookie)
        return response.status, response.read().decode(), response.headers.get("Location")

    def log_in(self, email: str, password: str) -> str:
        """Log in through the real form and follow its redirect; return the page's CSRF token."""
        _, html, _ = self.ask("GET", "/login")
        body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": csrf_token(html)})
        status, _, location = self.ask(
            "POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise SystemExit(f"logging in as {email} answered {status}")
        _, html, _ = self.ask("GET", urllib.parse.urlsplit(location).path)
        return csrf_token(html)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def log_in(base_url: str, email: str, password: str) -> str:
    """Log in as a browser does; return the Cookie header of the logged-in session."""
    browser = Browser(base_url)
    browser.log_in(email, password)
    return browser.cookie_header()
