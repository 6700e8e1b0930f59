"""The median hours to complete, read through the kept distribution, is exactly the middle of every
duration of the period; the kept durations follow the services and `flask reports verify` checks them."""

import random
import statistics
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, update

from referral_hub.chapters.settings import change_settings
from referral_hub.extensions import db
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import Decision, Introduction, IntroState
from referral_hub.reports import completions, counting
from referral_hub.reports.aggregates import hours_between, within
from referral_hub.reports.models import CompletionDuration, CompletionHours
from referral_hub.reports.periods import Period
from referral_hub.reports.summary import summary
from tests.factories import ChapterFactory, MembershipFactory
from tests.reports.conftest import at, introduce

FIRST_DAY = date(2025, 3, 1)


def middle_of_every_duration(chapter_id: int, period: Period) -> float | None:
    """The reference: every duration of the period as the database computes it, the middle taken here."""
    values = db.session.scalars(
        select(hours_between(Introduction.created_at, Introduction.completed_at)).where(
            Introduction.chapter_id == chapter_id,
            within(Introduction.completed_at, period.starts_at, period.ends_at),
        )
    ).all()
    return statistics.median(values) if values else None


def median_of(chapter_id: int, period: Period) -> float | None:
    return summary(chapter_id, period)["introductions"]["median_hours_to_complete"]


@pytest.fixture
def harbour():
    """Two chapters with introductions completed over 20 days after durations with microseconds, ties and
    many in the same whole hour; some introductions declined."""
    generator = random.Random(14)
    harbour, other = ChapterFactory(slug="harbour"), ChapterFactory(slug="other")
    people = {
        chapter.id: [MembershipFactory(chapter=chapter).member for _ in range(4)]
        for chapter in (harbour, other)
    }
    for number in range(90):
        chapter = harbour if number % 5 else other
        introducer, first, second = generator.sample(people[chapter.id], 3)
        completed = at("2025-03-01 00:00") + timedelta(
            days=generator.randrange(20),
            seconds=generator.randrange(86400),
            microseconds=generator.randrange(10**6),
        )
        # A third take between 5 and 6 hours, some exactly as long as another.
        hours = 5 + generator.random() if number % 3 == 0 else generator.uniform(0, 150)
        if number % 11 == 0:
            hours = 30.25
        done = number % 7 != 0
        introduce(
            chapter,
            introducer,
            first,
            second,
            completed - timedelta(hours=hours),
            state=IntroState.COMPLETED if done else IntroState.DECLINED,
            completed=completed if done else None,
            closed=None if done else completed,
        )
    db.session.flush()
    counting.rebuild(db.session.connection())
    completions.rebuild(db.session.connection())
    return harbour


def periods():
    yield Period(None, date(2025, 6, 1), "UTC")
    for first in range(0, 21, 3):
        for length in (0, 1, 4, 9):
            start = FIRST_DAY + timedelta(days=first)
            yield Period(start, start + timedelta(days=length), "UTC")
    yield Period(date(2025, 1, 1), date(2025, 2, 28), "UTC")  # before anything completed


def test_the_median_is_the_middle_of_every_duration_of_the_period(harbour):
    found = {}
    for period in periods():
        expected = middle_of_every_duration(harbour.id, period)
        assert median_of(harbour.id, period) == expected, period
        found[period] = expected
    # The cases compared include no completion, one, an odd and an even number of them.
    assert found[Period(date(2025, 1, 1), date(2025, 2, 28), "UTC")] is None
    assert len(set(found.values())) > 20


def test_a_completion_through_the_services_is_kept_as_it_happens(harbour, app):
    olga, ann, bob = (MembershipFactory(chapter=harbour).member for _ in range(3))
    intro = making.introduce(
        olga, first_id=ann.id, second_id=bob.id, note="You two both build boats and should talk this week."
    )
    answering.answer(intro.consents[0], Decision.ACCEPT)
    answering.answer(intro.consents[1], Decision.ACCEPT)
    db.session.flush()

    kept = db.session.get(CompletionDuration, intro.id)
    assert (kept.chapter_id, kept.completed_at) == (harbour.id, intro.completed_at)
    assert kept.hours == db.session.scalar(
        select(hours_between(Introduction.created_at, Introduction.completed_at)).where(
            Introduction.id == intro.id
        )
    )
    assert kept.whole_hours == 0
    assert completions.differences(db.session.connection()) == []
    today = Period(intro.completed_at.date(), intro.completed_at.date(), "UTC")
    assert median_of(harbour.id, today) == middle_of_every_duration(harbour.id, today) == kept.hours


def test_verify_reports_a_kept_duration_or_count_that_differs(harbour, app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reports", "verify"]).exit_code == 0

    row = db.session.scalars(select(CompletionDuration).order_by(CompletionDuration.introduction_id)).first()
    db.session.execute(
        update(CompletionHours)
        .where(CompletionHours.chapter_id == row.chapter_id, CompletionHours.whole_hours == row.whole_hours)
        .values(completions=CompletionHours.completions + 1)
    )
    db.session.execute(
        update(CompletionDuration)
        .where(CompletionDuration.introduction_id == row.introduction_id)
        .values(hours=CompletionDuration.hours + 1e-9)
    )
    found = completions.differences(db.session.connection())
    assert any(line.startswith("report_completion_hours") for line in found), found
    assert any(f"introduction {row.introduction_id})" in line for line in found), found

    db.session.execute(
        delete(CompletionDuration).where(CompletionDuration.introduction_id == row.introduction_id)
    )
    assert any(
        f"introduction {row.introduction_id})" in line
        for line in completions.differences(db.session.connection())
    )
    result = runner.invoke(args=["reports", "verify"])
    assert result.exit_code == 1 and "differ" in result.output


def test_a_kept_duration_of_an_introduction_not_completed_is_reported(harbour):
    pending = db.session.scalars(
        select(Introduction).where(Introduction.state == IntroState.DECLINED)
    ).first()
    db.session.execute(
        CompletionDuration.__table__.insert().values(
            introduction_id=pending.id,
            chapter_id=pending.chapter_id,
            completed_at=pending.created_at,
            hours=0.0,
            whole_hours=0,
        )
    )
    found = completions.differences(db.session.connection())
    assert found == [
        f"report_completion_durations (introduction {pending.id}): kept, but it has not completed"
    ]


def test_a_zone_change_refiles_the_counts_and_the_median_follows_the_local_days(harbour):
    organizer = MembershipFactory(chapter=harbour).member
    change_settings(harbour, changed_by=organizer, timezone="Pacific/Auckland")  # UTC+13 in March
    assert completions.differences(db.session.connection()) == []
    for day in (FIRST_DAY + timedelta(days=n) for n in range(0, 21, 2)):
        local = Period(day, day, "Pacific/Auckland")
        assert median_of(harbour.id, local) == middle_of_every_duration(harbour.id, local), day
    # The same day in UTC and in Auckland holds different completions: the counts were refiled.
    utc, auckland = (
        Period(FIRST_DAY, FIRST_DAY + timedelta(days=3), "UTC"),
        Period(FIRST_DAY, FIRST_DAY + timedelta(days=3), "Pacific/Auckland"),
    )
    assert middle_of_every_duration(harbour.id, utc) != middle_of_every_duration(harbour.id, auckland)
