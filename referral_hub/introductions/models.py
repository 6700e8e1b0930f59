"""Introduction (a state machine), Consent (one per party, with its email link) and Outcome."""

import enum
from dataclasses import dataclass
from datetime import datetime

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
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
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
    # A guest introduction pays only when the member party reports that they met.
    AWAITING_OUTCOME = "awaiting_outcome"


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


@dataclass(frozen=True)
class Guest:
    """The second party when they are not a member: what the introducer typed and what the guest added,
    shaped like a member for the emails and pages that show "the other person"."""

    display_name: str
    email: str
    headline: str
    phone: str
    company: str
    id: None = None
    expertise: str = ""
    website: str = ""
    is_guest: bool = True
    has_photo: bool = False


class Introduction(db.Model):
    __tablename__ = "introductions"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    introducer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    first_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # The second party is a member, or a guest (second_id NULL, guest_key set).
    second_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    # The pair in a fixed order, so "A with B" and "B with A" are one pair to the constraints (NULL
    # for a guest introduction, whose pair is the member and the guest's address key).
    pair_low_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pair_high_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The guest's normalised address as a keyed hash: kept after erasure, for the repeat-pair rule.
    guest_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    guest_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    guest_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    guest_about: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # What the guest chose to share on accepting.
    guest_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    guest_company: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # When the retention job erased the guest's name, address and what they added.
    guest_erased_at = mapped_column(UTCDateTime, nullable=True)
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
    second: Mapped[Member | None] = relationship(foreign_keys=[second_id])
    need: Mapped[Need | None] = relationship()
    consents: Mapped[list["Consent"]] = relationship(back_populates="introduction", order_by="Consent.id")

    __table_args__ = (
        CheckConstraint("first_id <> second_id", name="parties_differ"),
        CheckConstraint(
            "introducer_id <> first_id AND introducer_id <> second_id", name="introducer_not_party"
        ),
        CheckConstraint("pair_low_id < pair_high_id", name="pair_ordered"),
        CheckConstraint(
            "(second_id IS NULL AND guest_key IS NOT NULL AND pair_low_id IS NULL AND pair_high_id IS NULL)"
            " OR (second_id IS NOT NULL AND guest_key IS NULL AND guest_name IS NULL AND guest_email IS NULL"
            " AND pair_low_id IS NOT NULL AND pair_high_id IS NOT NULL)",
            name="member_or_guest",
        ),
        CheckConstraint(
            "guest_key IS NULL OR (guest_erased_at IS NULL) = "
            "(guest_email IS NOT NULL AND guest_name IS NOT NULL)",
            name="guest_kept_until_erased",
        ),
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
        # At most one pending introduction of a member and a guest address in a chapter.
        Index(
            "uq_introductions_pending_guest",
            "chapter_id",
            "first_id",
            "guest_key",
            unique=True,
            postgresql_where=text("state = 'pending' AND guest_key IS NOT NULL"),
            sqlite_where=text("state = 'pending' AND guest_key IS NOT NULL"),
        ),
        Index("ix_introductions_guest_pair", "first_id", "guest_key", "completed_at"),
        Index("ix_introductions_introducer_created", "introducer_id", "created_at"),
        Index("ix_introductions_chapter_state", "chapter_id", "state", "created_at"),
        Index("ix_introductions_chapter_pair", "chapter_id", "pair_low_id", "pair_high_id", "completed_at"),
        Index("ix_introductions_introducer_completed", "introducer_id", "completed_at"),
        Index(None, "first_id"),
        Index(None, "second_id"),
        Index(None, "need_id"),
        Index("ix_introductions_state_expires", "state", "expires_at"),
        # The reports filter and bucket introductions by when each event happened: one index range of
        # one chapter per filter (by creation: reports.models' (chapter_id, created_at, id)).
        Index("ix_introductions_chapter_completed", "chapter_id", "completed_at"),
        Index("ix_introductions_chapter_state_closed", "chapter_id", "state", "closed_at"),
    )

    @property
    def is_guest(self) -> bool:
        return self.guest_key is not None

    @property
    def guest(self) -> Guest | None:
        """The guest party as the emails and pages show them (None for two members, or once erased)."""
        if not self.is_guest or self.guest_erased_at is not None:
            return None
        return Guest(
            display_name=self.guest_name,
            email=self.guest_email,
            headline=self.guest_about or "",
            phone=self.guest_phone or "",
            company=self.guest_company or "",
        )

    @property
    def second_party(self) -> "Member | Guest | None":
        return self.second if self.second_id is not None else self.guest

    @property
    def second_name(self) -> str:
        """The second party's name as the introducer and the member see it ("a guest" once erased)."""
        if self.second_id is not None:
            return self.second.display_name
        return self.guest_name or str(_l("a guest"))

    @property
    def members(self) -> tuple[Member, ...]:
        """The parties who are members: both, or the first alone when the second is a guest."""
        return (self.first,) if self.second_id is None else (self.first, self.second)

    @property
    def parties(self) -> tuple["Member | Guest", "Member | Guest"]:
        return self.first, self.second_party

    def other_party(self, member_id: int | None) -> "Member | Guest":
        """The other party to `member_id` (None: the guest, whose other party is the first member)."""
        return self.second_party if member_id == self.first_id else self.first

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
                _(
                    "You are no longer a member of %(chapter)s, so this introduction cannot go ahead.",
                    chapter=self.chapter.name,
                )
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
    # NULL: the guest's consent.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    decision: Mapped[Decision | None] = mapped_column(enum_type(Decision, "consent_decision"), nullable=True)
    answered_at = mapped_column(UTCDateTime, nullable=True)
    # When this party was emailed "what came of it?" after completion: each party is asked once.
    outcome_prompted_at = mapped_column(UTCDateTime, nullable=True)
    # When this party was reminded to answer: each party is reminded once.
    reminded_at = mapped_column(UTCDateTime, nullable=True)

    introduction: Mapped[Introduction] = relationship(back_populates="consents")
    member: Mapped[Member | None] = relationship()

    @property
    def is_guest(self) -> bool:
        return self.member_id is None

    @property
    def party(self) -> "Member | Guest | None":
        return self.introduction.guest if self.is_guest else self.member

    __table_args__ = (
        UniqueConstraint("introduction_id", "member_id"),
        CheckConstraint("(decision IS NULL) = (answered_at IS NULL)", name="answered_at_iff_decided"),
        Index(None, "member_id", "decision"),
        Index("ix_consents_unanswered_reminder", "reminded_at", "decision"),
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


class GuestSuppression(db.Model):
    """An address that asked never to be sent introductions, kept only as a keyed hash."""

    __tablename__ = "guest_suppressions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
