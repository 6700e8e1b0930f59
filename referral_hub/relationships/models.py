"""Interaction (what two members did together), Relationship (their strength, kept current), nudge
responses, IntroRequest (asking a connector) and DigestDelivery (one weekly digest per member)."""

import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db
from ..i18n import lazy_gettext as _l


class InteractionKind(enum.StrEnum):
    INTRODUCED = "introduced"  # the two parties of a completed introduction
    INTRODUCER = "introducer"  # an introducer and one party of a completed introduction
    BUSINESS_CLOSED = "business_closed"
    ONE_TO_ONE = "one_to_one"
    THANKS = "thanks"

    @property
    def weight(self) -> int:
        return WEIGHTS[self]

    @property
    def label(self) -> str:
        return LABELS[self]


# DESIGN.md §3: what each kind of interaction adds to a pair's strength on the day it happens.
WEIGHTS = {
    InteractionKind.INTRODUCED: 2,
    InteractionKind.INTRODUCER: 1,
    InteractionKind.BUSINESS_CLOSED: 4,
    InteractionKind.ONE_TO_ONE: 3,
    InteractionKind.THANKS: 1,
}
LABELS = {
    InteractionKind.INTRODUCED: _l("introduced to each other"),
    InteractionKind.INTRODUCER: _l("an introduction"),
    InteractionKind.BUSINESS_CLOSED: _l("business closed"),
    InteractionKind.ONE_TO_ONE: _l("a one-to-one"),
    InteractionKind.THANKS: _l("a thank-you note"),
}

NOTE_LENGTH = 1000


class Interaction(db.Model):
    """One thing two members did together. Append-only: the history a relationship's strength sums."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The pair in a fixed order, so "A with B" and "B with A" are one pair.
    pair_low_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    pair_high_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[InteractionKind] = mapped_column(enum_type(InteractionKind, "interaction_kind"))
    # Stored with the row, so a change of weights never rewrites what already happened.
    weight: Mapped[int] = mapped_column(Integer)
    occurred_at = mapped_column(UTCDateTime, nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH), default="")
    introduction_id: Mapped[int | None] = mapped_column(ForeignKey("introductions.id"), nullable=True)
    # What makes the event one event (`intro:42:parties`, `one_to_one:3:9:2025-03-01`): a replayed
    # hook or a double click records nothing twice.
    event_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint("pair_low_id < pair_high_id", name="pair_ordered"),
        CheckConstraint("weight > 0", name="weight_positive"),
        Index("ix_interactions_pair_occurred", "pair_low_id", "pair_high_id", "occurred_at"),
        Index(None, "pair_high_id"),
        Index(None, "introduction_id"),
    )


class Relationship(db.Model):
    """A pair's strength, kept current as interactions arrive: `strength` is the decayed sum of
    every weight as of `last_interaction_at`; decay from then to now is applied when it is read."""

    __tablename__ = "relationships"

    pair_low_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    pair_high_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    strength: Mapped[float] = mapped_column(Float)
    last_interaction_at = mapped_column(UTCDateTime, nullable=False)
    last_kind: Mapped[InteractionKind] = mapped_column(enum_type(InteractionKind, "interaction_kind"))
    interactions: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("pair_low_id < pair_high_id", name="pair_ordered"),
        CheckConstraint("strength > 0", name="strength_positive"),
        CheckConstraint("interactions > 0", name="interactions_positive"),
        Index(None, "pair_high_id", "pair_low_id"),
    )


class NudgeResponse(db.Model):
    """A member's answer to the keep-in-touch nudge about one other member: snoozed until a date,
    or dismissed for this lapse (the nudge returns only after a new interaction lapses again)."""

    __tablename__ = "nudge_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    other_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    snoozed_until = mapped_column(UTCDateTime, nullable=True)
    dismissed_lapse_at = mapped_column(UTCDateTime, nullable=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        UniqueConstraint("member_id", "other_id"),
        CheckConstraint("member_id <> other_id", name="members_differ"),
        CheckConstraint(
            "snoozed_until IS NOT NULL OR dismissed_lapse_at IS NOT NULL", name="snoozed_or_dismissed"
        ),
    )


class RequestState(enum.StrEnum):
    OPEN = "open"
    INTRODUCED = "introduced"
    DECLINED = "declined"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return REQUEST_STATE_LABELS[self]


REQUEST_STATE_LABELS = {
    RequestState.OPEN: _l("open"),
    RequestState.INTRODUCED: _l("introduced"),
    RequestState.DECLINED: _l("declined"),
    RequestState.EXPIRED: _l("expired"),
}


class IntroRequest(db.Model):
    """A member asks a connector, who knows both, to introduce them to a target. Costs credits,
    refunded if the connector declines or the request expires."""

    __tablename__ = "intro_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    asker_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    connector_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH))
    # What the asker paid, so a refund returns exactly that whatever the policy says by then.
    cost: Mapped[int] = mapped_column(Integer)
    state: Mapped[RequestState] = mapped_column(
        enum_type(RequestState, "intro_request_state"), default=RequestState.OPEN
    )
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    introduction_id: Mapped[int | None] = mapped_column(ForeignKey("introductions.id"), nullable=True)

    chapter: Mapped[Chapter] = relationship()
    asker: Mapped[Member] = relationship(foreign_keys=[asker_id])
    connector: Mapped[Member] = relationship(foreign_keys=[connector_id])
    target: Mapped[Member] = relationship(foreign_keys=[target_id])

    __table_args__ = (
        CheckConstraint(
            "asker_id <> connector_id AND asker_id <> target_id AND connector_id <> target_id",
            name="three_different_members",
        ),
        CheckConstraint("cost >= 0", name="cost_not_negative"),
        CheckConstraint("length(note) > 0", name="note_present"),
        CheckConstraint("(state = 'open') = (closed_at IS NULL)", name="closed_at_iff_not_open"),
        # One open request at a time for the same connector and the same person.
        Index(
            "uq_intro_requests_open",
            "asker_id",
            "connector_id",
            "target_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index("ix_intro_requests_connector_state", "connector_id", "state"),
        Index("ix_intro_requests_asker_target", "asker_id", "target_id"),
        Index("ix_intro_requests_state_expires", "state", "expires_at"),
    )

    def involves(self, member_id: int) -> bool:
        return member_id in (self.asker_id, self.connector_id)


class DigestDelivery(db.Model):
    """A member's weekly digest for one ISO week, sent or found empty; unique, so each week is decided
    once and a second run sends nothing."""

    __tablename__ = "digest_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    iso_week: Mapped[str] = mapped_column(String(8))  # "2025-W07"
    sent_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Nothing to say that week: no email went, and the quarter-hourly job does not look again until
    # the next week's Monday 08:00.
    empty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (UniqueConstraint("member_id", "iso_week"),)
