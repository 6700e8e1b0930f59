"""Find a connector: who knows both you and the person you want to meet, and asking them (an
IntroRequest that costs credits, refunded when the connector declines or the request expires)."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Bundle, load_only

from ..accounts.models import Member
from ..chapters.models import Chapter, ChapterPolicy, Membership, MembershipStatus
from ..chapters.policy import policy_for, setting_or_default
from ..chapters.sharing import shared_chapter_ids, shared_chapters
from ..clock import utcnow
from ..database import UTCDateTime
from ..errors import NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..ledger import posting
from ..ledger.models import Kind
from ..mail.services import absolute_url, enqueue
from .errors import AlreadyAsked, RelationshipRefused
from .models import NOTE_LENGTH, InteractionKind, IntroRequest, Relationship, RequestState
from .strength import FADING, Strength, label_for, ordered, pairs_of

CONNECTORS_SHOWN = 5
ASK_NOTE_MIN = 20


@dataclass(frozen=True)
class Connector:
    """A member who knows both of you; `strength` is the weaker of the two links. `member` is their
    id and name as a row (`member.id`, `member.display_name`): the page names them and links to them."""

    member: Row
    with_you: float
    with_them: float
    your_last_kind: InteractionKind
    your_last_at: datetime
    their_last_kind: InteractionKind
    their_last_at: datetime

    @property
    def strength(self) -> float:
        return min(self.with_you, self.with_them)

    @property
    def label_with_you(self) -> Strength:
        return label_for(self.with_you)

    @property
    def label_with_them(self) -> Strength:
        return label_for(self.with_them)


def connectors_for(asker: Member, target: Member, *, now: datetime | None = None) -> list[Connector]:
    """Members of a chapter the two share who know both, ranked by min(strength(asker, c),
    strength(c, target)): an introduction is only as good as its weaker link. One query."""
    rows = db.session.execute(
        _connectors_query(), {"asker_id": asker.id, "target_id": target.id, "now": now or utcnow()}
    ).all()
    return [Connector(*row) for row in rows]


@functools.cache
def _connectors_query():
    """Built once, with the asker, the target and now as parameters: the profile page runs it on
    every view, and building and hashing a statement this size costs more than running it."""
    asker_id, target_id = bindparam("asker_id"), bindparam("target_id")
    now = bindparam("now", type_=UTCDateTime())
    yours, theirs = pairs_of(asker_id, now, "yours"), pairs_of(target_id, now, "theirs")
    weaker = case((yours.c.strength < theirs.c.strength, yours.c.strength), else_=theirs.c.strength)
    in_shared_chapter = exists(
        select(Membership.id).where(
            Membership.member_id == Member.id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.chapter_id.in_(shared_chapter_ids([asker_id, target_id])),
        )
    )
    return (
        select(
            Bundle("member", Member.id, Member.display_name),
            yours.c.strength,
            theirs.c.strength,
            yours.c.last_kind,
            yours.c.last_interaction_at,
            theirs.c.last_kind,
            theirs.c.last_interaction_at,
        )
        .join(yours, yours.c.other_id == Member.id)
        .join(theirs, theirs.c.other_id == Member.id)
        .where(yours.c.strength >= FADING, theirs.c.strength >= FADING, in_shared_chapter)
        .order_by(weaker.desc(), Member.id)
        .limit(CONNECTORS_SHOWN)
    )


# Asking a connector --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asking:
    """What the asker may ask a connector for an introduction to the target: the target (None: no
    such member), the chapters both are active in, by name, each with what asking costs there, and
    whether the asker is waiting for an answer to an ask already."""

    target: Member | None
    chapters: list[tuple[Chapter, int]]
    waiting: bool


# What a member's profile shows of them to another member (never their email address or phone).
PROFILE_SHOWN = (
    Member.display_name,
    Member.photo_version,
    Member.headline,
    Member.expertise,
    Member.ideal_referral,
    Member.company,
    Member.city,
    Member.website,
    Member.bio,
)


def asking(asker_id: int, target_id: int) -> Asking:
    """The target's profile beside the chapters both share with their costs, and whether an ask is
    open: one query."""
    rows = db.session.execute(_asking_query(), {"asker_id": asker_id, "target_id": target_id}).all()
    if not rows:
        return Asking(None, [], False)
    target, _chapter, _cost, waiting = rows[0]
    return Asking(target, [(chapter, cost) for _t, chapter, cost, _w in rows if chapter is not None], waiting)


@functools.cache
def _asking_query():
    """Built once (every profile page reads it), with the two members as parameters: the target's
    row beside each shared chapter (one row with no chapter if they share none)."""
    asker_id, target_id = bindparam("asker_id"), bindparam("target_id")
    shared = Chapter.id.in_(shared_chapter_ids([asker_id, target_id]))
    waiting = exists(
        select(IntroRequest.id).where(
            IntroRequest.asker_id == asker_id,
            IntroRequest.target_id == target_id,
            IntroRequest.state == RequestState.OPEN,
        )
    )
    return (
        select(Member, Chapter, setting_or_default("connector_cost"), waiting)
        .select_from(Member)
        .outerjoin(Chapter, shared)
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Chapter.id)
        .where(Member.id == target_id)
        .order_by(Chapter.name)
        .options(load_only(*PROFILE_SHOWN), load_only(Chapter.name, Chapter.slug))
    )


def _chapter_for_ask(asker: Member, connector: Member, target: Member, chapter_slug: str | None) -> Chapter:
    chapters = shared_chapters({asker.id, connector.id, target.id})
    if chapter_slug:
        chapters = [c for c in chapters if c.slug == chapter_slug]
    if not chapters:
        raise RelationshipRefused(
            _(
                "You, the member you asked and %(target)s need to be members of one chapter.",
                target=target.display_name,
            )
        )
    if len(chapters) > 1:
        raise RelationshipRefused(_("You share more than one chapter with them: choose the chapter."))
    return chapters[0]


def _knows_both(connector: Member, asker: Member, target: Member) -> bool:
    pairs = [ordered(connector.id, asker.id), ordered(connector.id, target.id)]
    known = db.session.scalar(
        select(func.count())
        .select_from(Relationship)
        .where(
            or_(
                *(
                    and_(Relationship.pair_low_id == low, Relationship.pair_high_id == high)
                    for low, high in pairs
                )
            )
        )
    )
    return known == 2


def ask(
    asker: Member,
    *,
    connector_id: int,
    target_id: int,
    note: str,
    chapter_slug: str | None = None,
    now: datetime | None = None,
) -> IntroRequest:
    """Ask a connector to introduce the asker to the target: charged now, emailed to the connector."""
    now = now or utcnow()
    connector, target = _people_for_ask(asker, connector_id, target_id)
    # Before any message names the connector: their id came from the form, so they may be a stranger.
    chapter = _chapter_for_ask(asker, connector, target, chapter_slug)
    note = _note_for_ask(note, connector, target)
    if not _knows_both(connector, asker, target):
        raise RelationshipRefused(
            _(
                "%(connector)s does not know both of you yet: ask someone who does.",
                connector=connector.display_name,
            )
        )
    request = _open_request(chapter, asker, connector, target, note, now)
    enqueue(
        "intro_request_to_connector",
        to=connector.email,
        **chapter.speaking_to(connector),
        request=request,
        introduce_link=absolute_url("introductions.new", first=asker.id, second=target.id),
        request_link=absolute_url("relationships.intro_request", request_id=request.id),
    )
    return request


def _people_for_ask(asker: Member, connector_id: int, target_id: int) -> tuple[Member, Member]:
    """(connector, target): three different members, the asker and the target verified."""
    if target_id == asker.id:
        raise RelationshipRefused(_("Choose someone other than yourself to be introduced to."))
    if connector_id in (asker.id, target_id):
        raise RelationshipRefused(_("Ask a third member, who knows you both, for the introduction."))
    if not asker.is_verified:
        raise RelationshipRefused(_("Verify your email address before you ask for introductions."))
    connector, target = db.session.get(Member, connector_id), db.session.get(Member, target_id)
    if target is None:
        raise NotFound()
    if connector is None:
        raise RelationshipRefused(_("Choose a member who knows you both."))
    if not target.is_verified:
        raise RelationshipRefused(
            _(
                "%(target)s has not verified their email address yet, so nobody can introduce them.",
                target=target.display_name,
            )
        )
    return connector, target


def _note_for_ask(note: str, connector: Member, target: Member) -> str:
    """The asker's personal note to the connector, trimmed, between ASK_NOTE_MIN and NOTE_LENGTH long."""
    note = (note or "").strip()
    if len(note) < ASK_NOTE_MIN:
        raise RelationshipRefused(
            _(
                "Write %(connector)s a short personal note (at least %(min)d characters): "
                "why you would like to meet %(target)s.",
                connector=connector.display_name,
                min=ASK_NOTE_MIN,
                target=target.display_name,
            )
        )
    if len(note) > NOTE_LENGTH:
        raise RelationshipRefused(_("Keep the note under %(max)d characters.", max=NOTE_LENGTH))
    return note


