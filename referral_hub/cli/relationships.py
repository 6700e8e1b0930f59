"""`flask digest send`: this week's digest to every member who takes it, once per member per week."""

import click
from flask.cli import AppGroup

from ..accounts.models import Member
from ..clock import utcnow
from ..database import writes
from ..extensions import db
from ..relationships.digest import iso_week, recipients, send_digest

digest_cli = AppGroup("digest", help="The weekly digest email.")


@digest_cli.command("send")
@writes
def send_command() -> None:
    """Enqueue this ISO week's digest for each member who has not had it; safe to run again."""
    now = utcnow()
    sent = 0
    for member_id in recipients(now=now):
        if send_digest(db.session.get(Member, member_id), now=now):
            sent += 1
        # One member at a time: a failure halfway keeps the digests already queued, and a rerun
        # continues with the members still without this week's digest.
        db.session.commit()
    click.echo(f"queued {sent} digests for {iso_week(now)}")
