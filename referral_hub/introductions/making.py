"""Making an introduction: who may be introduced, in which chapter, with what note, for which need."""

import functools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from .. import events
from ..accounts import photos
from ..accounts.models import Member, email_key_of
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..chapters.policy import policy_for
from ..chapters.sharing import active_members, shared_chapters
from ..clock import utcnow
from ..database import is_id
from ..errors import NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..mail.services import absolute_url, enqueue
from ..needs.models import Need, NeedStatus
from ..needs.services import need_for
from ..tokens import new_secret
from . import guests, notes
from .answering import expire_introductions
from .errors import IntroRefused, NeedNotOpen, NeedUnknown
from .guests import GuestDetails
from .models import Consent, Introduction, IntroState


def introduce(
    introducer: Member,
    *,
    first_id: int,
    second_id: int | None = None,
    guest: GuestDetails | None = None,
    note: str,
    need_id: int | None = None,
    chapter_slug: str | None = None,
) -> Introduction:
    """Introduce a member to another member, or to a guest (`guest` in place of `second_id`); each
    party gets an email with a link to accept or decline."""
    if guest is not None:
        return _introduce_guest(
            introducer, first_id, guest, note=note, need_id=need_id, chapter_slug=chapter_slug
        )
    first, second, need = _parties_and_need(introducer, first_id, second_id, need_id)
    chapter = _chapter_for(introducer, first, second, need=need, chapter_slug=chapter_slug)
    _require_verified((first, second))
    note, fingerprint = _checked_note(introducer, note)
    intro = _add(
        Introduction(
            chapter=chapter,
            introducer=introducer,
            first=first,
            second=second,
            need=need,
            note=note,
            note_fingerprint=fingerprint,
        )
    )
    return _announce(intro)


def _introduce_guest(
    introducer: Member,
    first_id: int,
    guest: GuestDetails,
    *,
    note: str,
    need_id: int | None,
    chapter_slug: str | None,
) -> Introduction:
    """A member to someone outside the chapter, by address: refused for a suppressed address, and past
    the introducer's `daily_guest_intros`."""
    if introducer.id == first_id:
        raise IntroRefused(_l("You cannot introduce yourself: choose another member."))
    if not introducer.is_verified:
        raise IntroRefused(_l("Verify your email address before you make introductions."))
    (first,) = _members(first_id)
    need = _open_need_by_id(need_id)
    guest = guest.checked()
    if email_key_of(guest.email) in {email_key_of(introducer.email), email_key_of(first.email)}:
        raise IntroRefused(_l("The guest's address must be someone else's: not yours, nor the member's."))
    if guests.is_suppressed(guest.email):
        raise IntroRefused(guests.SUPPRESSED)
    chapter = _chapter_for(introducer, first, None, need=need, chapter_slug=chapter_slug)
    _require_verified((first,))
    note, fingerprint = _checked_note(introducer, note)
    policy = policy_for(chapter)
    # Locking the introducer makes two guest introductions at once count one after the other.
    db.session.execute(select(Member.id).where(Member.id == introducer.id).with_for_update())
    if _guest_intros_today(introducer, chapter) >= policy.daily_guest_intros:
        raise IntroRefused(
            _l(
                "You have reached today's limit of %(n)d introductions to guests. Try again tomorrow.",
                n=policy.daily_guest_intros,
            )
        )
    intro = _add(
        Introduction(
            chapter=chapter,
            introducer=introducer,
            first=first,
            need=need,
            note=note,
            note_fingerprint=fingerprint,
            guest_key=guests.address_keys(guest.email)[0],
            guest_name=guest.name,
            guest_email=guest.email,
            guest_about=guest.about or None,
        )
    )
    return _announce(intro)


def _guest_intros_today(introducer: Member, chapter: Chapter) -> int:
    """The introducer's guest introductions since midnight in the chapter's time zone."""
    now = utcnow()
    local = now.astimezone(ZoneInfo(chapter.timezone or "UTC"))
    midnight = datetime.combine(local.date(), time.min, tzinfo=local.tzinfo)
    return db.session.scalar(
        select(func.count())
        .select_from(Introduction)
        .where(
            Introduction.introducer_id == introducer.id,
            Introduction.created_at >= midnight,
            Introduction.guest_key.is_not(None),
        )
    )


