"""`flask outbox drain` and `flask outbox worker`."""

import signal

import click
from flask.cli import AppGroup

from .services import drain, run_worker

outbox_cli = AppGroup("outbox", help="Send the mail waiting in the outbox.")


@outbox_cli.command("drain")
@click.option("--batch-size", default=50, show_default=True, help="Messages claimed at a time.")
def drain_command(batch_size: int) -> None:
    """Send every message that is due, then exit."""
    report = drain(batch_size=batch_size)
    click.echo(f"sent {report.sent}, retrying later {report.retrying}, dead-lettered {report.dead}")


@outbox_cli.command("worker")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks for due mail.")
def worker_command(poll: float) -> None:
    """Send due mail until stopped (SIGTERM or Ctrl-C finish the current message first)."""
    stopping = []

    def stop(_signum, _frame):
        stopping.append(True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"outbox worker: looking for due mail every {poll}s")
    run_worker(poll_seconds=poll, should_stop=lambda: bool(stopping))
    click.echo("outbox worker: stopped")
