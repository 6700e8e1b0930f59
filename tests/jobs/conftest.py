"""Jobs fixtures: a chapter at work as of a fixed moment (an introduction and a paid connector request
past their expiry, a member the digest has news for), and a job that always fails."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from referral_hub.jobs import schedule
from referral_hub.jobs.schedule import Job, Schedule
from referral_hub.ledger import posting
from referral_hub.ledger.models import Kind
from tests.factories import (
    ChapterFactory,
    IntroductionFactory,
    IntroRequestFactory,
    MemberFactory,
    MembershipFactory,
    NeedFactory,
)

# The real processes' fixtures: a committed database of the test's own, and the commands started on it.
from tests.faults.conftest import live_db, processes  # noqa: F401

# A Wednesday: the week's digest fell due on Monday 08:00, the hour's expiry at 10:00.
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


@dataclass(frozen=True)
class ChapterAtWork:
    chapter_id: int
    introduction_id: int
    request_id: int
    asker_id: int
    reader_email: str


def chapter_at_work(now: datetime = NOW) -> ChapterAtWork:
    """Flushed, not committed: an introduction and a paid connector request both an hour past their
    expiry, and Ann, a caterer whom the digest can tell about a catering need."""
    chapter = ChapterFactory()
    ann = MemberFactory(
        display_name="Ann",
        email="ann@example.org",
        headline="Wedding catering",
        expertise="catering, weddings",
    )
    MembershipFactory(chapter=chapter, member=ann)
    cleo = MembershipFactory(chapter=chapter).member
    NeedFactory(chapter=chapter, asker=cleo, title="Catering for 80 wedding guests", details="In August.")
    parties = [MembershipFactory(chapter=chapter).member for _ in range(3)]
    introduction = IntroductionFactory(
        chapter=chapter,
        introducer=parties[0],
        first=parties[1],
        second=parties[2],
        created_at=now - timedelta(days=15),
        expires_at=now - timedelta(hours=1),
    )
    request = IntroRequestFactory(
        chapter=chapter, cost=1, created_at=now - timedelta(days=15), expires_at=now - timedelta(hours=1)
    )
    asker = request.asker
    posting.post(
        chapter,
        key=f"test-grant:{asker.id}",
        kind=Kind.GRANT,
        memo="credits to ask with",
        caused_by=None,
        entries=[(posting.POOL, -1), (asker, 1)],
    )
    posting.post(
        chapter,
        key=f"intro_request:{request.id}:asked",
        kind=Kind.ASK_CONNECTOR,
        memo="Asked for an introduction",
        caused_by=asker,
        entries=[(asker, -1), (posting.POOL, 1)],
        subject_type="intro_request",
        subject_id=request.id,
    )
    return ChapterAtWork(chapter.id, introduction.id, request.id, asker.id, ann.email)


class Broken(RuntimeError):
    pass


def failing_job(name: str = "flaky") -> Job:
    """An hourly job that expires introductions, then raises: none of its work may stay."""

    def run(now: datetime) -> dict[str, int]:
        schedule.expire_introductions(now=now)
        raise Broken("the flaky job broke")

    return Job(name, Schedule("hour"), run, "fails every time")


@pytest.fixture
def flaky(monkeypatch) -> Job:
    """The failing job, registered beside the real ones."""
    job = failing_job()
    monkeypatch.setitem(schedule.JOBS, job.name, job)
    return job
