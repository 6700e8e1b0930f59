"""Running a job for a period: claim the (job, period) row in one statement, run the job in its own
transaction, record the outcome; a failed run is taken over later, and so is one whose worker died."""

import logging
import os
import socket
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, true, update

from ..clock import utcnow
from ..database import upsert
from ..extensions import db
from .models import JobRun, RunOutcome
from .schedule import JOBS, Job

log = logging.getLogger("referral_hub.jobs")

# A run that takes longer than this may be taken over; its own outcome is then not recorded.
LEASE_SECONDS = 900
# A failed run is tried again once this long has passed since it failed.
RETRY_SECONDS = 60
ERROR_LENGTH = 4000


def worker_name() -> str:
    """Who holds a run: host and process, shown by `jobs status`."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass(frozen=True)
class Claim:
    """A run this worker holds: the row's id and the attempt it claimed (its ticket)."""

    run_id: int
    attempts: int


def claim(
    job: Job, period: str, *, now: datetime, retry_failed_after: timedelta | None = None
) -> Claim | None:
    """Take (job, period) for this worker, or None when another has it: insert the row, or take over a
    failed run (once `retry_failed_after` has passed since it failed) or a running one whose lease lapsed.

    One statement decides, so any number of workers on any number of hosts get one claim between them.
    The caller commits the claim before running the job.
    """
    config = current_app.config
    if retry_failed_after is None:
        retry_failed_after = timedelta(seconds=config.get("JOBS_RETRY_SECONDS", RETRY_SECONDS))
    lease = timedelta(seconds=config.get("JOBS_LEASE_SECONDS", LEASE_SECONDS))
    table = JobRun.__table__
    insert = upsert(table).values(
        job=job.name,
        period=period,
        outcome=RunOutcome.RUNNING,
        attempts=1,
        started_at=now,
        lease_until=now + lease,
        holder=worker_name(),
        error="",
    )
    takeover = insert.on_conflict_do_update(
        index_elements=[table.c.job, table.c.period],
        set_={
            "outcome": RunOutcome.RUNNING,
            "attempts": table.c.attempts + 1,
            "started_at": insert.excluded.started_at,
            "finished_at": None,
            "lease_until": insert.excluded.lease_until,
            "holder": insert.excluded.holder,
            "counts": None,
            # The failed attempt's error stays until this one finishes: a retry still shows as failing.
        },
        where=or_(
            and_(
                table.c.outcome == RunOutcome.FAILED,
                # No delay asked (`jobs run`): take it whenever it failed.
                table.c.finished_at <= now - retry_failed_after if retry_failed_after else true(),
            ),
            and_(table.c.outcome == RunOutcome.RUNNING, table.c.lease_until < now),
        ),
    )
    row = db.session.execute(takeover.returning(table.c.id, table.c.attempts)).first()
    return None if row is None else Claim(row.id, row.attempts)


def _finish(claimed: Claim, outcome: RunOutcome, *, now: datetime, counts=None, error: str = "") -> bool:
    """Record the outcome if this worker still holds the run (its lease was not taken over)."""
    result = db.session.execute(
        update(JobRun)
        .where(
            JobRun.id == claimed.run_id,
            JobRun.attempts == claimed.attempts,
            JobRun.outcome == RunOutcome.RUNNING,
        )
        .values(outcome=outcome, finished_at=now, counts=counts, error=error[-ERROR_LENGTH:])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class RunResult:
    job: str
    period: str
    outcome: RunOutcome
    counts: dict[str, int] | None = None
    error: str = ""


def run(job: Job, period: str, claimed: Claim, *, now: datetime) -> RunResult:
    """Run a claimed job in a transaction of its own and commit its writes with its `succeeded` row;
    a job that raises leaves nothing of its work and a `failed` row with the error."""
    db.session.commit()  # the claim stands on its own: other workers see the run as taken
    started = time.monotonic()

    def clock() -> datetime:  # the run's own time line, from the `now` it was given
        return now + timedelta(seconds=time.monotonic() - started)

    try:
        counts = job.run(now)
        if not _finish(claimed, RunOutcome.SUCCEEDED, now=clock(), counts=counts):
            db.session.rollback()
            log.warning("job %s %s: taken over while it ran; its work is undone", job.name, period)
            return RunResult(job.name, period, RunOutcome.FAILED, error="taken over by another worker")
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        log.exception("job %s %s failed", job.name, period)
        detail = "".join(traceback.format_exception_only(error)).strip()
        _finish(claimed, RunOutcome.FAILED, now=clock(), error=detail)
        db.session.commit()
        return RunResult(job.name, period, RunOutcome.FAILED, error=detail)
    log.info("job %s %s succeeded: %s", job.name, period, counts)
    return RunResult(job.name, period, RunOutcome.SUCCEEDED, counts=counts)


def settled(now: datetime) -> set[tuple[str, str]]:
    """The (job, period) of each job's current period that needs no claim attempt: succeeded, or
    running under a live lease. One read, so an idle worker writes nothing."""
    periods = {(job.name, period) for job in JOBS.values() if (period := job.schedule.runnable(now))}
    if not periods:
        return set()
    rows = db.session.execute(
        select(JobRun.job, JobRun.period).where(
            or_(*(and_(JobRun.job == name, JobRun.period == period) for name, period in periods)),
            or_(
                JobRun.outcome == RunOutcome.SUCCEEDED,
                and_(JobRun.outcome == RunOutcome.RUNNING, JobRun.lease_until >= now),
            ),
        )
    )
    return {(row.job, row.period) for row in rows}


def run_due(*, now: datetime | None = None) -> list[RunResult]:
    """Run every job whose current period is due and not yet done by any worker."""
    now = now or utcnow()
    done = settled(now)
    db.session.commit()
    results = []
    for job in JOBS.values():
        period = job.schedule.runnable(now)
        if period is None or (job.name, period) in done:
            continue
        claimed = claim(job, period, now=now)
        if claimed is None:
            db.session.commit()
            continue
        results.append(run(job, period, claimed, now=now))
    return results
