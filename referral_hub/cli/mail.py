"""`flask outbox drain`, `flask outbox worker`, `flask outbox dead` and `flask outbox retry`."""

import signal
import threading
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from ..database import writes
from ..errors import DomainError
from ..extensions import db
from ..mail import dead_letters
from ..mail.services import drain, run_worker

outbox_cli = AppGroup("outbox", help="Send the mail waiting in the outbox.")


@contextmanager
def stopped_by_signals():
    """An Event that SIGTERM or SIGINT (Ctrl-C) set while inside; the previous handlers come back after."""
    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _signum, _frame: stopping.set())
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@outbox_cli.command("drain")
@click.option(
    "--batch-size",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Messages claimed at a time.",
)
@writes
def drain_command(batch_size: int) -> None:
    """Send every message that is due, then exit."""
    report = drain(batch_size=batch_size)
    click.echo(f"sent {report.sent}, retrying later {report.retrying}, dead-lettered {report.dead}")


@outbox_cli.command("worker")
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01, max=2.0),
    help="Seconds between looks for due mail.",
)
@writes
def worker_command(poll: float) -> None:
    """Send due mail until stopped (SIGTERM or Ctrl-C finish the current message first)."""
    with stopped_by_signals() as stopping:
        click.echo(f"outbox worker: looking for due mail every {poll}s")
        run_worker(poll_seconds=poll, should_stop=stopping.is_set)
        click.echo("outbox worker: stopped")


@outbox_cli.command("dead")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1), help="Messages shown.")
def dead_command(limit: int) -> None:
    """List the dead letters: messages the outbox gave up on, the most recently queued first."""
    letters = dead_letters.dead_letters(limit=limit)
    if not letters:
        click.echo("no dead letters")
        return
    for message in letters:
        click.echo(
            f"{message.id}  queued {message.created_at:%Y-%m-%d %H:%M:%S} UTC  to {message.to_address}  "
            f"after {message.attempts} attempts: {message.subject}"
        )
        click.echo(f"    last error: {message.last_error or '-'}")


@outbox_cli.command("retry")
@click.argument("message_id", required=False, type=click.IntRange(min=1, max=2**31 - 1))
@click.option("--all", "every", is_flag=True, help="Retry every dead letter.")
@writes
def retry_command(message_id: int | None, every: bool) -> None:
    """Put dead letter MESSAGE_ID (or --all of them) back in the queue, due now, attempts reset."""
    if (message_id is None) == (not every):
        raise click.UsageError("Give one message id, or --all.")
    if every:
        requeued = dead_letters.retry_all()
        db.session.commit()
        click.echo(f"requeued {requeued} dead letters")
        return
    try:
        dead_letters.retry(message_id)
    except DomainError as error:  # refused before writing anything
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"requeued message {message_id}")
