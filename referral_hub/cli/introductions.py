"""`flask intros`: expire what is past its time; ask the parties what came of their introductions."""

import click
from flask.cli import AppGroup

from ..clock import utcnow
from ..database import writes
from ..extensions import db
from ..introductions.outcomes import send_outcome_prompts
from ..jobs.schedule import expire
from ..wording import counted

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


@intros_cli.command("prompt-outcomes")
@writes
def prompt_outcomes_command() -> None:
    """Ask the parties of completed introductions what came of them, once, after outcome_prompt_days."""
    sent = send_outcome_prompts(utcnow())
    db.session.commit()
    click.echo(f"asked {counted(sent, 'parties')} what came of their introduction")
