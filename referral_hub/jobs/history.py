"""How long the jobs' own records are kept: past runs are deleted, each job's last success stays."""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ..extensions import db
from .models import JobRun, RunOutcome

# Long enough to see a pattern in failures (`jobs status` shows the latest run and success).
RUNS_KEPT = timedelta(days=90)


def prune_runs(now: datetime) -> int:
    """Delete the finished runs started more than RUNS_KEPT ago, but each job's last success (what
    `jobs status` and /metrics report); return how many went."""
    last_successes = (
        select(func.max(JobRun.id)).where(JobRun.outcome == RunOutcome.SUCCEEDED).group_by(JobRun.job)
    )
    result = db.session.execute(
        delete(JobRun)
        .where(
            JobRun.outcome != RunOutcome.RUNNING,
            JobRun.started_at < now - RUNS_KEPT,
            JobRun.id.not_in(last_successes),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
