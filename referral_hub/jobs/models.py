"""JobRun: one job's run for one period; the unique (job, period) row is what makes it run once."""

import enum

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, enum_type
from ..extensions import db


class RunOutcome(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(db.Model):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    # The period's key in the job's schedule: `2026-12-03T11` (hourly), `2026-W49` (weekly).
    period: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[RunOutcome] = mapped_column(enum_type(RunOutcome, "job_run_outcome"))
    # Each claim (the first, or a takeover of a failed or abandoned run) counts one: the claim's ticket.
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at = mapped_column(UTCDateTime, nullable=False)
    finished_at = mapped_column(UTCDateTime, nullable=True)
    # While running: past this moment the run counts as abandoned (its worker died) and may be taken over.
    lease_until = mapped_column(UTCDateTime, nullable=False)
    holder: Mapped[str] = mapped_column(String(120))
    counts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The last failed attempt's error, kept while a retry runs; empty once a run succeeds.
    error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("job", "period"),
        CheckConstraint("attempts >= 1", name="attempts_positive"),
        CheckConstraint("(outcome = 'running') = (finished_at IS NULL)", name="finished_unless_running"),
        # The last successful run of each job, read by `jobs status` and /metrics.
        Index("ix_job_runs_job_outcome_finished", "job", "outcome", "finished_at"),
    )

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
