"""Relationship fixtures: a chapter, its members, a fixed clock, a graph of who knows whom, and helpers."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from referral_hub.extensions import db
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import Decision
from referral_hub.ledger import posting
from referral_hub.ledger.models import Kind
from referral_hub.relationships import strength
from referral_hub.relationships.models import Interaction, InteractionKind
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

# The controlled clock: services take `now`, and the tests pass this or a day counted from it.
NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)

ANN_AND_BOB_NOTE = (
    "Ann runs payroll for three bakeries and Bob just opened his second bakery: they should talk."
)
ASK_NOTE = "Tom runs the harbour restaurants and I would love to cater for his next opening."


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
    return strength.record(a.id, b.id, kind, occurred_at=at, event_key=f"test:{next(_event_numbers)}")


@pytest.fixture
def graph(chapter, member_of):
    """Ann wants to meet Tom. Around them (strength with Ann, strength with Tom, at NOW):

    Dan 3 / 3, Eve 2 / 4, Cleo 6 / 1: ranked Dan, Eve, Cleo by the weaker link.
    Fay knows only Ann; Hal knew both, long ago; Gus knows both but shares no chapter with them.
    """
    people = {name: member_of(name) for name in ("Ann", "Tom", "Cleo", "Dan", "Eve", "Fay", "Hal")}
    people["Gus"] = MembershipFactory(chapter=ChapterFactory(), member__display_name="Gus").member
    p = people
    for one, other, kinds in [
        ("Dan", "Ann", [InteractionKind.ONE_TO_ONE]),
        ("Dan", "Tom", [InteractionKind.ONE_TO_ONE]),
        ("Eve", "Ann", [InteractionKind.INTRODUCED]),
        ("Eve", "Tom", [InteractionKind.BUSINESS_CLOSED]),
        ("Cleo", "Ann", [InteractionKind.ONE_TO_ONE, InteractionKind.ONE_TO_ONE]),
        ("Cleo", "Tom", [InteractionKind.THANKS]),
        ("Fay", "Ann", [InteractionKind.BUSINESS_CLOSED, InteractionKind.BUSINESS_CLOSED]),
        ("Gus", "Ann", [InteractionKind.BUSINESS_CLOSED]),
        ("Gus", "Tom", [InteractionKind.BUSINESS_CLOSED]),
    ]:
        for kind in kinds:
            interact(p[one], p[other], kind, at=NOW)
    interact(p["Hal"], p["Ann"], InteractionKind.ONE_TO_ONE, at=days_after(-400))
    interact(p["Hal"], p["Tom"], InteractionKind.ONE_TO_ONE, at=days_after(-400))
    return people


def give(chapter, member, credits: int):
    posting.post(
        chapter,
        key=f"test-grant:{member.id}:{credits}",
        kind=Kind.GRANT,
        memo="test credits",
        caused_by=None,
        entries=[(posting.POOL, -credits), (member, credits)],
    )


def interactions_between(a, b) -> list[tuple[InteractionKind, int]]:
    low, high = strength.ordered(a.id, b.id)
    return [
        (row.kind, row.weight)
        for row in db.session.scalars(
            select(Interaction)
            .where(Interaction.pair_low_id == low, Interaction.pair_high_id == high)
            .order_by(Interaction.id)
        )
    ]


def completed_introduction(chapter, introducer, first, second):
    intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=ANN_AND_BOB_NOTE)
    for consent in intro.consents:
        answering.answer(consent, Decision.ACCEPT)
    return intro
