"""`flask intros expire`: close introductions and needs whose time is up."""

import click
from flask.cli import AppGroup

from ..clock import utcnow
from ..database import writes
from ..extensions import db
from ..jobs.schedule import expire

intros_cli = AppGroup("intros", help="Introductions housekeeping.")


@intros_cli.command("expire")
@writes
def expire_command() -> None:
    """Expire unanswered introductions and needs past their expiry date (the worker's `expire` job)."""
    counts = expire(utcnow())
    db.session.commit()
    click.echo(f"expired {counts['introductions']} introductions and {counts['needs']} needs")
    click.echo(
        f"closed connector requests: {counts['requests_introduced']} introduced, "
        f"{counts['requests_refunded']} expired and refunded"
    )
