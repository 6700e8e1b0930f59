"""The dashboard's short lists (the most active, the dormant) and its count of dormant members, read
through the kept figures' indexes: cut after the rows shown, ties and the never active included."""

from datetime import timedelta

import pytest

from referral_hub.chapters.models import MembershipStatus
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.reports.members import standouts
from referral_hub.reports.models import MemberFigures
from referral_hub.web.chapters import report as dashboard
from tests.factories import ChapterFactory, MembershipFactory


@pytest.fixture
def chapter():
    return ChapterFactory()


@pytest.fixture
def join(chapter):
    """A current member named `name` with kept figures (the new membership's zeros when no figure is
    given)."""

    def add(name: str, *, status=MembershipStatus.ACTIVE, **figures):
        member = MembershipFactory(chapter=chapter, member__display_name=name, status=status).member
        if figures:
            kept = db.session.get(MemberFigures, (chapter.id, member.id))
            for figure, value in figures.items():
                setattr(kept, figure, value)
            db.session.flush()
        return member

    return add


def days_ago(days: int):
    return utcnow() - timedelta(days=days)


def names(rows) -> list[str]:
    return [row.display_name for row in rows]


def test_the_dormant_are_the_longest_inactive_first_then_the_never_active_by_name(chapter, join):
    join("Recent", last_active_at=days_ago(10))
    join("Older", last_active_at=days_ago(150))
    join("Oldest", last_active_at=days_ago(400))
    join("Zed")  # never active: no kept figures
    join("Abe", intros_received=2)  # introduced, never answered: figures without a last activity
    join("Gone", status=MembershipStatus.REMOVED, last_active_at=days_ago(900))

    assert names(standouts(chapter.id, most_active=0, dormant=10, zone="UTC").dormant) == [
        "Oldest",
        "Older",
        "Abe",
        "Zed",
    ]
    assert names(standouts(chapter.id, most_active=0, dormant=3, zone="UTC").dormant) == [
        "Oldest",
        "Older",
        "Abe",
    ]
    assert names(standouts(chapter.id, most_active=0, dormant=1, zone="UTC").dormant) == ["Oldest"]


def test_the_dormant_ties_on_their_last_activity_are_by_name(chapter, join):
    when = days_ago(200)
    for name in ("Cy", "Al", "Bo"):
        join(name, last_active_at=when)
    join("Di", last_active_at=days_ago(100))

    assert names(standouts(chapter.id, most_active=0, dormant=2, zone="UTC").dormant) == ["Al", "Bo"]


def test_who_completed_an_introduction_in_90_days_is_neither_listed_nor_counted_dormant(chapter, join):
    join("Made long ago", last_active_at=days_ago(100), last_completed_at=days_ago(80), intros_completed=1)
    join("Quiet", last_active_at=days_ago(120))
    join("Never")

    overview = dashboard.overview(chapter.id, {}, zone="UTC")

    assert names(overview.dormant) == ["Quiet", "Never"]
    assert overview.dormant_total == 2
    # The summary counts activity only: it calls the first one dormant too.
    assert overview.summary["members"]["dormant"] == 3


def test_the_dormant_count_goes_past_the_list(chapter, join):
    for number in range(dashboard.DORMANT_SHOWN + 3):
        join(f"Member {number:02}", last_active_at=days_ago(100 + number))
    join("Active", last_active_at=days_ago(1))

    overview = dashboard.overview(chapter.id, {}, zone="UTC")

    assert len(overview.dormant) == dashboard.DORMANT_SHOWN
    assert overview.dormant[0].display_name == f"Member {dashboard.DORMANT_SHOWN + 2:02}"
    assert overview.dormant_total == dashboard.DORMANT_SHOWN + 3


def test_the_most_active_are_cut_after_the_last_shown_with_ties_by_name(chapter, join):
    join("Top", intros_completed=4, needs_posted=1)
    join("Cy", intros_completed=1, needs_posted=2)
    join("Al", intros_completed=3)
    join("Bo", needs_posted=3)
    join("Low", needs_posted=1)
    join("Idle", intros_received=5)  # neither gave nor asked
    join("Left", status=MembershipStatus.REMOVED, intros_completed=9)

    assert names(standouts(chapter.id, most_active=3, dormant=0, zone="UTC").most_active) == [
        "Top",
        "Al",
        "Bo",
    ]
    assert names(standouts(chapter.id, most_active=10, dormant=0, zone="UTC").most_active) == [
        "Top",
        "Al",
        "Bo",
        "Cy",
        "Low",
    ]
