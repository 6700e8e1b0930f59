"""Relationship fixtures: a chapter, a way to make its members, and a fixed clock."""

from datetime import UTC, datetime, timedelta

import pytest

from referral_hub.relationships import services
from referral_hub.relationships.models import InteractionKind
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

# The controlled clock: services take `now`, and the tests pass this or a day counted from it.
NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)


def days_after(days: float) -> datetime:
    return NOW + timedelta(days=days)


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside", slug="riverside")


@pytest.fixture
def member_of(chapter):
    """`member_of(name, **profile)`: a verified active member of the chapter (or of `chapter=`)."""

    def make(name: str, *, chapter=chapter, **profile):
        member = MemberFactory(display_name=name, email=f"{name.lower()}@example.org", **profile)
        MembershipFactory(chapter=chapter, member=member)
        return member

    return make


_event_numbers = iter(range(1, 10**9))


def interact(a, b, kind: InteractionKind = InteractionKind.ONE_TO_ONE, *, at: datetime = NOW):
    """Record an interaction between two members at a given moment (a fresh event each call)."""
    return services.record(a.id, b.id, kind, occurred_at=at, event_key=f"test:{next(_event_numbers)}")
