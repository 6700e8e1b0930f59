"""Relationship rules: interactions recorded by the events that cause them, strength that fades with
a 90-day half-life, how two members know each other, and keep-in-touch nudges.

Strength(a, b) = Σ weight × 0.5^(age_days / 90) over the pair's interactions (DESIGN.md §3). It is
kept current incrementally: each new interaction folds into the pair's `relationships` row in one
upsert, and a reader applies the decay from the last interaction to now in SQL, so no page ever
loads a pair's interactions to sum them.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Float, and_, case, exists, func, literal, or_, select, union_all, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement

from ..accounts.models import Member
from ..chapters.models import Membership, MembershipStatus
from ..chapters.sharing import shares_chapter
from ..clock import utcnow
from ..database import UTCDateTime, seconds_between, upsert
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..introductions.models import Introduction, IntroState, Outcome, OutcomeKind
from ..mail.services import absolute_url, enqueue
from .models import (
    NOTE_LENGTH,
    Interaction,
    InteractionKind,
    IntroRequest,
    NudgeResponse,
    Relationship,
    RequestState,
)

HALF_LIFE_DAYS = 90

# The plain labels of a pair's current strength. For scale: a one-to-one adds 3, a completed
# introduction between the two adds 2, business closed adds 4, a thank-you note adds 1.
STRONG = 5.0  # e.g. a one-to-one and an introduction to each other this month
WARM = 2.0  # e.g. one one-to-one in the last seven weeks
FADING = 0.25  # anything weaker is "none": a single note fades below this after six months

# Keep in touch: a relationship that was at least this strong at its last interaction, and has had
# none for NUDGE_AFTER, is worth refreshing.
NUDGE_PAST_STRENGTH = 4.0
NUDGE_AFTER = timedelta(days=60)
SNOOZE = timedelta(days=30)

HISTORY_LENGTH = 20
NUDGES_SHOWN = 5
ONE_TO_ONE_NOTE_LENGTH = 200
ONE_TO_ONE_OLDEST = timedelta(days=365)


class RelationshipRefused(DomainError):
    code = "relationship_refused"


class AlreadyRecorded(Conflict):
    code = "already_recorded"


def label_for(strength: float | None) -> str:
    if strength is None or strength < FADING:
        return "none"
    if strength >= STRONG:
        return "strong"
    if strength >= WARM:
        return "warm"
    return "fading"


def ordered(a_id: int, b_id: int) -> tuple[int, int]:
    if a_id == b_id:
        raise ValueError("a relationship is between two different members")
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


# Strength in SQL ---------------------------------------------------------------------------------


def days_between(start: ColumnElement, end: ColumnElement) -> ColumnElement:
    """(end − start) in fractional days, computed by the database."""
    return seconds_between(start, end) / 86400.0


def decay(days: ColumnElement) -> ColumnElement:
    """0.5^(days / half-life): what a weight is worth `days` after it was earned."""
    return func.power(literal(0.5, Float()), days / float(HALF_LIFE_DAYS))


def at(moment: datetime) -> ColumnElement:
    return literal(moment, UTCDateTime())


def strength_now(now: ColumnElement) -> ColumnElement:
    """The pair's strength at `now` (SQL): its strength at the last interaction, decayed since."""
    return Relationship.strength * decay(days_between(Relationship.last_interaction_at, now))


# Recording interactions -------------------------------------------------------------------------


