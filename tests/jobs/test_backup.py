"""Backup and restore, proven: a chapter at work is backed up (`flask db backup` on SQLite, `pg_dump -Fc`
on PostgreSQL), restored into a fresh database, and the copy passes `ledger verify` and `jobs status`."""

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from referral_hub import create_app
from referral_hub.cli import jobs as jobs_cli
from referral_hub.extensions import db
from referral_hub.introductions.models import Introduction, IntroState
from referral_hub.jobs import runs
from referral_hub.jobs.schedule import JOBS
from referral_hub.ledger.models import LedgerTransaction

from .conftest import NOW, chapter_at_work

pytestmark = pytest.mark.live


def app_on(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_TRANSPORT": "memory"})


def plain(url: str) -> str:
    """The URL as libpq's tools take it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def back_up_and_restore(app, tmp_path: Path) -> str:
    """Back the live database up the way README says and restore it into a fresh one; its URL."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        backup = tmp_path / "backup.sqlite3"
        result = app.test_cli_runner().invoke(args=["db", "backup", str(backup)])
        assert result.exit_code == 0, result.output
        assert f"to {backup}" in result.output
        restored = tmp_path / "restored.sqlite3"
        shutil.copyfile(backup, restored)
        return f"sqlite:///{restored}"
    # PostgreSQL's client tools come with the server (README: backup and restore): a backup test needs them.
    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "pg_dump and pg_restore are not installed"
    refused = app.test_cli_runner().invoke(args=["db", "backup", str(tmp_path / "x")])
    assert refused.exit_code == 1 and "pg_dump -Fc" in refused.output
    dump = tmp_path / "backup.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), plain(url)], check=True)  # noqa: S607
    source = make_url(url)
    fresh = f"{source.database}_restored"
    admin = plain(str(source.set(database="postgres")))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{fresh}"')
    restored = source.set(database=fresh).render_as_string(hide_password=False)
    subprocess.run(["pg_restore", "--no-owner", "-d", plain(restored), str(dump)], check=True)  # noqa: S607
    return restored


def test_a_backup_restored_into_a_fresh_database_passes_ledger_verify_and_jobs_status(
    live_db, tmp_path, monkeypatch
):
    with live_db.app.app_context():
        work = chapter_at_work(NOW)
        db.session.commit()
        assert {result.job for result in runs.run_due(now=NOW)} == set(JOBS), "every job ran"
        transactions = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
        restored_url = back_up_and_restore(live_db.app, tmp_path)

    copy = app_on(restored_url)
    try:
        monkeypatch.setattr(jobs_cli, "utcnow", lambda: NOW)
        runner = copy.test_cli_runner()
        verified = runner.invoke(args=["ledger", "verify"])
        assert verified.exit_code == 0, verified.output
        assert "All" in verified.output and "checks passed" in verified.output
        status = runner.invoke(args=["jobs", "status"])
        assert status.exit_code == 0, status.output
        assert "expire          ok" in status.output and "digest          ok" in status.output
        with copy.app_context():
            assert db.session.get(Introduction, work.introduction_id).state is IntroState.EXPIRED
            assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == transactions
            db.session.remove()
    finally:
        with copy.app_context():
            db.engine.dispose()
        drop_restored(restored_url)


def drop_restored(url: str) -> None:
    """Drop the PostgreSQL database a backup was restored into (a SQLite one goes with tmp_path)."""
    restored = make_url(url)
    if restored.get_backend_name() != "postgresql":
        return
    admin = plain(str(restored.set(database="postgres")))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{restored.database}" WITH (FORCE)')


def test_a_sqlite_backup_never_overwrites_a_file_and_needs_a_database_file(tmp_path):
    app = app_on(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["db", "backup", str(tmp_path / "copy.sqlite3")])
    assert missing.exit_code == 1 and "There is no database file at" in missing.output
    with app.app_context():
        upgrade()
        db.engine.dispose()
    taken = tmp_path / "taken.sqlite3"
    taken.write_text("an older backup")
    result = runner.invoke(args=["db", "backup", str(taken)])
    assert result.exit_code == 1 and "exists; give a new file (a backup never overwrites)." in result.output
    assert taken.read_text() == "an older backup"
    assert runner.invoke(args=["db", "backup", str(tmp_path / "copy.sqlite3")]).exit_code == 0
    assert not list(tmp_path.glob("*.partial"))
