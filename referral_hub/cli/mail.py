"""`flask outbox drain` and `flask outbox worker`."""

import signal
import threading

import click
from flask.cli import AppGroup

from ..database import writes
from ..mail.services import drain, run_worker

outbox_cli = AppGroup("outbox", help="Send the mail waiting in the outbox.")


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
    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _signum, _frame: stopping.set())
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        click.echo(f"outbox worker: looking for due mail every {poll}s")
        run_worker(poll_seconds=poll, should_stop=stopping.is_set)
        click.echo("outbox worker: stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