def _require_verified(parties) -> None:
    for party in parties:
        if not party.is_verified:
            raise IntroRefused(
                _l(
                    "%(name)s has not verified their email address yet, so they cannot be introduced. "
                    "Try again once they have.",
                    name=party.display_name,
                )
            )


def _checked_note(introducer: Member, note: str) -> tuple[str, str]:
    note = notes.check(note)
    fingerprint = notes.fingerprint(note)
    if db.session.scalar(
        select(Introduction.id).where(
            Introduction.introducer_id == introducer.id, Introduction.note_fingerprint == fingerprint
        )
    ):
        raise notes.NoteRefused(notes.used_before())
    return note, fingerprint


def _announce(intro: Introduction) -> Introduction:
    _ask_parties(intro)
    # One flush inserts the consents and the emails; the event comes last because its kept figures lock
    # the chapter's day row until the commit, and the emails are rendered before it, not under it.
    db.session.flush()
    events.introduction_made.send(intro)
    return intro


def _parties_and_need(
    introducer: Member, first_id: int, second_id: int, need_id: int | None
) -> tuple[Member, Member, Need | None]:
    if introducer.id in (first_id, second_id):
        raise IntroRefused(_("You cannot introduce yourself: choose two other members."))
    if first_id == second_id:
        raise IntroRefused(_("Choose two different members: someone cannot be introduced to themselves."))
    if not introducer.is_verified:
        raise IntroRefused(_("Verify your email address before you make introductions."))
    first, second = _members(first_id, second_id)
    return first, second, _open_need_by_id(need_id)


def _open_need_by_id(need_id: int | None) -> Need | None:
    if not need_id:
        return None
    need = db.session.get(Need, need_id) if is_id(need_id) else None
    if need is None or need.status is not NeedStatus.OPEN:
        raise IntroRefused(_("That need is no longer open."))
    return need


def _members(*member_ids: int | None) -> list[Member]:
    """The members with these ids, in this order, read in one query."""
    found = {}
    if all(is_id(member_id) for member_id in member_ids):
        found = {
            member.id: member for member in db.session.scalars(_members_query(), {"ids": list(member_ids)})
        }
    if len(found) < len(member_ids):
        raise IntroRefused(_("Choose two members of your chapter to introduce."))
    return [found[member_id] for member_id in member_ids]


@functools.cache
def _members_query():
    return select(Member).where(Member.id.in_(bindparam("ids", expanding=True)))


def _chapter_for(
    introducer: Member, first: Member, second: Member | None, *, need: Need | None, chapter_slug: str | None
) -> Chapter:
    """The chapter of the introduction (`second` None: the second party is a guest)."""
    people = (introducer, first) if second is None else (introducer, first, second)
    if need is None:
        return _shared_chapter(introducer, first, second, chapter_slug)
    chapter = need.chapter
    active = active_members(chapter.id, {person.id for person in people})
    for person in people:
        if person.id not in active:
            raise IntroRefused(
                _(
                    "You are not a member of %(chapter)s: both people must be members of your chapter.",
                    chapter=chapter.name,
                )
                if person is introducer
                else _(
                    "One of the two people is not a member of %(chapter)s: both people must be members "
                    "of your chapter.",
                    chapter=chapter.name,
                )
            )
    return chapter


def _shared_chapter(
    introducer: Member, first: Member, second: Member | None, chapter_slug: str | None
) -> Chapter:
    """The one chapter the members share (the chosen one when they share several)."""
    members = [introducer, first] if second is None else [introducer, first, second]
    candidates = shared_chapters({person.id for person in members})
    if chapter_slug:
        candidates = [c for c in candidates if c.slug == chapter_slug]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise IntroRefused(_("You share more than one chapter with these two: choose the chapter."))
    if second is None:
        raise IntroRefused(_("The member you introduce must belong to your chapter."))
    # Name nobody the introducer shares no chapter with: ids are guessable, names are not public.
    for party, refusal in (
        (first, _l("The first person is not a member of your chapter: both people must belong to it.")),
        (second, _l("The second person is not a member of your chapter: both people must belong to it.")),
    ):
        if not shared_chapters({introducer.id, party.id}):
            raise IntroRefused(refusal)
    raise IntroRefused(
        _(
            "%(first)s and %(second)s do not belong to one chapter together with you.",
            first=first.display_name,
            second=second.display_name,
        )
    )


