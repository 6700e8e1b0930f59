"""A deployment in real processes: gunicorn servers, outbox workers, a private PostgreSQL cluster.

Each process writes its output to a log file under the test's temporary folder, which the tests read
for tracebacks and for the app's one-line-per-request log.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from referral_hub import create_app
from referral_hub.config import database_uri
from referral_hub.extensions import db
from tests.conftest import free_port

PROJECT = Path(__file__).resolve().parents[2]
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
FLASK = [sys.executable, "-m", "flask", "--app", "referral_hub"]
# The request log line: "… referral_hub.requests GET /dashboard 503 2.1ms queries=0 request_id=…"
REQUEST_LOG = re.compile(r" referral_hub\.requests \S+ (\S+) (\d{3}) ")


def own_database(suffix: str) -> str:
    """A fresh database `<TEST_DATABASE_URL's name>_<suffix>` on the shared server; its plain URL."""
    parts = urllib.parse.urlsplit(os.environ["TEST_DATABASE_URL"])
    name = f"{parts.path.lstrip('/')}_{suffix}"
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()


def app_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of every process of one deployment: same database, same secret key."""
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "REFERRAL_HUB_ENV": "testing",
        "SECRET_KEY": "deployment-test-key",
        "DATABASE_URL": database_url,
        "MAIL_TRANSPORT": "memory",
        **settings,
    }


def migrate(environment: dict[str, str]) -> None:
    """`flask db upgrade`, as an operator deploys the schema."""
    subprocess.run([*FLASK, "db", "upgrade"], cwd=PROJECT, env=environment, check=True, capture_output=True)


def seed(database_url: str, build: Callable):
    """Run `build()` (factories) in an app context on the database and commit; returns what it returns."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri(database_url)})
    with app.app_context():
        built = build()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return built


class Service:
    """One long-running process of the deployment, its output in `<log_dir>/<name>.log`."""

    def __init__(self, name: str, command: list[str], environment: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                command, cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def requests_by_status(self) -> Counter:
        return Counter(int(status) for _path, status in REQUEST_LOG.findall(self.log))


def stop(*services: Service) -> None:
    """SIGTERM to all at once (gunicorn and the outbox worker finish what they are doing), then wait."""
    running = [service.process for service in services if service.process.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class AppServer(Service):
    """`gunicorn wsgi:app` on a port of its own, as in production."""

    def __init__(self, name: str, environment: dict[str, str], log_dir: Path, *, workers: int = 2):
        self.url = f"http://127.0.0.1:{free_port()}"
        bind = self.url.removeprefix("http://")
        command = ["--workers", str(workers), "--threads", "4", "--bind", bind, "wsgi:app"]
        super().__init__(name, [sys.executable, "-m", "gunicorn", *command], environment, log_dir)

    def wait_until_serving(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url + "/healthz", timeout=2):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not serve /healthz within {timeout}s:\n{self.log[-3000:]}")


def outbox_worker(name: str, environment: dict[str, str], log_dir: Path) -> Service:
    return Service(name, [*FLASK, "outbox", "worker", "--poll", "0.2"], environment, log_dir)


class PostgresCluster:
    """A PostgreSQL server of the test's own (initdb in a temporary folder), free to stop and start.

    PostgreSQL refuses to run as root, so as root its programs run as the `postgres` user.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.port = free_port()
        runuser = shutil.which("runuser")
        self.as_owner = [runuser, "-u", "postgres", "--"] if os.geteuid() == 0 and runuser else []

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [*self.as_owner, str(POSTGRES_BIN / program), *args],
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{result.stdout}{result.stderr}{log}")

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))

    def create_database(self, name: str) -> str:
        """A new database on this cluster; its plain URL."""
        server = f"postgresql://postgres@127.0.0.1:{self.port}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"{server}/{name}"


@pytest.fixture
def private_postgres():
    # Fail, not skip: a suite that skips where its tools are missing proves nothing and stays green.
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL's server programs (initdb, pg_ctl) are not installed in {POSTGRES_BIN}")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.fail("running as root without runuser: PostgreSQL refuses to run as root")
    directory = Path(tempfile.mkdtemp(prefix="referral-hub-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = PostgresCluster(directory)
    try:
        cluster.create()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped, or never started
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
