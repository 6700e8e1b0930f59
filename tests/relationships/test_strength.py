"""Interactions and strength: the events that record them, the weights, and the 90-day half-life."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from referral_hub.extensions import db
from referral_hub.introductions import answering, making, outcomes
from referral_hub.introductions.models import Decision, OutcomeKind
from referral_hub.relationships.models import Interaction, InteractionKind, Relationship
from referral_hub.relationships.strength import (
    HISTORY_LENGTH,
    acquaintance,
    label_for,
    on_introduction_completed,
    ordered,
)
from tests.factories import MembershipFactory

from .conftest import (
    ANN_AND_BOB_NOTE,
    NOW,
    completed_introduction,
    days_after,
    interact,
    interactions_between,
)


def strength(a, b, now=NOW) -> float:
    return acquaintance(a, b, now=now).strength


def test_strength_halves_every_ninety_days(member_of):
    ann, bob = member_of("Ann"), member_of("Bob")
    interact(ann, bob, InteractionKind.ONE_TO_ONE, at=NOW)
    assert strength(ann, bob, NOW) == pytest.approx(3.0)
    assert strength(ann, bob, days_after(45)) == pytest.approx(3 * 0.5**0.5)
    assert strength(ann, bob, days_after(90)) == pytest.approx(1.5)
    assert strength(ann, bob, days_after(180)) == pytest.approx(0.75)


def test_strength_sums_each_weight_decayed_by_its_own_age(member_of):
    ann, bob = member_of("Ann"), member_of("Bob")
    interact(ann, bob, InteractionKind.BUSINESS_CLOSED, at=days_after(-90))
    interact(ann, bob, InteractionKind.THANKS, at=NOW)
    interact(ann, bob, InteractionKind.ONE_TO_ONE, at=days_after(-180))  # logged late, dated earlier
    assert strength(ann, bob, NOW) == pytest.approx(4 * 0.5 + 1 + 3 * 0.25)
    pair = db.session.get(Relationship, ordered(ann.id, bob.id))
    assert (pair.last_kind, pair.interactions) == (InteractionKind.THANKS, 3)
    assert pair.last_interaction_at == NOW


def test_a_and_b_are_the_same_pair_as_b_and_a(member_of):
    ann, bob = member_of("Ann"), member_of("Bob")
    interact(ann, bob, at=NOW)
    interact(bob, ann, at=NOW)
    assert db.session.scalar(select(func.count()).select_from(Relationship)) == 1
    assert strength(ann, bob) == strength(bob, ann) == pytest.approx(6.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(list(InteractionKind)), st.floats(min_value=0, max_value=720)),
        min_size=1,
        max_size=8,
    ),
    st.floats(min_value=0, max_value=365),
)
def test_the_strength_kept_current_equals_the_sum_over_every_interaction(chapter, events, later):
    ann, bob = (MembershipFactory(chapter=chapter).member for _ in range(2))
    for kind, days_ago in events:  # in any order, as events may be logged late
        interact(ann, bob, kind, at=days_after(-days_ago))
    now = days_after(later)
    expected = sum(kind.weight * 0.5 ** ((later + days_ago) / 90) for kind, days_ago in events)
    assert strength(ann, bob, now) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (None, "none"),
        (0.2, "none"),
        (0.25, "fading"),
        (1.49, "fading"),
        (1.5, "warm"),
        (1.9999, "warm"),  # a pair introduced a moment ago
        (4.9, "warm"),
        (5.0, "strong"),
    ],
)
def test_strength_labels_have_written_down_thresholds(value, label):
    assert label_for(value) == label


def test_members_with_no_history_have_no_relationship(member_of):
    ann, bob = member_of("Ann"), member_of("Bob")
    known = acquaintance(ann, bob, now=NOW)
    assert (known.label, known.interactions, known.history) == ("none", 0, [])


def test_an_acquaintance_reads_the_latest_twenty_interactions_newest_first_in_one_query(
    member_of, count_queries
):
    ann, bob, cy = member_of("Ann"), member_of("Bob"), member_of("Cy")
    for day in range(HISTORY_LENGTH + 5):
        interact(ann, bob, InteractionKind.THANKS, at=days_after(-day))
    interact(ann, cy, InteractionKind.ONE_TO_ONE, at=NOW)  # another pair's: not in Ann and Bob's
    with count_queries() as log:
        known = acquaintance(bob, ann, now=NOW)
    assert log.count == 1
    assert known.interactions == HISTORY_LENGTH + 5
    assert [i.occurred_at for i in known.history] == [days_after(-day) for day in range(HISTORY_LENGTH)]
    assert known.strength == pytest.approx(sum(0.5 ** (day / 90) for day in range(HISTORY_LENGTH + 5)))


# The events that record interactions ------------------------------------------------------------


def test_a_completed_introduction_links_the_parties_and_each_party_to_the_introducer(chapter, member_of):
    carl, ann, bob = member_of("Carl"), member_of("Ann"), member_of("Bob")
    intro = completed_introduction(chapter, carl, ann, bob)
    assert interactions_between(ann, bob) == [(InteractionKind.INTRODUCED, 2)]
    assert interactions_between(carl, ann) == [(InteractionKind.INTRODUCER, 1)]
    assert interactions_between(carl, bob) == [(InteractionKind.INTRODUCER, 1)]
    on_introduction_completed(intro)  # a replayed hook records nothing twice
    assert db.session.scalar(select(func.count()).select_from(Interaction)) == 3


def test_a_pending_or_declined_introduction_records_nothing(chapter, member_of):
    carl, ann, bob = member_of("Carl"), member_of("Ann"), member_of("Bob")
    intro = making.introduce(carl, first_id=ann.id, second_id=bob.id, note=ANN_AND_BOB_NOTE)
    answering.answer(intro.consents[0], Decision.ACCEPT)
    answering.answer(intro.consents[1], Decision.DECLINE)
    assert db.session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_business_closed_adds_four_between_the_parties_once_whoever_reports_it(chapter, member_of):
    carl, ann, bob = member_of("Carl"), member_of("Ann"), member_of("Bob")
    intro = completed_introduction(chapter, carl, ann, bob)
    outcomes.report_outcome(intro, ann, OutcomeKind.MET)
    assert interactions_between(ann, bob) == [(InteractionKind.INTRODUCED, 2)]
    outcomes.report_outcome(intro, ann, OutcomeKind.BUSINESS_CLOSED, 500)  # the meeting led to business
    outcomes.report_outcome(intro, bob, OutcomeKind.BUSINESS_CLOSED, 700)
    assert interactions_between(ann, bob) == [
        (InteractionKind.INTRODUCED, 2),
        (InteractionKind.BUSINESS_CLOSED, 4),
    ]
