"""Interactions members record: one-to-ones once per pair per day, thank-you notes once a day."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from referral_hub.errors import NotFound
from referral_hub.extensions import db
from referral_hub.relationships import interactions, strength
from referral_hub.relationships.errors import AlreadyRecorded, RelationshipRefused
from referral_hub.relationships.models import Interaction, InteractionKind
from tests.conftest import mail_to
from tests.factories import ChapterFactory, MembershipFactory

from .conftest import NOW, completed_introduction, days_after, interactions_between


def test_logging_a_one_to_one_adds_three_once_per_pair_per_day(member_of):
    ann, bob = member_of("Ann"), member_of("Bob")
    interactions.log_one_to_one(ann, bob.id, met_on=date(2025, 6, 1), note="Coffee at the market", now=NOW)
    with pytest.raises(AlreadyRecorded, match="already logged"):
        interactions.log_one_to_one(bob, ann.id, met_on=date(2025, 6, 1), now=NOW)  # the same meeting
    interactions.log_one_to_one(bob, ann.id, met_on=date(2025, 6, 2), now=NOW)
    assert interactions_between(ann, bob) == [(InteractionKind.ONE_TO_ONE, 3)] * 2
    [latest, first] = strength.acquaintance(ann, bob, now=NOW).history
    assert first.note == "Coffee at the market" and first.recorded_by_id == ann.id
    assert latest.occurred_at == NOW, "a meeting logged for today is never dated after now"


@pytest.mark.parametrize(
    ("met_on", "message"),
    [(date(2025, 6, 3), "once it has happened"), (date(2024, 5, 1), "last twelve months")],
)
def test_a_one_to_one_outside_the_last_year_is_refused(member_of, met_on, message):
    ann, bob = member_of("Ann"), member_of("Bob")
    with pytest.raises(RelationshipRefused, match=message):
        interactions.log_one_to_one(ann, bob.id, met_on=met_on, now=NOW)
    assert db.session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_one_to_ones_are_only_with_members_you_share_a_chapter_with(member_of):
    ann = member_of("Ann")
    stranger = MembershipFactory(chapter=ChapterFactory()).member
    with pytest.raises(NotFound):
        interactions.log_one_to_one(ann, stranger.id, met_on=NOW.date(), now=NOW)
    with pytest.raises(RelationshipRefused, match="That is you"):
        interactions.log_one_to_one(ann, ann.id, met_on=NOW.date(), now=NOW)


def test_a_thank_you_note_adds_one_and_emails_the_note_once_a_day(member_of):
    ann, bob = member_of("Ann"), member_of("Bob")
    interactions.send_thanks(ann, bob.id, note="Thanks for the <b>bakery</b> lead!", now=NOW)
    [message] = mail_to(bob.email)
    assert "Thanks for the <b>bakery</b> lead!" in message.body_text
    assert "&lt;b&gt;bakery&lt;/b&gt;" in message.body_html, "member-typed text is escaped in HTML mail"
    assert f"/members/{ann.id}" in message.body_text
    with pytest.raises(AlreadyRecorded, match="already thanked Bob today"):
        interactions.send_thanks(ann, bob.id, note="Thanks again", now=NOW + timedelta(hours=1))
    interactions.send_thanks(ann, bob.id, note="And thanks today", now=days_after(1))
    assert interactions_between(ann, bob) == [(InteractionKind.THANKS, 1)] * 2


def test_thanks_for_an_introduction_must_be_for_one_you_were_both_part_of(chapter, member_of):
    carl, ann, bob, dora = member_of("Carl"), member_of("Ann"), member_of("Bob"), member_of("Dora")
    intro = completed_introduction(chapter, carl, ann, bob)
    with pytest.raises(RelationshipRefused, match="both part of"):
        interactions.send_thanks(dora, carl.id, note="Thanks!", introduction_id=intro.id, now=NOW)
    interactions.send_thanks(
        ann, carl.id, note="Thank you for introducing me to Bob.", introduction_id=intro.id
    )
    assert "for the introduction of Ann and Bob" in mail_to(carl.email)[-1].body_text
