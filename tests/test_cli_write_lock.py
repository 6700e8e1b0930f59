"""Commands that write, on SQLite, while another process commits 20 writes a second: none fails locked."""

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade

from referral_hub import create_app
from referral_hub.cli import demo
from referral_hub.extensions import db

pytestmark = pytest.mark.live

WRITES_PER_SECOND = 20

# A process of its own, as another web worker or command would be: it commits a row every 50 ms.
WRITER = textwrap.dedent(
    """
    import sqlite3, sys, time
    connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, at REAL)")
    print("writing", flush=True)
    deadline = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        connection.execute("INSERT INTO write_probe (at) VALUES (?)", (time.time(),))
        time.sleep(1 / float(sys.argv[3]))
    """
)


@pytest.fixture
def sqlite_app(tmp_path):
    """The app on a SQLite file of its own, whatever the suite's database: the rule under test is SQLite's."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'commands.sqlite3'}",
            "MAIL_TRANSPORT": "memory",
            "OUTBOX_DELIVER_IN_APP": False,
        }
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def another_writer(sqlite_app) -> Iterator[subprocess.Popen]:
    path = sqlite_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, path, "120", str(WRITES_PER_SECOND)],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout.readline().strip() == "writing"
        yield writer
        writer.kill()


def writes_committed(app) -> int:
    with app.app_context():
        return db.session.execute(db.text("SELECT count(*) FROM write_probe")).scalar_one()


def test_every_writing_command_waits_for_the_write_lock_instead_of_failing(
    sqlite_app, another_writer, tmp_path
):
    runner = sqlite_app.test_cli_runner()
    roster = Path(tmp_path / "roster.csv")
    commands = []
    for round_ in range(3):
        roster.write_text(
            "name,email,headline,expertise\n"
            + "".join(f"Guest {round_}-{n},guest{round_}-{n}@example.org,,\n" for n in range(20))
        )
        commands += [
            ["demo", "seed", "--members", str(12 * (round_ + 1))],
            ["chapters", "create", f"Round {round_}", "--organizer", demo.ORGANIZER_EMAIL],
            ["chapters", "import", str(roster), "--chapter", "demo", "--organizer", demo.ORGANIZER_EMAIL],
            ["digest", "send"],
            ["intros", "expire"],
            ["outbox", "drain"],
            ["worker", "--once"],
            ["jobs", "run", "expire"],
            ["outbox", "retry", "--all"],
        ]
    before = writes_committed(sqlite_app)
    for command in commands:
        result = runner.invoke(args=command)
        assert result.exit_code == 0, (command, result.output, repr(result.exception))
    # The other process really was writing meanwhile, between the commands' transactions.
    assert another_writer.poll() is None
    assert writes_committed(sqlite_app) > before