def _add(intro: Introduction) -> Introduction:
    """Date the introduction and insert it; the unique indexes decide races (one pending
    introduction per pair, one use of a note)."""
    if intro.guest_key is None:
        intro.pair_low_id, intro.pair_high_id = sorted((intro.first.id, intro.second.id))
        pair = (intro.chapter.id, intro.pair_low_id, intro.pair_high_id)
    else:
        pair = (intro.chapter.id, intro.first.id, intro.guest_key)
    now = utcnow()
    # A lapsed introduction of the pair that the daily expiry job has not closed yet must not block this one.
    expire_introductions(now=now, pair=pair)
    intro.created_at = now
    intro.expires_at = now + timedelta(days=policy_for(intro.chapter).intro_expiry_days)
    try:
        with db.session.begin_nested():
            db.session.add(intro)
            db.session.flush()
    except IntegrityError as error:
        if _pending_between(*pair):
            raise IntroRefused(
                _(
                    "%(first)s and %(second)s already have an introduction waiting for their answers.",
                    first=intro.first.display_name,
                    second=intro.parties[1].display_name,
                )
            ) from error
        raise notes.NoteRefused(notes.used_before()) from error
    return intro


def _pending_between(chapter_id: int, one: int, other: int | str) -> bool:
    """Whether the pair (two member ids in order, or a member id and a guest's address key) has an
    introduction waiting in the chapter."""
    pair = (
        (Introduction.first_id == one, Introduction.guest_key == other)
        if isinstance(other, str)
        else (Introduction.pair_low_id == one, Introduction.pair_high_id == other)
    )
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Introduction)
            .where(Introduction.chapter_id == chapter_id, Introduction.state == IntroState.PENDING, *pair)
        )
        > 0
    )


def _ask_parties(intro: Introduction) -> None:
    """Each party gets a consent and an email with their own link to accept or decline."""
    for party in intro.members:
        secret, token_hash = new_secret()
        db.session.add(Consent(introduction=intro, member=party, token_hash=token_hash))
        other = intro.other_party(party.id)
        enqueue(
            "intro_request",
            to=party.email,
            **intro.chapter.speaking_to(party),
            intro=intro,
            party=party,
            other=other,
            link=absolute_url("introductions.answer_link", token=secret),
            **photos.in_email(other),
        )
    if intro.is_guest:
        secret, token_hash = new_secret()
        db.session.add(Consent(introduction=intro, member=None, token_hash=token_hash))
        guests.email_guest(
            "intro_request_guest",
            intro,
            other=intro.first,
            link=absolute_url("introductions.answer_link", token=secret),
        )


def open_need(member: Member, need_id: int | None) -> Need:
    """The open need of one of the member's chapters with this id (None: the id could not be read)."""
    try:
        need = need_for(member, need_id) if is_id(need_id) else None
    except NotFound:
        need = None
    if need is None:
        raise NeedUnknown()
    if need.status is not NeedStatus.OPEN:
        raise NeedNotOpen()
    return need


def introducible_members(member: Member) -> list[tuple[Chapter, list[Member]]]:
    """For the introduction form: each of the member's chapters with its other active, verified members
    (an unverified address cannot be introduced)."""
    chapters = shared_chapters({member.id})
    if not chapters:
        return []
    rows = db.session.execute(
        select(Membership.chapter_id, Member)
        .join(Member, Member.id == Membership.member_id)
        .where(
            Membership.chapter_id.in_([c.id for c in chapters]),
            Membership.status == MembershipStatus.ACTIVE,
            Member.id != member.id,
            Member.email_verified_at.is_not(None),
        )
        .order_by(func.lower(Member.display_name))
    ).all()
    by_chapter: dict[int, list[Member]] = {c.id: [] for c in chapters}
    for chapter_id, other in rows:
        by_chapter[chapter_id].append(other)
    return [(c, by_chapter[c.id]) for c in chapters]
