"""`flask worker` (the outbox and every periodic job), `flask jobs status` and `flask jobs run NAME`."""

from datetime import datetime, timedelta

import click
from flask.cli import AppGroup, with_appcontext

from ..clock import utcnow
from ..database import writes
from ..extensions import db
from ..jobs import health, runs, worker
from ..jobs.models import RunOutcome
from ..jobs.schedule import JOBS
from .mail import stopped_by_signals

jobs_cli = AppGroup("jobs", help="The periodic jobs the worker runs.")


@click.command("worker")
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01, max=2.0),
    help="Seconds between cycles (each looks for due mail, then due jobs).",
)
@click.option("--once", is_flag=True, help="Run one cycle, then exit (for cron and tests).")
@with_appcontext
@writes
def worker_command(poll: float, once: bool) -> None:
    """Send due mail and run every due job until stopped (SIGTERM or Ctrl-C finish the current step)."""
    with stopped_by_signals() as stopping:
        click.echo(f"worker: mail and jobs ({', '.join(JOBS)}) every {poll}s")
        worker.run_worker(poll_seconds=poll, should_stop=stopping.is_set, once=once, sleep=stopping.wait)
        click.echo("worker: stopped")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def _counts(counts: dict | None) -> str:
    return ", ".join(f"{name} {number}" for name, number in (counts or {}).items()) or "-"


@jobs_cli.command("status")
def status_command() -> None:
    """Each job's last successful run and next due time. Exits 1 when a job is overdue or failing."""
    now = utcnow()
    statuses = health.status(now)
    click.echo(f"jobs at {_when(now)}")
    width = max(len(job.name) for job in statuses)
    for job in statuses:
        state = "FAILING" if job.failing else "OVERDUE" if job.overdue else "ok"
        click.echo(f"{job.name:<{width}} {state:<8} {job.description}")
        duration = f"{job.last_duration_seconds:.2f}s" if job.last_duration_seconds is not None else "-"
        if job.last_success_at:
            click.echo(
                f"    last success  {_when(job.last_success_at)} ({job.last_success_period}) in {duration}: "
                f"{_counts(job.last_counts)}"
            )
        else:
            click.echo("    last success  never")
        if job.last_outcome is not None and job.last_period != job.last_success_period:
            click.echo(f"    last run      {job.last_period} {job.last_outcome.value}")
        if job.failing:
            click.echo(f"    error         {job.last_error.splitlines()[-1] if job.last_error else '-'}")
        due = "due since" if job.next_due_at <= now else "next due "
        click.echo(f"    {due}     {_when(job.next_due_at)}")
    unhealthy = [job.name for job in statuses if not job.healthy]
    if unhealthy:
        click.echo(f"needs attention: {', '.join(unhealthy)}", err=True)
        raise SystemExit(1)


@jobs_cli.command("run")
@click.argument("name")
@writes
def run_command(name: str) -> None:
    """Run job NAME now for its current period (unless a worker already did it, or is doing it)."""
    job = JOBS.get(name)
    if job is None:
        raise click.UsageError(f"No job is named {name!r}; the jobs are: {', '.join(JOBS)}.")
    now = utcnow()
    period = job.schedule.key(job.schedule.start(now))
    claimed = runs.claim(job, period, now=now, retry_failed_after=timedelta(0))
    if claimed is None:
        db.session.rollback()
        click.echo(f"{name} {period}: already done or running; nothing to do (see `jobs status`).")
        return
    result = runs.run(job, period, claimed, now=now)
    if result.outcome is RunOutcome.SUCCEEDED:
        click.echo(f"{name} {period}: succeeded: {_counts(result.counts)}")
        return
    click.echo(f"{name} {period}: failed: {result.error}", err=True)
    raise SystemExit(1)
