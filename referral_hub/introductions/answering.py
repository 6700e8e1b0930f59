"""Answering an introduction: the email link, accept or decline, completion (credit, contacts
shared), cancellation when a party left, and the expiry of unanswered introductions."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from .. import events
from ..accounts import photos
from ..accounts.models import Member
from ..chapters.policy import policy_for
from ..chapters.sharing import active_members
from ..clock import utcnow
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..ledger import posting
from ..ledger.models import Kind
from ..mail.services import absolute_url, enqueue
from ..tokens import LinkExpired, LinkUnknown, LinkUsed, digest
from . import credits, guests
from .errors import IntroRefused, LinkClosed, LinkNotYours
from .models import Consent, CreditNote, Decision, Introduction, IntroState
from .queries import with_people


def consent_for_link(secret: str, *, viewer: Member | None = None, now: datetime | None = None) -> Consent:
    """The consent behind an email link, or the reason the link cannot be used."""
    consent = db.session.scalar(
        select(Consent)
        .where(Consent.token_hash == digest(secret))
        .options(db.joinedload(Consent.member), *with_people(db.joinedload(Consent.introduction)))
    )
    if consent is None:
        raise LinkUnknown()
    intro = consent.introduction
    if consent.is_guest and intro.guest_erased_at is not None:
        raise LinkUnknown()
    # The link is a bearer token: only the other party, logged in, is told it is not theirs.
    if (
        viewer is not None
        and viewer.id != consent.member_id
        and viewer.id in (intro.first_id, intro.second_id)
    ):
        raise LinkNotYours()
    if consent.decision is not None:
        raise LinkUsed()
    if intro.state in (IntroState.DECLINED, IntroState.CANCELLED):
        raise LinkClosed()
    if intro.is_expired(now or utcnow()):
        raise LinkExpired()
    return consent


def _lock(intro_id: int) -> Introduction:
    """Serialise the answers to one introduction (a row lock on PostgreSQL; SQLite writes one at a time)."""
    return db.session.scalars(
        select(Introduction)
        .where(Introduction.id == intro_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


@dataclass(frozen=True)
class GuestShares:
    """What a guest chooses to share on accepting."""

    phone: str = ""
    company: str = ""

    def checked(self) -> "GuestShares":
        phone, company = " ".join(self.phone.split()), " ".join(self.company.split())
        if len(phone) > 40:
            raise IntroRefused(_l("The phone number is too long: at most 40 characters."))
        if len(company) > 120:
            raise IntroRefused(_l("The company name is too long: at most 120 characters."))
        return GuestShares(phone=phone, company=company)


def answer(
    consent: Consent,
    decision: Decision,
    *,
    now: datetime | None = None,
    shared: GuestShares | None = None,
) -> Introduction:
    """Record one party's answer (a guest who accepts may `shared` a phone and company); the second
    acceptance completes the introduction and pays a member-to-member introducer."""
    shared = shared.checked() if shared is not None else None
    now = now or utcnow()
    intro = _lock(consent.introduction_id)
    # Another click on this link may have answered while this request waited for the lock.
    db.session.refresh(consent)
    # A guest belongs to no chapter; a member must still be in the introduction's.
    in_chapter = consent.is_guest or consent.member_id in active_members(
        intro.chapter_id, {consent.member_id}
    )
    intro.answer(consent, decision, now, in_chapter=in_chapter)
    if consent.is_guest and decision is Decision.ACCEPT and shared is not None:
        intro.guest_phone, intro.guest_company = shared.phone or None, shared.company or None
    db.session.flush()
    events.introduction_answered.send(consent)
    if decision is Decision.DECLINE:
        intro.decline(now)
        events.introduction_closed.send(intro)
        # Quietly: the others learn only that it did not go ahead, never who said no or why (the
        # members among them: a guest is not written to again).
        other = intro.other_party(consent.member_id)
        _tell_not_ahead(intro, [p for p in (other, intro.introducer) if p.id is not None])
    elif _acceptances(intro) == 2:
        _complete(intro, now)
    db.session.flush()
    return intro


def _acceptances(intro: Introduction) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Consent)
        .where(Consent.introduction_id == intro.id, Consent.decision == Decision.ACCEPT)
    )


def _tell_not_ahead(intro: Introduction, people) -> None:
    for person in people:
        enqueue("intro_not_ahead", to=person.email, intro=intro, person=person)


def _complete(intro: Introduction, now: datetime) -> None:
    # A party may have left the chapter since they accepted. The shared lock makes a leave that is
    # being written wait for this completion, and this one read what a finished leave wrote.
    party_ids = {p.id for p in intro.members}
    members = active_members(intro.chapter_id, {intro.introducer_id, *party_ids}, lock=True)
    if not party_ids <= members:
        # Those still in the chapter hear only that it did not go ahead.
        intro.cancel(now)
        events.introduction_closed.send(intro)
        _tell_not_ahead(intro, [p for p in (*intro.members, intro.introducer) if p.id in members])
        return
    policy = policy_for(intro.chapter)
    # A guest introduction pays only when the member reports that they met (see outcomes).
    note = CreditNote.AWAITING_OUTCOME if intro.is_guest else credits.credit_note(intro, policy, now, members)
    intro.complete(now, note)
    db.session.flush()
    events.introduction_completed.send(intro)
    if intro.credit_note is CreditNote.CREDITED:
        posting.post(
            intro.chapter,
            key=f"intro:{intro.id}:completed",
            kind=Kind.INTRO_COMPLETED,
            memo=f"Introduced {intro.first.display_name} and {intro.second.display_name}",
            caused_by=intro.introducer,
            entries=[(posting.POOL, -policy.intro_reward), (intro.introducer, policy.intro_reward)],
            subject_type="introduction",
            subject_id=intro.id,
        )
    _tell_completed(intro, policy)


def _tell_completed(intro: Introduction, policy) -> None:
    """Each party gets the other's contact details; the introducer hears what they earned."""
    link = absolute_url("introductions.detail", intro_id=intro.id)
    for party in intro.members:
        other = intro.other_party(party.id)
        enqueue(
            "intro_completed",
            to=party.email,
            **intro.chapter.speaking_to(party),
            intro=intro,
            party=party,
            other=other,
            link=link,
            **photos.in_email(other),
        )
    if intro.is_guest:
        guests.email_guest(
            "intro_completed_guest",
            intro,
            other=intro.first,
            register_link=absolute_url("accounts.register"),
        )
        enqueue(
            "intro_guest_accepted",
            to=intro.introducer.email,
            **intro.chapter.speaking_to(intro.introducer),
            intro=intro,
            reward=policy.guest_intro_credits,
            link=link,
        )
        return
    enqueue(
        "intro_credited",
        to=intro.introducer.email,
        intro=intro,
        reward=policy.intro_reward,
        policy=policy,
        link=link,
    )


