"""`flask intros expire`: close introductions and needs whose time is up."""

import click
from flask.cli import AppGroup

from ..database import writes
from ..extensions import db
from ..introductions.answering import expire_introductions
from ..needs.services import expire_needs
from ..relationships.connector_requests import expire_requests

intros_cli = AppGroup("intros", help="Introductions housekeeping.")


@intros_cli.command("expire")
@writes
def expire_command() -> None:
    """Expire unanswered introductions and needs past their expiry date."""
    introductions = expire_introductions()
    needs = expire_needs()
    introduced, expired = expire_requests()
    db.session.commit()
    click.echo(f"expired {introductions} introductions and {needs} needs")
    click.echo(f"closed connector requests: {introduced} introduced, {expired} expired and refunded")