def record(
    a_id: int,
    b_id: int,
    kind: InteractionKind,
    *,
    occurred_at: datetime,
    event_key: str,
    recorded_by_id: int | None = None,
    note: str = "",
    introduction_id: int | None = None,
) -> int | None:
    """Record one interaction and fold it into the pair's strength; None if `event_key` was recorded."""
    low, high = ordered(a_id, b_id)
    interaction_id = db.session.execute(
        upsert(Interaction)
        .values(
            pair_low_id=low,
            pair_high_id=high,
            kind=kind,
            weight=kind.weight,
            occurred_at=occurred_at,
            recorded_by_id=recorded_by_id,
            note=note,
            introduction_id=introduction_id,
            event_key=event_key,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(Interaction.id)
    ).scalar()
    if interaction_id is None:
        return None
    _fold_into_pair(low, high, kind, occurred_at)
    return interaction_id


def _fold_into_pair(low: int, high: int, kind: InteractionKind, occurred_at: datetime) -> None:
    """One upsert: the database decides concurrent interactions of a pair, one after the other.

    An interaction after the pair's last one decays the old strength to its time and adds its
    weight; one dated earlier (a one-to-one logged late) adds its weight decayed to the last one's.
    """
    pair = Relationship.__table__.c
    statement = upsert(Relationship).values(
        pair_low_id=low,
        pair_high_id=high,
        strength=float(kind.weight),
        last_interaction_at=occurred_at,
        last_kind=kind,
        interactions=1,
    )
    new = statement.excluded
    newer = new.last_interaction_at >= pair.last_interaction_at
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["pair_low_id", "pair_high_id"],
            set_={
                "strength": case(
                    (
                        newer,
                        pair.strength * decay(days_between(pair.last_interaction_at, new.last_interaction_at))
                        + new.strength,
                    ),
                    else_=pair.strength
                    + new.strength * decay(days_between(new.last_interaction_at, pair.last_interaction_at)),
                ),
                "last_interaction_at": case((newer, new.last_interaction_at), else_=pair.last_interaction_at),
                "last_kind": case((newer, new.last_kind), else_=pair.last_kind),
                "interactions": pair.interactions + 1,
            },
        )
    )


def on_introduction_completed(intro: Introduction) -> None:
    """Both parties now know each other (weight 2), and each knows the introducer better (weight 1).

    A connector's request for exactly this introduction is fulfilled: it stays paid for.
    """
    when = intro.completed_at
    record(
        intro.first_id,
        intro.second_id,
        InteractionKind.INTRODUCED,
        occurred_at=when,
        event_key=f"intro:{intro.id}:parties",
        introduction_id=intro.id,
    )
    for party_id in (intro.first_id, intro.second_id):
        record(
            intro.introducer_id,
            party_id,
            InteractionKind.INTRODUCER,
            occurred_at=when,
            event_key=f"intro:{intro.id}:introducer:{party_id}",
            introduction_id=intro.id,
        )
    db.session.execute(
        update(IntroRequest)
        .where(
            IntroRequest.state == RequestState.OPEN,
            IntroRequest.chapter_id == intro.chapter_id,
            IntroRequest.connector_id == intro.introducer_id,
            or_(
                and_(IntroRequest.asker_id == intro.first_id, IntroRequest.target_id == intro.second_id),
                and_(IntroRequest.asker_id == intro.second_id, IntroRequest.target_id == intro.first_id),
            ),
        )
        .values(state=RequestState.INTRODUCED, closed_at=when, introduction_id=intro.id)
        .execution_options(synchronize_session=False)
    )


def on_outcome_reported(outcome: Outcome) -> None:
    """Business closed between the parties (weight 4), once per introduction whoever reports it."""
    if outcome.kind is not OutcomeKind.BUSINESS_CLOSED:
        return
    intro = outcome.introduction
    record(
        intro.first_id,
        intro.second_id,
        InteractionKind.BUSINESS_CLOSED,
        # Now, not the outcome's first report: a meeting reported earlier may have turned into business.
        occurred_at=utcnow(),
        event_key=f"intro:{intro.id}:business",
        recorded_by_id=outcome.reported_by_id,
        introduction_id=intro.id,
    )


def _acquaintance(member: Member, other_id: int) -> Member:
    """The other member, if the two are different people and share a chapter now."""
    if other_id == member.id:
        raise RelationshipRefused("That is you: choose another member.")
    other = db.session.get(Member, other_id)
    if other is None or not shares_chapter(member, other_id):
        raise NotFound()
    return other


