"""ApiToken (an organizer's key to one chapter's reports) and the indexes behind the reports' filters."""

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..clock import utcnow
from ..database import UTCDateTime
from ..extensions import db
from ..introductions.models import Consent, Introduction
from ..ledger.models import LedgerEntry
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


# The API filters and buckets introductions and needs by the time each event happened; these let
# each filter read one index range of one chapter. (The (chapter, status/state, created_at) indexes
# of those tables already serve the status filters.)
Index("ix_introductions_chapter_created", Introduction.chapter_id, Introduction.created_at)
Index("ix_introductions_chapter_completed", Introduction.chapter_id, Introduction.completed_at)
Index(
    "ix_introductions_chapter_state_closed",
    Introduction.chapter_id,
    Introduction.state,
    Introduction.closed_at,
)
Index("ix_needs_chapter_created", Need.chapter_id, Need.created_at)
Index("ix_needs_chapter_status_closed", Need.chapter_id, Need.status, Need.closed_at)
# Covering indexes: who answered when, and what each account moved, read from the index alone when
# a report walks a whole chapter (its consents through its introductions, its members' entries).
Index("ix_consents_introduction_answered", Consent.introduction_id, Consent.member_id, Consent.answered_at)
Index("ix_ledger_entries_account_amount", LedgerEntry.account_id, LedgerEntry.amount)
