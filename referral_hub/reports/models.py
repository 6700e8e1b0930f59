"""ApiToken: an organizer's key to one chapter's reports; the figures the reports keep as they happen."""

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    case,
    cast,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import Grouping

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..clock import utcnow
from ..database import UTCDateTime
from ..extensions import db
from ..introductions.models import Introduction
from ..ledger.models import LedgerTransaction
from ..needs.models import Need

TOKEN_PREFIX = "rh_"  # noqa: S105 - the visible prefix of every token, not a secret
NAME_LENGTH = 80


class ApiToken(db.Model):
    """A bearer token for one chapter's reports. Only its hash is stored; the secret is shown once.

    It works while it is not revoked and while its member organizes its chapter: the check is made
    on every request, so a member who stops organizing loses access at once.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime, nullable=True)
    revoked_at = mapped_column(UTCDateTime, nullable=True)

    member: Mapped[Member] = relationship()
    chapter: Mapped[Chapter] = relationship()

    __table_args__ = (
        CheckConstraint("length(name) > 0", name="name_present"),
        CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after_created"),
        Index(None, "member_id", "created_at"),
    )

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ChapterDay(db.Model):
    """What happened in a chapter on one of its local days (in its zone), counted as it happens
    (reports.counting): a period's figures are sums over its days, however much history it has."""

    __tablename__ = "report_chapter_days"

    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    needs_posted: Mapped[int] = mapped_column(Integer, default=0)
    needs_fulfilled: Mapped[int] = mapped_column(Integer, default=0)
    needs_expired: Mapped[int] = mapped_column(Integer, default=0)
    needs_finished: Mapped[int] = mapped_column(Integer, default=0)  # any way a need stops being open
    intros_made: Mapped[int] = mapped_column(Integer, default=0)
    intros_completed: Mapped[int] = mapped_column(Integer, default=0)
    intros_declined: Mapped[int] = mapped_column(Integer, default=0)
    intros_expired: Mapped[int] = mapped_column(Integer, default=0)
    intros_closed: Mapped[int] = mapped_column(Integer, default=0)  # declined, expired or cancelled
    # Of those made and completed, the introductions whose second party is a guest.
    guest_intros_made: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    guest_intros_completed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    business_closed: Mapped[int] = mapped_column(Integer, default=0)
    business_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_issued: Mapped[int] = mapped_column(BigInteger, default=0)  # into member accounts
    credits_spent: Mapped[int] = mapped_column(BigInteger, default=0)  # out of member accounts


class MemberFigures(db.Model):
    """A member's all-time figures in a chapter, counted as they happen (reports.counting). The row
    outlives a membership: a member who leaves and returns finds their history."""

    __tablename__ = "report_member_figures"

    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    intros_made: Mapped[int] = mapped_column(Integer, default=0)
    intros_completed: Mapped[int] = mapped_column(Integer, default=0)
    intros_received: Mapped[int] = mapped_column(Integer, default=0)
    needs_posted: Mapped[int] = mapped_column(Integer, default=0)
    business_given_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    business_received_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # The member's ledger balance in the chapter, moved by each posting in its transaction
    # (counting.on_transaction_posted), so that the members table sorts by it through an index.
    balance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_completed_at = mapped_column(UTCDateTime, nullable=True)  # of an introduction the member made
    last_active_at = mapped_column(UTCDateTime, nullable=True)
    # The member's display name, kept with the figures (reports.members.keep_name) so that an index
    # orders a chapter's figures by value and then by name; `flask reports verify` checks it.
    display_name: Mapped[str | None] = mapped_column(String(80))

    # The dashboard's short lists read these from either end and stop (reports.members.standouts).
    __table_args__ = (
        Index(
            "ix_report_member_figures_giving_and_asking",
            "chapter_id",
            text("(intros_completed + needs_posted)"),
        ),
        # Also read alone (PostgreSQL) for each member's latest activity: the summary's member totals.
        Index(
            "ix_report_member_figures_last_active",
            "chapter_id",
            "last_active_at",
            postgresql_include=["member_id", "last_completed_at"],
        ),
    )