def _share_a_chapter(a_id: int, b_id: ColumnElement) -> ColumnElement:
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


def log_one_to_one(
    member: Member, other_id: int, *, met_on: date, note: str = "", now: datetime | None = None
) -> int:
    """A one-to-one meeting between the member and another (weight 3), once per pair per day."""
    now = now or utcnow()
    other = _acquaintance(member, other_id)
    if met_on > now.date():
        raise RelationshipRefused("Log a one-to-one once it has happened: choose today or an earlier day.")
    if met_on < (now - ONE_TO_ONE_OLDEST).date():
        raise RelationshipRefused("Log one-to-ones from the last twelve months.")
    note = " ".join((note or "").split())
    if len(note) > ONE_TO_ONE_NOTE_LENGTH:
        raise RelationshipRefused(
            f"Keep the line about the meeting under {ONE_TO_ONE_NOTE_LENGTH} characters."
        )
    low, high = ordered(member.id, other.id)
    interaction_id = record(
        member.id,
        other.id,
        InteractionKind.ONE_TO_ONE,
        # Midday of the day they met, but never later than now.
        occurred_at=min(datetime.combine(met_on, time(12), tzinfo=UTC), now),
        event_key=f"one_to_one:{low}:{high}:{met_on.isoformat()}",
        recorded_by_id=member.id,
        note=note,
    )
    if interaction_id is None:
        raise AlreadyRecorded(
            f"A one-to-one between you and {other.display_name} on {met_on:%d %B %Y} is already logged."
        )
    return interaction_id


