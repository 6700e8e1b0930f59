"""`flask reports verify`: recount the kept report figures from the source tables; exit 1 on a difference."""

import sys

import click
from flask.cli import AppGroup

from ..extensions import db
from ..reports import completions, counting, members, transactions

reports_cli = AppGroup("reports", help="The organizer reports.")


@reports_cli.command("verify")
def verify_command() -> None:
    """Recount every kept figure from the source tables. Exits 1 and prints each difference."""
    connection = db.session.connection()
    found = (
        counting.differences(connection)
        + completions.differences(connection)
        + members.differences(connection)
        + transactions.differences(connection)
    )
    for line in found:
        click.echo(line)
    if found:
        click.echo(f"{len(found)} figures differ from the source tables.", err=True)
        sys.exit(1)
    click.echo("Figures match")