def give_ratio(figures):
    """Of a member's giving and asking, the share given (completed introductions), or None when both
    are zero: `figures` is MemberFigures or an alias of it. Written with no parameter, so that a
    query's expression is the index's (`FIGURE_SORTS`)."""
    completed, posted = figures.intros_completed, figures.needs_posted
    given = cast(completed, Float) / (completed + posted)
    return Grouping(case((completed + posted > literal_column("0"), given), else_=None))


# The members table sorted by a figure reads its page from these: the chapter's figures in the
# figure's order, up or down, each value's members by name (reports.members).
FIGURE_SORTS = {
    "intros_made": MemberFigures.intros_made,
    "intros_completed": MemberFigures.intros_completed,
    "intros_received": MemberFigures.intros_received,
    "needs_posted": MemberFigures.needs_posted,
    "business_given_amount": MemberFigures.business_given_amount,
    "business_received_amount": MemberFigures.business_received_amount,
    "balance": MemberFigures.balance,
    "give_ratio": give_ratio(MemberFigures),
    "last_active_at": MemberFigures.last_active_at,
}
for _sort, _value in FIGURE_SORTS.items():
    for _suffix, _ordered in (("", _value), ("_desc", _value.desc())):
        Index(
            f"ix_report_member_figures_by_{_sort}{_suffix}",
            MemberFigures.chapter_id,
            _ordered,
            func.lower(MemberFigures.display_name),
            MemberFigures.member_id,
        )


class CompletionDuration(db.Model):
    """How long one completed introduction took, kept as it completes (reports.completions): the
    median reads only the durations near the middle, found through `CompletionHours`."""

    __tablename__ = "report_completion_durations"

    introduction_id: Mapped[int] = mapped_column(
        ForeignKey("introductions.id", ondelete="CASCADE"), primary_key=True
    )
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"))
    completed_at = mapped_column(UTCDateTime, nullable=False)
    hours: Mapped[float] = mapped_column(Double)  # as the database computes it from the introduction
    whole_hours: Mapped[int] = mapped_column(Integer)

    # The middle of a period's distribution, read without visiting the table.
    __table_args__ = (Index(None, "chapter_id", "whole_hours", "completed_at", "hours"),)


class CompletionHours(db.Model):
    """How many introductions of a chapter completed on one day after a given number of whole hours:
    the distribution of a period's durations, summed over its days (reports.completions)."""

    __tablename__ = "report_completion_hours"

    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    whole_hours: Mapped[int] = mapped_column(Integer, primary_key=True)
    completions: Mapped[int] = mapped_column(Integer, default=0)

    # A period's counts read from the index alone (PostgreSQL): a chapter's rows lie among every other
    # chapter's in the table, one page each, written day by day as they happened.
    __table_args__ = (
        Index(
            "ix_report_completion_hours_counts",
            "chapter_id",
            "day",
            "whole_hours",
            postgresql_include=["completions"],
        ),
    )


class TransactionDay(db.Model):
    """How many ledger transactions a chapter recorded on one of its local days, counted as they are
    posted (reports.transactions): the API's ledger list totals a period from its days."""

    __tablename__ = "report_transaction_days"

    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    transactions: Mapped[int] = mapped_column(Integer, default=0)


# The API's lists (reports.lists) find a page newest first through these, in their order (created_at,
# then id) and from the index alone, and count a filter's rows from them: no row is read to be skipped.
Index(
    "ix_introductions_chapter_created_id", Introduction.chapter_id, Introduction.created_at, Introduction.id
)
Index(
    "ix_introductions_chapter_state_created_id",
    Introduction.chapter_id,
    Introduction.state,
    Introduction.created_at,
    Introduction.id,
)
Index("ix_needs_chapter_created_id", Need.chapter_id, Need.created_at, Need.id)
Index("ix_needs_chapter_status_created_id", Need.chapter_id, Need.status, Need.created_at, Need.id)
Index(
    "ix_ledger_transactions_chapter_created_id",
    LedgerTransaction.chapter_id,
    LedgerTransaction.created_at,
    LedgerTransaction.id,
)
