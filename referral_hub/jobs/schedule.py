"""The registry of periodic jobs: each one's name, schedule (its periods and when each is due) and the
services it runs. A new job is one more entry in JOBS."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..accounts.models import Member
from ..extensions import db
from ..introductions.answering import expire_introductions
from ..introductions.guests import erase_expired_guests
from ..introductions.outcomes import send_outcome_prompts
from ..introductions.reminders import send_reminders
from ..mail.services import prune as prune_mail
from ..needs.services import expire_needs
from ..relationships.connector_requests import expire_requests
from ..relationships.digest import recipients, send_digest
from .history import prune_runs

LENGTHS = {
    "quarter": timedelta(minutes=15),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}


@dataclass(frozen=True)
class Schedule:
    """Once per quarter hour, UTC hour, day or ISO week, due `offset` after the period begins."""

    unit: str
    offset: timedelta = timedelta(0)

    def __post_init__(self):
        if self.unit not in LENGTHS or not timedelta(0) <= self.offset < LENGTHS[self.unit]:
            raise ValueError(f"no such schedule: every {self.unit}, {self.offset} in")

    @property
    def length(self) -> timedelta:
        return LENGTHS[self.unit]

    def start(self, now: datetime) -> datetime:
        """The beginning of the period that holds `now`."""
        now = now.astimezone(UTC)
        if self.unit == "quarter":
            return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
        hour = now.replace(minute=0, second=0, microsecond=0)
        if self.unit == "hour":
            return hour
        day = hour.replace(hour=0)
        return day if self.unit == "day" else day - timedelta(days=day.weekday())

    def key(self, start: datetime) -> str:
        """The period's name in `job_runs`: `2026-12-03T11:45`, `2026-12-03T11`, `2026-12-03`, `2026-W49`."""
        if self.unit == "quarter":
            return start.strftime("%Y-%m-%dT%H:%M")
        if self.unit == "hour":
            return start.strftime("%Y-%m-%dT%H")
        if self.unit == "day":
            return start.strftime("%Y-%m-%d")
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"

    def due_at(self, start: datetime) -> datetime:
        return start + self.offset

    def runnable(self, now: datetime) -> str | None:
        """The period a worker runs at `now`: the current one once it is due, else None (a period whose
        time has passed is not run late: the next period's run does its work)."""
        start = self.start(now)
        return self.key(start) if now >= self.due_at(start) else None

    def last_due(self, now: datetime) -> tuple[str, datetime]:
        """The latest period already due at `now`, and when it fell due."""
        start = self.start(now)
        if now < self.due_at(start):
            start -= self.length
        return self.key(start), self.due_at(start)

    def following_due_at(self, now: datetime) -> datetime:
        """When the period after the latest due one falls due."""
        _, due = self.last_due(now)
        return due + self.length


@dataclass(frozen=True)
class Job:
    """A periodic job: `run(now)` calls the services, flushes, and returns what it did, counted."""

    name: str
    schedule: Schedule
    run: Callable[[datetime], dict[str, int]]
    description: str
    # How long past its due time a period may stay without a successful run before it counts as overdue.
    grace: timedelta = timedelta(minutes=15)


def expire(now: datetime) -> dict[str, int]:
    """Introductions, needs and connector requests whose time is up (`flask intros expire`)."""
    introductions = expire_introductions(now=now)
    needs = expire_needs(now=now)
    introduced, expired = expire_requests(now=now)
    return {
        "introductions": introductions,
        "needs": needs,
        "requests_introduced": introduced,
        "requests_refunded": expired,
    }


def digest(now: datetime) -> dict[str, int]:
    """This week's digest for each member who takes it, has not had it, and whose local Monday 08:00 has
    come (their own zone, else their first chapter's)."""
    sent = sum(
        send_digest(db.session.get(Member, member_id), now=now)
        for member_id in recipients(now=now, due_only=True)
    )
    return {"digests": sent}


def outcome_prompts(now: datetime) -> dict[str, int]:
    """Ask each party of an introduction completed `outcome_prompt_days` ago what came of it, once."""
    return {"prompts": send_outcome_prompts(now)}


def reminders(now: datetime) -> dict[str, int]:
    """Remind each party who has not answered an introduction, at half its expiry, once."""
    return {"reminders": send_reminders(now)}


def guest_retention(now: datetime) -> dict[str, int]:
    """Erase guests' names and addresses `guest_retention_days` after their introduction closed."""
    return {"guests_erased": erase_expired_guests(now)}


def housekeeping(now: datetime) -> dict[str, int]:
    """Delete sent mail and dead letters past their keeping, and old job runs."""
    return {"mail_deleted": prune_mail(now), "runs_deleted": prune_runs(now)}


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("expire", Schedule("hour"), expire, "expire introductions, needs and connector requests"),
        # Every quarter hour: each run sends the digests of the zones whose Monday 08:00 has just come,
        # the half-hour (Asia/Kolkata) and 45-minute (Asia/Kathmandu) zones included.
        Job(
            "digest",
            Schedule("quarter"),
            digest,
            "queue the weekly digest at Monday 08:00 local",
            grace=timedelta(minutes=10),
        ),
        Job(
            "outcome_prompts",
            Schedule("day", timedelta(hours=9)),
            outcome_prompts,
            "ask what came of introductions",
        ),
        Job("reminders", Schedule("hour", timedelta(minutes=20)), reminders, "remind who has not answered"),
        Job(
            "guest_retention",
            Schedule("day", timedelta(hours=3)),
            guest_retention,
            "erase guests past their retention",
        ),
        Job(
            "housekeeping",
            Schedule("day", timedelta(hours=4)),
            housekeeping,
            "delete old sent mail and job runs",
        ),
    )
}
