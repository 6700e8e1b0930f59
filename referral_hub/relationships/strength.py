"""Strength: interactions recorded by the events that cause them, folded into each pair's strength
with a 90-day half-life, and how two members know each other.

Strength(a, b) = Σ weight × 0.5^(age_days / 90) over the pair's interactions (DESIGN.md §3). It is
kept current incrementally: each new interaction folds into the pair's `relationships` row in one
upsert, and a reader applies the decay from the last interaction to now in SQL, so no page ever
loads a pair's interactions to sum them.
"""

import enum
import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, and_, bindparam, case, func, literal, or_, select, union_all, update
from sqlalchemy.orm import load_only
from sqlalchemy.sql.expression import ColumnElement

from ..accounts.models import Member
from ..clock import utcnow
from ..database import UTCDateTime, column_parameters, seconds_between, upsert_built_once
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..introductions.models import Introduction, Outcome, OutcomeKind
from .models import Interaction, InteractionKind, IntroRequest, Relationship, RequestState

HALF_LIFE_DAYS = 90

# The plain labels of a pair's current strength. For scale: a one-to-one adds 3, a completed
# introduction between the two adds 2, business closed adds 4, a thank-you note adds 1.
STRONG = 5.0  # e.g. a one-to-one and an introduction to each other this month
# Below an introduction's own weight (2), so that a pair just introduced reads "warm", not "fading",
# for its first five weeks; one one-to-one stays warm for three months.
WARM = 1.5
FADING = 0.25  # anything weaker is "none": a single note fades below this after six months

HISTORY_LENGTH = 20


class Strength(enum.StrEnum):
    """A pair's strength in a word: the value is a key (pages style by it), `label` is what they show."""

    NONE = "none"
    FADING = "fading"
    WARM = "warm"
    STRONG = "strong"

    @property
    def label(self) -> str:
        return STRENGTH_LABELS[self]


STRENGTH_LABELS = {
    Strength.NONE: _l("none"),
    Strength.FADING: _l("fading"),
    Strength.WARM: _l("warm"),
    Strength.STRONG: _l("strong"),
}


def label_for(strength: float | None) -> Strength:
    if strength is None or strength < FADING:
        return Strength.NONE
    if strength >= STRONG:
        return Strength.STRONG
    if strength >= WARM:
        return Strength.WARM
    return Strength.FADING


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
    db.session.flush()  # the rows the interaction names (an introduction, its author) are written first
    interaction_id = db.session.execute(
        _recording_statement(),
        {
            "pair_low_id": low,
            "pair_high_id": high,
            "kind": kind,
            "weight": kind.weight,
            "occurred_at": occurred_at,
            "recorded_by_id": recorded_by_id,
            "note": note,
            "introduction_id": introduction_id,
            "event_key": event_key,
            "created_at": utcnow(),
        },
    ).scalar()
    if interaction_id is None:
        return None
    db.session.execute(
        _folding_statement(),
        {
            "pair_low_id": low,
            "pair_high_id": high,
            "strength": float(kind.weight),
            "last_interaction_at": occurred_at,
            "last_kind": kind,
        },
    )
    return interaction_id


@upsert_built_once
def _recording_statement(insert):
    """The interaction, unless its event key was recorded: then nothing, and no id returned."""
    interactions = Interaction.__table__
    names = tuple(column.name for column in interactions.columns if column.name != "id")
    return (
        insert(interactions)
        .values(column_parameters(interactions, names))
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(interactions.c.id)
    )


@upsert_built_once
def _folding_statement(insert):
    """One upsert: the database decides concurrent interactions of a pair, one after the other.

    An interaction after the pair's last one decays the old strength to its time and adds its
    weight; one dated earlier (a one-to-one logged late) adds its weight decayed to the last one's.
    """
    relationships = Relationship.__table__
    pair = relationships.c
    names = ("pair_low_id", "pair_high_id", "strength", "last_interaction_at", "last_kind")
    statement = insert(relationships).values({**column_parameters(relationships, names), "interactions": 1})
    new = statement.excluded
    newer = new.last_interaction_at >= pair.last_interaction_at
    return statement.on_conflict_do_update(
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


def on_introduction_completed(intro: Introduction) -> None:
    """Both parties now know each other (weight 2), and each knows the introducer better (weight 1).

    A connector's request for exactly this introduction is fulfilled: it stays paid for. A guest has
    no relationships: only the member party and the introducer know each other better.
    """
    when = intro.completed_at
    if intro.second_id is None:
        party_ids = (intro.first_id,)
    else:
        party_ids = (intro.first_id, intro.second_id)
        record(
            intro.first_id,
            intro.second_id,
            InteractionKind.INTRODUCED,
            occurred_at=when,
            event_key=f"intro:{intro.id}:parties",
            introduction_id=intro.id,
        )
    for party_id in party_ids:
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
    intro = outcome.introduction
    if outcome.kind is not OutcomeKind.BUSINESS_CLOSED or intro.second_id is None:
        return
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
    def label(self) -> Strength:
        return label_for(self.strength)


def acquaintance(member: Member, other: Member, *, now: datetime | None = None) -> Acquaintance:
    """The pair's strength at `now` and its latest interactions, in one query."""
    low, high = ordered(member.id, other.id)
    rows = db.session.execute(_acquaintance_query(), {"low": low, "high": high, "now": now or utcnow()}).all()
    if not rows:
        return Acquaintance(0.0, None, None, 0, [])
    history = [row.Interaction for row in rows if row.Interaction is not None]
    return Acquaintance(rows[0][0], rows[0][1], rows[0][2], rows[0][3], history)


@functools.cache
def _acquaintance_query():
    """Built once (every profile page reads it), with the pair and now as parameters: the pair's
    row beside each of its latest interactions (one row with none if it has none)."""
    return (
        select(
            strength_now(bindparam("now", type_=UTCDateTime())),
            Relationship.last_interaction_at,
            Relationship.last_kind,
            Relationship.interactions,
            Interaction,
        )
        .outerjoin(
            Interaction,
            and_(
                Interaction.pair_low_id == Relationship.pair_low_id,
                Interaction.pair_high_id == Relationship.pair_high_id,
            ),
        )
        .where(Relationship.pair_low_id == bindparam("low"), Relationship.pair_high_id == bindparam("high"))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(HISTORY_LENGTH)
        # What the profile's history shows of each: when, what, the note, and its introduction.
        .options(
            load_only(
                Interaction.occurred_at, Interaction.kind, Interaction.note, Interaction.introduction_id
            )
        )
    )


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