def expire_introductions(
    *, now: datetime | None = None, pair: tuple[int, int, int | str] | None = None
) -> int:
    """Every pending introduction past its expiry becomes expired (only the pair's, given
    `pair` = (chapter id, low id, high id), or (chapter id, member id, guest address key));
    returns how many."""
    now = now or utcnow()
    expiry = Introduction.expire_lapsed(now)
    if pair is not None:
        chapter_id, one, other = pair
        expiry = expiry.where(
            Introduction.chapter_id == chapter_id,
            *(
                (Introduction.first_id == one, Introduction.guest_key == other)
                if isinstance(other, str)
                else (Introduction.pair_low_id == one, Introduction.pair_high_id == other)
            ),
        )
    return _expire(expiry, now)


def _expire(expiry, now: datetime) -> int:
    expired = Counter(db.session.scalars(expiry.returning(Introduction.chapter_id)))
    if expired:
        events.introductions_expired.send(now, chapters=dict(expired))
    return expired.total()


def cancel_involving(member_id: int, *, now: datetime) -> int:
    """A member leaves for good: the lapsed introductions they made or are a party of expire, and the
    pending ones are cancelled, telling nobody; returns how many were cancelled."""
    involved = Introduction.involving(member_id)
    _expire(Introduction.expire_lapsed(now).where(involved), now)
    pending = db.session.scalars(
        select(Introduction)
        .where(involved, Introduction.state == IntroState.PENDING)
        .order_by(Introduction.id)
        .with_for_update()
    ).all()
    for intro in pending:
        intro.cancel(now)
        db.session.flush()
        events.introduction_closed.send(intro)
    return len(pending)


def never_send(intro: Introduction, *, now: datetime | None = None) -> None:
    """The guest asks never to be sent introductions: the address goes on the suppression list, and
    this introduction, if it still waits for the guest, is declined as quietly as any decline."""
    now = now or utcnow()
    guests.suppress(intro, now=now)
    consent = next((c for c in intro.consents if c.is_guest), None)
    if consent is not None and consent.decision is None and intro.is_awaiting_answers:
        answer(consent, Decision.DECLINE, now=now)
