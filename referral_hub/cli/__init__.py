"""The command line: `flask --app referral_hub <group> <command>`, over the same services as the web."""

from flask import Flask
from flask_migrate.cli import db as db_cli

from .backup import backup_command
from .chapters import chapters_cli, demo_cli
from .introductions import intros_cli
from .jobs import jobs_cli, worker_command
from .ledger import ledger_cli
from .mail import outbox_cli
from .relationships import digest_cli
from .reports import reports_cli


def init_app(app: Flask) -> None:
    for group in (
        chapters_cli,
        demo_cli,
        outbox_cli,
        ledger_cli,
        intros_cli,
        digest_cli,
        jobs_cli,
        worker_command,
        reports_cli,
    ):
        app.cli.add_command(group)
    # `flask db` is Flask-Migrate's group; the backup joins its commands.
    db_cli.add_command(backup_command)
