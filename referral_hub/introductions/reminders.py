"""Reminders: a party who has not answered gets one email once half of `intro_expiry_days` has passed."""

from datetime import datetime

from sqlalchemy import func, literal, select, update

from ..chapters.models import POLICY_SETTINGS, ChapterPolicy
from ..database import UTCDateTime, seconds_between
from ..extensions import db
from ..mail.services import absolute_url, enqueue
from ..tokens import new_secret
from . import guests
from .models import Consent, Introduction

REMINDERS_PER_RUN = 500  # a run's batch; the next run takes the rest


def send_reminders(now: datetime) -> int:
    """Remind each party, member or guest, of a waiting introduction they have not answered, once half
    its chapter's `intro_expiry_days` has passed. The consent's `reminded_at` is set by a conditional
    UPDATE, so two runs never both send. The party's link is renewed (its secret is stored only as a
    hash): the reminder carries the new one and the first email's stops working. Returns how many."""
    days = func.coalesce(ChapterPolicy.intro_expiry_days, POLICY_SETTINGS["intro_expiry_days"][0])
    due = db.session.execute(
        select(Consent.id, Introduction)
        .join(Introduction, Introduction.id == Consent.introduction_id)
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Introduction.chapter_id)
        .where(
            Introduction.awaiting_answers(now),
            Consent.decision.is_(None),
            Consent.reminded_at.is_(None),
            seconds_between(Introduction.created_at, literal(now, UTCDateTime)) * 2 >= days * 86400,
        )
        .options(db.joinedload(Introduction.first), db.joinedload(Introduction.second))
        .order_by(Consent.id)
        .limit(REMINDERS_PER_RUN)
    ).all()
    sent = 0
    for consent_id, intro in due:
        secret, token_hash = new_secret()
        claimed = db.session.execute(
            update(Consent)
            .where(Consent.id == consent_id, Consent.reminded_at.is_(None), Consent.decision.is_(None))
            .values(reminded_at=now, token_hash=token_hash)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        consent = db.session.get(Consent, consent_id)
        db.session.refresh(consent)
        link = absolute_url("introductions.answer_link", token=secret)
        if consent.is_guest:
            guests.email_guest("intro_reminder", intro, party=intro.guest, other=intro.first, link=link)
        else:
            party = consent.member
            enqueue(
                "intro_reminder",
                to=party.email,
                **intro.chapter.speaking_to(party),
                intro=intro,
                party=party,
                other=intro.other_party(party.id),
                link=link,
            )
        sent += 1
    db.session.flush()
    return sent
