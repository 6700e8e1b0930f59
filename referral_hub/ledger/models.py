"""The reciprocity ledger's tables: accounts, transactions and entries."""

import enum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db
from ..i18n import lazy_gettext as _l


class Kind(enum.StrEnum):
    INTRO_COMPLETED = "intro_completed"
    BUSINESS_CLOSED = "business_closed"
    ASK_NEED = "ask_need"
    ASK_CONNECTOR = "ask_connector"
    REFUND = "refund"
    GRANT = "grant"
    REVERSAL = "reversal"
    WELCOME = "welcome"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    Kind.INTRO_COMPLETED: _l("Introduction completed"),
    Kind.BUSINESS_CLOSED: _l("Business closed on an introduction"),
    Kind.ASK_NEED: _l("Posted a need"),
    Kind.ASK_CONNECTOR: _l("Asked a connector"),
    Kind.REFUND: _l("Refund"),
    Kind.GRANT: _l("Organizer grant"),
    Kind.REVERSAL: _l("Reversal"),
    Kind.WELCOME: _l("Welcome credits"),
}

KEY_LENGTH = 200
MEMO_LENGTH = 500


class LedgerAccount(db.Model):
    """A member's credits in one chapter, or the chapter's pool (member_id NULL) that credits come from.

    `balance` is a cache of the sum of the account's entries, kept in step by `posting.post` in
    the same database transaction; `flask ledger verify` proves the two agree.
    """

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    chapter: Mapped[Chapter] = relationship()
    member: Mapped[Member | None] = relationship()

    __table_args__ = (
        # A member account belongs to a membership of the same chapter (NULL member: the pool).
        ForeignKeyConstraint(
            ["chapter_id", "member_id"],
            ["memberships.chapter_id", "memberships.member_id"],
            name="fk_ledger_accounts_chapter_id_memberships",
        ),
        UniqueConstraint("chapter_id", "member_id"),
        # NULLs are distinct in a unique constraint, so the one-pool rule needs its own index.
        Index(
            "uq_ledger_accounts_pool",
            "chapter_id",
            unique=True,
            postgresql_where=text("member_id IS NULL"),
            sqlite_where=text("member_id IS NULL"),
        ),
        Index(None, "member_id"),
        # Members never go below zero; the pool may (it is where credits come from).
        CheckConstraint("member_id IS NULL OR balance >= 0", name="member_balance_not_negative"),
    )

    @property
    def is_pool(self) -> bool:
        return self.member_id is None


class LedgerTransaction(db.Model):
    """One business event: two or more entries that sum to zero. Never updated or deleted."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    kind: Mapped[Kind] = mapped_column(enum_type(Kind, "ledger_kind"))
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    memo: Mapped[str] = mapped_column(String(MEMO_LENGTH))
    caused_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    subject_type: Mapped[str | None] = mapped_column(String(30), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A reversal points at the transaction it undoes; unique, so nothing is reversed twice.
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"), nullable=True, unique=True
    )
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    chapter: Mapped[Chapter] = relationship()
    caused_by: Mapped[Member | None] = relationship()
    entries: Mapped[list["LedgerEntry"]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id", viewonly=True
    )
    reverses: Mapped["LedgerTransaction | None"] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by", viewonly=True
    )
    reversed_by: Mapped["LedgerTransaction | None"] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False, viewonly=True
    )

    __table_args__ = (
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_points_back"),
        CheckConstraint("(subject_type IS NULL) = (subject_id IS NULL)", name="subject_complete"),
        CheckConstraint("length(idempotency_key) > 0", name="key_present"),
        # A chapter's transactions by date: reports.models' (chapter_id, created_at, id).
    )


class LedgerEntry(db.Model):
    """One leg of a transaction: a signed number of credits into (+) or out of (−) one account."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(Integer)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()
    # The account's balance after this entry; only set by queries that ask for it (a window sum).
    running_balance: Mapped[int] = query_expression()

    __table_args__ = (
        UniqueConstraint("transaction_id", "account_id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index(None, "account_id", "id"),
        # Covering: what each account moved, read from the index alone when a report walks a chapter.
        Index("ix_ledger_entries_account_amount", "account_id", "amount"),
    )
