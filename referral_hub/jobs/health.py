"""What an operator (and /metrics) reads about the jobs: each one's last run, last success and next
due time, and whether it is overdue or failing."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from .models import JobRun, RunOutcome
from .schedule import JOBS, Job


@dataclass(frozen=True)
class JobStatus:
    name: str
    description: str
    last_period: str | None
    last_outcome: RunOutcome | None
    last_error: str
    last_success_at: datetime | None
    last_success_period: str | None
    last_duration_seconds: float | None
    last_counts: dict | None
    next_due_at: datetime
    # A due period has had no successful run for more than the job's grace: the first one after the last
    # success, else (never run) the latest one.
    overdue: bool

    @property
    def failing(self) -> bool:
        """The last run failed, or is a retry of a failed run that has not finished yet."""
        return self.last_outcome is RunOutcome.FAILED or (
            self.last_outcome is RunOutcome.RUNNING and bool(self.last_error)
        )

    @property
    def healthy(self) -> bool:
        return not (self.overdue or self.failing)


def _latest(job: Job, *conditions) -> JobRun | None:
    return db.session.scalar(
        select(JobRun)
        .where(JobRun.job == job.name, *conditions)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
    )


def job_status(job: Job, now: datetime) -> JobStatus:
    last = _latest(job)
    success = _latest(job, JobRun.outcome == RunOutcome.SUCCEEDED)
    due_period, due_at = job.schedule.last_due(now)
    done = success is not None and success.period == due_period
    running_now = job.schedule.runnable(now) is not None
    # Not only the latest period: a job that runs every quarter hour is never 15 minutes into its latest.
    missed_since = job.schedule.following_due_at(success.started_at) if success else due_at
    return JobStatus(
        name=job.name,
        description=job.description,
        last_period=last.period if last else None,
        last_outcome=last.outcome if last else None,
        last_error=last.error if last else "",
        last_success_at=success.finished_at if success else None,
        last_success_period=success.period if success else None,
        last_duration_seconds=success.duration_seconds if success else None,
        last_counts=success.counts if success else None,
        next_due_at=due_at if running_now and not done else job.schedule.following_due_at(now),
        overdue=not done and now - missed_since > job.grace,
    )


def status(now: datetime) -> list[JobStatus]:
    """Every job's status at `now`, in the registry's order."""
    return [job_status(job, now) for job in JOBS.values()]
