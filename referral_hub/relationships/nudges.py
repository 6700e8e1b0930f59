"""Keep in touch: relationships that were strong and have gone quiet, and a member's snooze or
dismissal of the nudge about one."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import aliased, load_only
from sqlalchemy.sql.expression import ColumnElement

from ..accounts.models import Member
from ..chapters.models import Membership, MembershipStatus
from ..clock import utcnow
from ..database import UTCDateTime, column_parameters, upsert_built_once
from ..errors import NotFound
from ..extensions import db
from .models import InteractionKind, NudgeResponse, Relationship
from .strength import Strength, label_for, ordered, pairs_of

# Keep in touch: a relationship that was at least this strong at its last interaction, and has had
# none for NUDGE_AFTER, is worth refreshing.
NUDGE_PAST_STRENGTH = 4.0
NUDGE_AFTER = timedelta(days=60)
SNOOZE = timedelta(days=30)
NUDGES_SHOWN = 5


@dataclass(frozen=True)
class Nudge:
    """A relationship worth refreshing."""

    other: Member
    strength: float
    past_strength: float
    last_interaction_at: datetime
    last_kind: InteractionKind

    @property
    def label(self) -> Strength:
        return label_for(self.strength)


def keep_in_touch(member: Member, *, now: datetime | None = None, limit: int = NUDGES_SHOWN) -> list[Nudge]:
    """Relationships that were strong at their last interaction, quiet for 60 days, with someone who
    still shares a chapter; minus the ones the member snoozed, or dismissed since that interaction."""
    now = now or utcnow()
    parameters = {"member_id": member.id, "now": now, "quiet_since": now - NUDGE_AFTER, "limit": limit}
    return [Nudge(*row) for row in db.session.execute(_keep_in_touch_query(), parameters)]


@functools.cache
def _keep_in_touch_query():
    """Built once, with the member, now and the limit as parameters: the dashboard runs it on every
    view, and building and hashing a statement this size costs more than running it."""
    member_id, limit = bindparam("member_id"), bindparam("limit")
    now, quiet_since = bindparam("now", type_=UTCDateTime()), bindparam("quiet_since", type_=UTCDateTime())
    pairs = pairs_of(member_id, now, "pairs")
    muted = exists(
        select(NudgeResponse.id).where(
            NudgeResponse.member_id == member_id,
            NudgeResponse.other_id == pairs.c.other_id,
            or_(
                NudgeResponse.snoozed_until > now,
                NudgeResponse.dismissed_lapse_at >= pairs.c.last_interaction_at,
            ),
        )
    )
    return (
        select(
            Member, pairs.c.strength, pairs.c.past_strength, pairs.c.last_interaction_at, pairs.c.last_kind
        )
        .join(pairs, pairs.c.other_id == Member.id)
        .where(
            pairs.c.past_strength >= NUDGE_PAST_STRENGTH,
            pairs.c.last_interaction_at <= quiet_since,
            _share_a_chapter(member_id, Member.id),
            ~muted,
        )
        .order_by(pairs.c.strength.desc(), Member.id)
        .limit(limit)
        .options(load_only(Member.display_name))  # the other member's name is all a nudge shows
    )


def _share_a_chapter(a_id: ColumnElement, b_id: ColumnElement) -> ColumnElement:
    """SQL: the two members are active in one chapter now."""
    theirs = aliased(Membership)
    return exists(
        select(Membership.id)
        .join(theirs, theirs.chapter_id == Membership.chapter_id)
        .where(
            Membership.member_id == a_id,
            Membership.status == MembershipStatus.ACTIVE,
            theirs.member_id == b_id,
            theirs.status == MembershipStatus.ACTIVE,
        )
    )


def _relationship(member: Member, other_id: int) -> Relationship:
    if other_id == member.id:
        raise NotFound()
    low, high = ordered(member.id, other_id)
    pair = db.session.get(Relationship, (low, high))
    if pair is None:
        raise NotFound()
    return pair


def _respond_to_nudge(member: Member, other_id: int, now: datetime, answer: str, moment: datetime) -> None:
    parameters = {"member_id": member.id, "other_id": other_id, "updated_at": now, answer: moment}
    db.session.execute(_responding_statement(answer), parameters)


@upsert_built_once
def _responding_statement(insert, answer: str):
    """The member's response about the other, `answer` (snoozed_until or dismissed_lapse_at) replacing
    their earlier one of that kind."""
    responses = NudgeResponse.__table__
    statement = insert(responses).values(
        column_parameters(responses, ("member_id", "other_id", "updated_at", answer))
    )
    return statement.on_conflict_do_update(
        index_elements=["member_id", "other_id"],
        set_={name: statement.excluded[name] for name in ("updated_at", answer)},
    )


def snooze(member: Member, other_id: int, *, now: datetime | None = None) -> datetime:
    """Hide the nudge about this member for SNOOZE; returns when it may come back."""
    now = now or utcnow()
    _relationship(member, other_id)
    until = now + SNOOZE
    _respond_to_nudge(member, other_id, now, "snoozed_until", until)
    return until


def dismiss(member: Member, other_id: int, *, now: datetime | None = None) -> None:
    """No nudge about this member until they interact again and that lapses in turn."""
    now = now or utcnow()
    pair = _relationship(member, other_id)
    _respond_to_nudge(member, other_id, now, "dismissed_lapse_at", pair.last_interaction_at)
