"""Introduction (a state machine), Consent (one per party, with its email link) and Outcome."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Update,
    or_,
    text,
    update,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db
from ..needs.models import Need
from .errors import AlreadyAnswered, IntroClosed, IntroExpired


class IntroState(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    # A party left the chapter before the introduction completed: nothing was shared.
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return INTRO_STATE_LABELS[self]


INTRO_STATE_LABELS = {
    IntroState.PENDING: _l("pending"),
    IntroState.COMPLETED: _l("completed"),
    IntroState.DECLINED: _l("declined"),
    IntroState.EXPIRED: _l("expired"),
    IntroState.CANCELLED: _l("cancelled"),
}


class Decision(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


class CreditNote(enum.StrEnum):
    """Why a completed introduction did or did not earn its introducer credits."""

    CREDITED = "credited"
    REPEAT_PAIR = "repeat_pair"
    DAILY_CAP = "daily_cap"
    NO_REWARD = "no_reward"
    INTRODUCER_LEFT = "introducer_left"


class OutcomeKind(enum.StrEnum):
    MET = "met"
    BUSINESS_CLOSED = "business_closed"
    NOT_A_FIT = "not_a_fit"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


# As the dashboard says "You reported: business closed".
OUTCOME_LABELS = {
    OutcomeKind.MET: _l("met"),
    OutcomeKind.BUSINESS_CLOSED: _l("business closed"),
    OutcomeKind.NOT_A_FIT: _l("not a fit"),
}


class Introduction(db.Model):
    __tablename__ = "introductions"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    introducer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    first_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    second_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # The pair in a fixed order, so "A with B" and "B with A" are one pair to the constraints.
    pair_low_id: Mapped[int] = mapped_column(Integer)
    pair_high_id: Mapped[int] = mapped_column(Integer)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text)
    # The note normalised and hashed: an introducer cannot send the same note twice.
    note_fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[IntroState] = mapped_column(
        enum_type(IntroState, "intro_state"), default=IntroState.PENDING
    )
    credit_note: Mapped[CreditNote | None] = mapped_column(
        enum_type(CreditNote, "credit_note"), nullable=True
    )
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    completed_at = mapped_column(UTCDateTime, nullable=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)

    chapter: Mapped[Chapter] = relationship()
    introducer: Mapped[Member] = relationship(foreign_keys=[introducer_id])
    first: Mapped[Member] = relationship(foreign_keys=[first_id])
    second: Mapped[Member] = relationship(foreign_keys=[second_id])
    need: Mapped[Need | None] = relationship()
    consents: Mapped[list["Consent"]] = relationship(back_populates="introduction", order_by="Consent.id")

    __table_args__ = (
        CheckConstraint("first_id <> second_id", name="parties_differ"),
        CheckConstraint(
            "introducer_id <> first_id AND introducer_id <> second_id", name="introducer_not_party"
        ),
        CheckConstraint("pair_low_id < pair_high_id", name="pair_ordered"),
        CheckConstraint("length(note) <= 2000", name="note_length"),
        CheckConstraint(
            "(state = 'completed') = (completed_at IS NOT NULL)", name="completed_at_iff_completed"
        ),
        UniqueConstraint("introducer_id", "note_fingerprint"),
        # At most one pending introduction of a pair in a chapter.
        Index(
            "uq_introductions_pending_pair",
            "chapter_id",
            "pair_low_id",
            "pair_high_id",
            unique=True,
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_introductions_chapter_state", "chapter_id", "state", "created_at"),
        Index("ix_introductions_chapter_pair", "chapter_id", "pair_low_id", "pair_high_id", "completed_at"),
        Index("ix_introductions_introducer_completed", "introducer_id", "completed_at"),
        Index(None, "first_id"),
        Index(None, "second_id"),
        Index(None, "need_id"),
        Index("ix_introductions_state_expires", "state", "expires_at"),
        # The reports filter and bucket introductions by when each event happened: one index range of
        # one chapter per filter.
        Index("ix_introductions_chapter_created", "chapter_id", "created_at"),
        Index("ix_introductions_chapter_completed", "chapter_id", "completed_at"),
        Index("ix_introductions_chapter_state_closed", "chapter_id", "state", "closed_at"),
    )

    @property
    def parties(self) -> tuple[Member, Member]:
        return self.first, self.second

    def other_party(self, member_id: int) -> Member:
        return self.second if member_id == self.first_id else self.first

    def involves(self, member_id: int) -> bool:
        return member_id in (self.introducer_id, self.first_id, self.second_id)

    # The state machine: pending moves once, to completed, declined, cancelled or expired.

    @hybrid_method
    def lapsed(self, now: datetime):
        """Still pending though past its expiry: the expiry job has not closed it yet (also in SQL)."""
        return (self.state == IntroState.PENDING) & (self.expires_at <= now)

    @hybrid_method
    def awaiting_answers(self, now: datetime):
        """Pending and not yet past its expiry (also in SQL)."""
        return (self.state == IntroState.PENDING) & (self.expires_at > now)

    @property
    def is_awaiting_answers(self) -> bool:
        return bool(self.awaiting_answers(utcnow()))

    def is_expired(self, now: datetime) -> bool:
        """Expired, whether or not the expiry job has closed it yet."""
        return self.state is IntroState.EXPIRED or bool(self.lapsed(now))

    def _require_open(self, now: datetime) -> None:
        if self.is_expired(now):
            raise IntroExpired()
        if self.state is not IntroState.PENDING:
            raise IntroClosed()

    def answer(self, consent: "Consent", decision: Decision, now: datetime, *, in_chapter: bool) -> None:
        """One party answers: once, while the introduction waits, and only while still in its chapter."""
        if consent.decision is not None:
            raise AlreadyAnswered()
        self._require_open(now)
        if not in_chapter:
            raise IntroClosed(
                f"You are no longer a member of {self.chapter.name}, so this introduction cannot go ahead."
            )
        consent.decision, consent.answered_at = decision, now

    def complete(self, now: datetime, credit_note: CreditNote) -> None:
        """Both parties accepted: contacts are shared, and the note says what the introducer earned."""
        self._require_open(now)
        self.state, self.completed_at, self.credit_note = IntroState.COMPLETED, now, credit_note

    def decline(self, now: datetime) -> None:
        self._close(IntroState.DECLINED, now)

    def cancel(self, now: datetime) -> None:
        """A party left the chapter before both accepted: nothing is shared and nothing credited."""
        self._close(IntroState.CANCELLED, now)

    def _close(self, state: IntroState, now: datetime) -> None:
        self._require_open(now)
        self.state, self.closed_at = state, now

    @classmethod
    def involving(cls, member_id: int):
        """The introductions the member made or is a party of, as a WHERE clause."""
        return or_(cls.introducer_id == member_id, cls.first_id == member_id, cls.second_id == member_id)

    @classmethod
    def expire_lapsed(cls, now: datetime) -> Update:
        """The expiry as one conditional UPDATE of every lapsed introduction (narrow it with `.where`)."""
        return (
            update(cls)
            .where(cls.lapsed(now))
            .values(state=IntroState.EXPIRED, closed_at=now)
            .execution_options(synchronize_session=False)
        )


class Consent(db.Model):
    """One party's answer to an introduction, and the email link that gives it."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    decision: Mapped[Decision | None] = mapped_column(enum_type(Decision, "consent_decision"), nullable=True)
    answered_at = mapped_column(UTCDateTime, nullable=True)
    # When this party was emailed "what came of it?" after completion: each party is asked once.
    outcome_prompted_at = mapped_column(UTCDateTime, nullable=True)

    introduction: Mapped[Introduction] = relationship(back_populates="consents")
    member: Mapped[Member] = relationship()

    __table_args__ = (
        UniqueConstraint("introduction_id", "member_id"),
        CheckConstraint("(decision IS NULL) = (answered_at IS NULL)", name="answered_at_iff_decided"),
        Index(None, "member_id", "decision"),
        # Covering: who answered when, read from the index alone when a report walks a chapter.
        Index("ix_consents_introduction_answered", "introduction_id", "member_id", "answered_at"),
    )


class Outcome(db.Model):
    """What a party says came of a completed introduction."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id"))
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[OutcomeKind] = mapped_column(enum_type(OutcomeKind, "outcome_kind"))
    amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    introduction: Mapped[Introduction] = relationship()
    reported_by: Mapped[Member] = relationship()

    __table_args__ = (
        # One outcome per party, which may move forward (met -> business closed), never multiply.
        UniqueConstraint("introduction_id", "reported_by_id"),
        CheckConstraint(
            "(kind = 'business_closed' AND amount IS NOT NULL AND amount > 0) "
            "OR (kind <> 'business_closed' AND amount IS NULL)",
            name="amount_only_for_business",
        ),
        Index(None, "introduction_id"),
        Index(None, "kind", "created_at"),
    )
