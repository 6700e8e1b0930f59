"""Making an introduction: who may be introduced, in which chapter, with what note, for which need."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import events
from ..accounts import photos
from ..accounts.models import Member
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..chapters.policy import policy_for
from ..chapters.sharing import active_members, shared_chapters
from ..clock import utcnow
from ..database import is_id
from ..errors import NotFound
from ..extensions import db
from ..mail.services import absolute_url, enqueue
from ..needs.models import Need, NeedStatus
from ..needs.services import need_for
from ..tokens import new_secret
from . import notes
from .answering import expire_introductions
from .errors import IntroRefused, NeedNotOpen, NeedUnknown
from .models import Consent, Introduction, IntroState


def introduce(
    introducer: Member,
    *,
    first_id: int,
    second_id: int,
    note: str,
    need_id: int | None = None,
    chapter_slug: str | None = None,
) -> Introduction:
    """Introduce two members to each other; each gets an email with a link to accept or decline."""
    first, second, need = _parties_and_need(introducer, first_id, second_id, need_id)
    chapter = _chapter_for(introducer, first, second, need=need, chapter_slug=chapter_slug)
    for party in (first, second):
        if not party.is_verified:
            raise IntroRefused(
                f"{party.display_name} has not verified their email address yet, so they cannot be "
                "introduced. Try again once they have."
            )
    note = notes.check(note)
    fingerprint = notes.fingerprint(note)
    if db.session.scalar(
        select(Introduction.id).where(
            Introduction.introducer_id == introducer.id, Introduction.note_fingerprint == fingerprint
        )
    ):
        raise notes.NoteRefused(f"You have used this note before. {notes.WHY_PERSONAL}")
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
    events.introduction_made.send(intro)
    _ask_parties(intro)
    db.session.flush()
    return intro


def _parties_and_need(
    introducer: Member, first_id: int, second_id: int, need_id: int | None
) -> tuple[Member, Member, Need | None]:
    if introducer.id in (first_id, second_id):
        raise IntroRefused("You cannot introduce yourself: choose two other members.")
    if first_id == second_id:
        raise IntroRefused("Choose two different members: someone cannot be introduced to themselves.")
    if not introducer.is_verified:
        raise IntroRefused("Verify your email address before you make introductions.")
    first, second = _member(first_id), _member(second_id)
    need = None
    if need_id:
        need = db.session.get(Need, need_id) if is_id(need_id) else None
        if need is None or need.status is not NeedStatus.OPEN:
            raise IntroRefused("That need is no longer open.")
    return first, second, need


def _member(member_id: int | None) -> Member:
    member = db.session.get(Member, member_id) if is_id(member_id) else None
    if member is None:
        raise IntroRefused("Choose two members of your chapter to introduce.")
    return member


def _chapter_for(
    introducer: Member, first: Member, second: Member, *, need: Need | None, chapter_slug: str | None
) -> Chapter:
    ids = {introducer.id, first.id, second.id}
    if need is None:
        return _shared_chapter(introducer, first, second, chapter_slug)
    chapter = need.chapter
    active = active_members(chapter.id, ids)
    for person in (introducer, first, second):
        if person.id not in active:
            who = "You are" if person is introducer else "One of the two people is"
            raise IntroRefused(
                f"{who} not a member of {chapter.name}: both people must be members of your chapter."
            )
    return chapter


def _shared_chapter(introducer: Member, first: Member, second: Member, chapter_slug: str | None) -> Chapter:
    """The one chapter the three share (the chosen one when they share several)."""
    candidates = shared_chapters({introducer.id, first.id, second.id})
    if chapter_slug:
        candidates = [c for c in candidates if c.slug == chapter_slug]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise IntroRefused("You share more than one chapter with these two: choose the chapter.")
    # Name nobody the introducer shares no chapter with: ids are guessable, names are not public.
    for place, party in (("first", first), ("second", second)):
        if not shared_chapters({introducer.id, party.id}):
            raise IntroRefused(
                f"The {place} person is not a member of your chapter: both people must belong to it."
            )
    raise IntroRefused(
        f"{first.display_name} and {second.display_name} do not belong to one chapter together with you."
    )


def _add(intro: Introduction) -> Introduction:
    """Date the introduction and insert it; the unique indexes decide races (one pending
    introduction per pair, one use of a note)."""
    intro.pair_low_id, intro.pair_high_id = sorted((intro.first.id, intro.second.id))
    pair = (intro.chapter.id, intro.pair_low_id, intro.pair_high_id)
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
                f"{intro.first.display_name} and {intro.second.display_name} already have an introduction "
                "waiting for their answers."
            ) from error
        raise notes.NoteRefused(f"You have used this note before. {notes.WHY_PERSONAL}") from error
    return intro


def _pending_between(chapter_id: int, low: int, high: int) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Introduction)
            .where(
                Introduction.chapter_id == chapter_id,
                Introduction.pair_low_id == low,
                Introduction.pair_high_id == high,
                Introduction.state == IntroState.PENDING,
            )
        )
        > 0
    )


def _ask_parties(intro: Introduction) -> None:
    """Each party gets a consent and an email with their own link to accept or decline."""
    for party in intro.parties:
        secret, token_hash = new_secret()
        db.session.add(Consent(introduction=intro, member=party, token_hash=token_hash))
        other = intro.other_party(party.id)
        enqueue(
            "intro_request",
            to=party.email,
            intro=intro,
            party=party,
            other=other,
            link=absolute_url("introductions.answer_link", token=secret),
            **photos.in_email(other),
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
