"""A chapter in which Annabel has done a little of everything, through the real services, so that her
name and address are wherever the product writes them."""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter
from referral_hub.extensions import db
from referral_hub.introductions import answering, making, outcomes
from referral_hub.introductions.models import Consent, Decision, Introduction, OutcomeKind
from referral_hub.ledger import organizing
from referral_hub.needs import services as needs
from referral_hub.relationships import interactions
from referral_hub.reports.models import TOKEN_PREFIX
from tests.factories import (
    ApiTokenFactory,
    ChapterFactory,
    InteractionFactory,
    IntroRequestFactory,
    MemberFactory,
    MembershipFactory,
)

ANN_NAME, ANN_EMAIL, ANN_PHONE = "Annabel Zedwick", "annabel.zedwick@example.org", "+44 20 7946 0999"
OLGA_TOKEN = f"{TOKEN_PREFIX}olga-reports-0123456789abcdef"


@dataclass
class World:
    chapter: Chapter
    ann: Member
    olga: Member
    bob: Member
    cleo: Member
    dan: Member
    made: Introduction  # Annabel introduced Bob and Cleo; completed, with business closed
    received: Introduction  # Dan introduced Annabel and Bob; completed
    waiting: Introduction  # Dan introduced Annabel and Cleo; waiting for answers


def _accept_all(intro: Introduction) -> None:
    for consent in db.session.scalars(select(Consent).where(Consent.introduction_id == intro.id)).all():
        answering.answer(consent, Decision.ACCEPT)


@pytest.fixture
def world() -> World:
    chapter = ChapterFactory(name="Riverside", slug="riverside")

    def member(name, email, organizer=False, **profile):
        person = MemberFactory(display_name=name, email=email, **profile)
        return person, MembershipFactory(chapter=chapter, member=person, organizer=organizer)

    olga, olga_membership = member("Olga Organizer", "olga@example.org", organizer=True)
    ann, ann_membership = member(
        ANN_NAME,
        ANN_EMAIL,
        organizer=True,
        headline="Wedding cakes for Annabel Zedwick's clients",
        company="Zedwick Cakes",
        city="Riverside",
        website="https://zedwick.example.org",
        phone=ANN_PHONE,
        bio="Baker.",
    )
    bob, _ = member("Bob Baker", "bob@example.org", phone="+44 20 7946 0111")
    cleo, _ = member("Cleo Caterer", "cleo@example.org", phone="+44 20 7946 0222")
    dan, _ = member("Dan Dealer", "dan@example.org")

    made = making.introduce(
        ann,
        first_id=bob.id,
        second_id=cleo.id,
        note="Bob bakes bread for the harbour cafes and Cleo caters their weddings: a natural pair.",
    )
    _accept_all(made)
    outcomes.report_outcome(made, cleo, OutcomeKind.BUSINESS_CLOSED, 1200)
    received = making.introduce(
        dan,
        first_id=ann.id,
        second_id=bob.id,
        note=f"{ANN_NAME} makes wedding cakes and Bob supplies the flour: you two should talk prices.",
    )
    _accept_all(received)
    waiting = making.introduce(
        dan,
        first_id=ann.id,
        second_id=cleo.id,
        note=f"Cleo needs a cake maker for August and {ANN_NAME} has the ovens free that month.",
    )
    organizing.grant(
        chapter, member_id=ann.id, amount=5, memo=f"Thanks {ANN_NAME} for the breakfast", granted_by=olga
    )
    needs.post_need(
        chapter, ann, title="A van for the wedding season", details=f"Call {ANN_NAME} on {ANN_PHONE}."
    )
    interactions.send_thanks(
        ann, bob.id, note="Thank you for the flour, from Annabel Zedwick.", introduction_id=received.id
    )
    InteractionFactory(first=ann, second=dan, recorded_by_id=dan.id, note=f"Coffee with {ANN_NAME}.")
    IntroRequestFactory(
        chapter=chapter,
        asker_membership=ann_membership,
        connector_membership=olga_membership,
        target_membership=db.session.scalars(
            select(type(ann_membership)).where(type(ann_membership).member_id == dan.id)
        ).one(),
        note=f"{ANN_NAME} would like to meet Dan about the harbour festival.",
    )
    ApiTokenFactory(organizer=ann_membership, name="Annabel's spreadsheet")
    ApiTokenFactory(organizer=olga_membership, secret=OLGA_TOKEN)
    return World(chapter, ann, olga, bob, cleo, dan, made, received, waiting)
