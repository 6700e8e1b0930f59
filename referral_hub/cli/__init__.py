"""The command line: `flask --app referral_hub <group> <command>`, over the same services as the web."""

from flask import Flask

from .chapters import chapters_cli, demo_cli
from .introductions import intros_cli
from .ledger import ledger_cli
from .mail import outbox_cli
from .relationships import digest_cli
from .reports import reports_cli


def init_app(app: Flask) -> None:
    for group in (chapters_cli, demo_cli, outbox_cli, ledger_cli, intros_cli, digest_cli, reports_cli):
        app.cli.add_command(group)