def _open_request(
    chapter: Chapter, asker: Member, connector: Member, target: Member, note: str, now: datetime
) -> IntroRequest:
    """The open request, charged to the asker at the chapter's connector cost."""
    policy = policy_for(chapter)
    request = IntroRequest(
        chapter=chapter,
        asker=asker,
        connector=connector,
        target=target,
        note=note,
        cost=policy.connector_cost,
        created_at=now,
        expires_at=now + timedelta(days=policy.intro_expiry_days),
    )
    # The partial unique index decides a race between two asks; the charge and the request are
    # both made or neither (InsufficientCredits rolls the request back with it).
    try:
        with db.session.begin_nested():
            db.session.add(request)
            db.session.flush()
            if request.cost:
                posting.post(
                    chapter,
                    key=f"intro_request:{request.id}:asked",
                    kind=Kind.ASK_CONNECTOR,
                    memo=f"Asked {connector.display_name} for an introduction to {target.display_name}",
                    caused_by=asker,
                    entries=[(asker, -request.cost), (posting.POOL, request.cost)],
                    subject_type="intro_request",
                    subject_id=request.id,
                )
    except IntegrityError as error:
        raise AlreadyAsked(
            _(
                "You have already asked %(connector)s to introduce you to %(target)s: wait for their answer.",
                connector=connector.display_name,
                target=target.display_name,
            )
        ) from error
    return request