def send_thanks(
    member: Member,
    recipient_id: int,
    *,
    note: str,
    introduction_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """A thank-you note (weight 1), emailed to the recipient; one a day from one member to another."""
    now = now or utcnow()
    recipient = _acquaintance(member, recipient_id)
    note = (note or "").strip()
    if not note:
        raise RelationshipRefused(f"Write your thank-you note to {recipient.display_name}.")
    if len(note) > NOTE_LENGTH:
        raise RelationshipRefused(f"Keep the note under {NOTE_LENGTH} characters.")
    intro = None
    if introduction_id:
        intro = db.session.get(Introduction, introduction_id)
        if (
            intro is None
            or intro.state is not IntroState.COMPLETED
            or not (intro.involves(member.id) and intro.involves(recipient.id))
        ):
            raise RelationshipRefused("Thank someone for an introduction you were both part of.")
    interaction_id = record(
        member.id,
        recipient.id,
        InteractionKind.THANKS,
        occurred_at=now,
        event_key=f"thanks:{member.id}:{recipient.id}:{now.date().isoformat()}",
        recorded_by_id=member.id,
        note=note,
        introduction_id=intro.id if intro else None,
    )
    if interaction_id is None:
        raise AlreadyRecorded(f"You have already thanked {recipient.display_name} today.")
    enqueue(
        "thanks_note",
        to=recipient.email,
        sender=member,
        recipient=recipient,
        note=note,
        intro=intro,
        link=absolute_url("chapters.member_profile", member_id=member.id),
    )
    return interaction_id


# Reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acquaintance:
    """How two members know each other: current strength, its label, the last interaction, history."""

    strength: float
    last_interaction_at: datetime | None
    last_kind: InteractionKind | None
    interactions: int
    history: list[Interaction]

    @property
    def label(self) -> str:
        return label_for(self.strength)


def acquaintance(member: Member, other: Member, *, now: datetime | None = None) -> Acquaintance:
    now = now or utcnow()
    low, high = ordered(member.id, other.id)
    pair = db.session.execute(
        select(
            strength_now(at(now)),
            Relationship.last_interaction_at,
            Relationship.last_kind,
            Relationship.interactions,
        ).where(Relationship.pair_low_id == low, Relationship.pair_high_id == high)
    ).first()
    if pair is None:
        return Acquaintance(0.0, None, None, 0, [])
    history = db.session.scalars(
        select(Interaction)
        .where(Interaction.pair_low_id == low, Interaction.pair_high_id == high)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(HISTORY_LENGTH)
    ).all()
    return Acquaintance(pair[0], pair[1], pair[2], pair[3], list(history))


def pairs_of(member_id: int | ColumnElement, now: ColumnElement, name: str):
    """Every relationship of one member as rows (other_id, strength at `now`, past_strength, last
    interaction), from either side of the pair. `member_id` and `now` may be bound parameters."""
    current = strength_now(now).label("strength")
    columns = (
        current,
        Relationship.strength.label("past_strength"),
        Relationship.last_interaction_at.label("last_interaction_at"),
        Relationship.last_kind.label("last_kind"),
    )
    return union_all(
        select(Relationship.pair_high_id.label("other_id"), *columns).where(
            Relationship.pair_low_id == member_id
        ),
        select(Relationship.pair_low_id.label("other_id"), *columns).where(
            Relationship.pair_high_id == member_id
        ),
    ).subquery(name)


@dataclass(frozen=True)
class Nudge:
    """A relationship worth refreshing."""

    other: Member
    strength: float
    past_strength: float
    last_interaction_at: datetime
    last_kind: InteractionKind

    @property
    def label(self) -> str:
        return label_for(self.strength)


def keep_in_touch(member: Member, *, now: datetime | None = None, limit: int = NUDGES_SHOWN) -> list[Nudge]:
    """Relationships that were strong at their last interaction, quiet for 60 days, with someone who
    still shares a chapter; minus the ones the member snoozed, or dismissed since that interaction."""
    now = now or utcnow()
    pairs = pairs_of(member.id, at(now), "pairs")
    muted = exists(
        select(NudgeResponse.id).where(
            NudgeResponse.member_id == member.id,
            NudgeResponse.other_id == pairs.c.other_id,
            or_(
                NudgeResponse.snoozed_until > at(now),
                NudgeResponse.dismissed_lapse_at >= pairs.c.last_interaction_at,
            ),
        )
    )
    rows = db.session.execute(
        select(
            Member, pairs.c.strength, pairs.c.past_strength, pairs.c.last_interaction_at, pairs.c.last_kind
        )
        .join(pairs, pairs.c.other_id == Member.id)
        .where(
            pairs.c.past_strength >= NUDGE_PAST_STRENGTH,
            pairs.c.last_interaction_at <= at(now - NUDGE_AFTER),
            _share_a_chapter(member.id, Member.id),
            ~muted,
        )
        .order_by(pairs.c.strength.desc(), Member.id)
        .limit(limit)
    ).all()
    return [Nudge(*row) for row in rows]


def _relationship(member: Member, other_id: int) -> Relationship:
    if other_id == member.id:
        raise NotFound()
    low, high = ordered(member.id, other_id)
    pair = db.session.get(Relationship, (low, high))
    if pair is None:
        raise NotFound()
    return pair


def _respond_to_nudge(member: Member, other_id: int, now: datetime, **response) -> None:
    statement = upsert(NudgeResponse).values(
        member_id=member.id, other_id=other_id, updated_at=now, **response
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id", "other_id"], set_={"updated_at": now, **response}
        )
    )


def snooze(member: Member, other_id: int, *, now: datetime | None = None) -> datetime:
    """Hide the nudge about this member for SNOOZE; returns when it may come back."""
    now = now or utcnow()
    _relationship(member, other_id)
    until = now + SNOOZE
    _respond_to_nudge(member, other_id, now, snoozed_until=until)
    return until


def dismiss(member: Member, other_id: int, *, now: datetime | None = None) -> None:
    """No nudge about this member until they interact again and that lapses in turn."""
    now = now or utcnow()
    pair = _relationship(member, other_id)
    _respond_to_nudge(member, other_id, now, dismissed_lapse_at=pair.last_interaction_at)
