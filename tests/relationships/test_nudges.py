"""Keep in touch: strong relationships gone quiet for 60 days are nudged; snooze and dismiss."""

from datetime import timedelta

import pytest

from referral_hub.chapters import services as chapters
from referral_hub.chapters.models import Membership
from referral_hub.errors import NotFound
from referral_hub.extensions import db
from referral_hub.relationships import nudges
from referral_hub.relationships.models import InteractionKind

from .conftest import NOW, days_after, interact


def nudged(member, now=NOW) -> list[str]:
    return [nudge.other.display_name for nudge in nudges.keep_in_touch(member, now=now)]


@pytest.fixture
def ann_and_bob(member_of):
    """Ann and Bob met twice for one-to-ones (past strength 6), the last time 61 days ago."""
    ann, bob = member_of("Ann"), member_of("Bob")
    interact(ann, bob, InteractionKind.ONE_TO_ONE, at=days_after(-70))
    interact(ann, bob, InteractionKind.ONE_TO_ONE, at=days_after(-61))
    return ann, bob


def test_a_strong_relationship_quiet_for_sixty_days_is_nudged_on_both_sides(ann_and_bob):
    ann, bob = ann_and_bob
    assert nudged(ann) == ["Bob"] and nudged(bob) == ["Ann"]
    [nudge] = nudges.keep_in_touch(ann, now=NOW)
    assert nudge.last_kind is InteractionKind.ONE_TO_ONE and nudge.last_interaction_at == days_after(-61)
    assert nudge.past_strength > nudges.NUDGE_PAST_STRENGTH > nudge.strength


def test_no_nudge_before_sixty_days(ann_and_bob):
    ann, _ = ann_and_bob
    assert nudged(ann, now=days_after(-2)) == []


def test_a_relationship_that_was_never_strong_is_not_nudged(member_of):
    ann, cleo = member_of("Ann"), member_of("Cleo")
    interact(ann, cleo, InteractionKind.ONE_TO_ONE, at=days_after(-100))
    assert nudged(ann) == []


def test_a_new_interaction_ends_the_nudge(ann_and_bob):
    ann, bob = ann_and_bob
    interact(bob, ann, InteractionKind.THANKS, at=days_after(-1))
    assert nudged(ann) == []


def test_nudges_come_strongest_first_and_only_for_members_still_in_a_shared_chapter(chapter, member_of):
    ann, bob, cleo, dan = member_of("Ann"), member_of("Bob"), member_of("Cleo"), member_of("Dan")
    interact(ann, bob, InteractionKind.BUSINESS_CLOSED, at=days_after(-90))
    interact(ann, cleo, InteractionKind.BUSINESS_CLOSED, at=days_after(-65))
    interact(ann, dan, InteractionKind.BUSINESS_CLOSED, at=days_after(-65))
    chapters.leave(db.session.scalar(db.select(Membership).filter_by(member=dan)))
    assert nudged(ann) == ["Cleo", "Bob"]


def test_a_snoozed_nudge_comes_back_after_thirty_days(ann_and_bob):
    ann, bob = ann_and_bob
    until = nudges.snooze(ann, bob.id, now=NOW)
    assert until == NOW + nudges.SNOOZE
    assert nudged(ann) == [] and nudged(ann, now=days_after(29)) == []
    assert nudged(ann, now=days_after(30) + timedelta(seconds=1)) == ["Bob"]
    assert nudged(bob) == ["Ann"], "a snooze is Ann's alone"


def test_a_dismissed_nudge_stays_away_until_a_new_interaction_lapses_in_turn(ann_and_bob):
    ann, bob = ann_and_bob
    nudges.snooze(ann, bob.id, now=NOW)
    nudges.dismiss(ann, bob.id, now=NOW)
    assert nudged(ann, now=days_after(365)) == []
    interact(ann, bob, InteractionKind.ONE_TO_ONE, at=days_after(10))
    assert nudged(ann, now=days_after(40)) == []
    assert nudged(ann, now=days_after(71)) == ["Bob"]


def test_only_a_relationship_you_have_can_be_snoozed_or_dismissed(member_of):
    ann, eve = member_of("Ann"), member_of("Eve")
    for respond in (nudges.snooze, nudges.dismiss):
        with pytest.raises(NotFound):
            respond(ann, eve.id, now=NOW)
        with pytest.raises(NotFound):
            respond(ann, ann.id, now=NOW)
