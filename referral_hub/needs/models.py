"""Need: a member's ask to the chapter, open until fulfilled, closed or expired."""

import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db
from ..i18n import lazy_gettext as _l


class NeedStatus(enum.StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    CLOSED = "closed"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return NEED_STATUS_LABELS[self]


NEED_STATUS_LABELS = {
    NeedStatus.OPEN: _l("open"),
    NeedStatus.FULFILLED: _l("fulfilled"),
    NeedStatus.CLOSED: _l("closed"),
    NeedStatus.EXPIRED: _l("expired"),
}


class Need(db.Model):
    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    asker_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[NeedStatus] = mapped_column(enum_type(NeedStatus, "need_status"), default=NeedStatus.OPEN)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    closed_at = mapped_column(UTCDateTime, nullable=True)

    chapter: Mapped[Chapter] = relationship()
    asker: Mapped[Member] = relationship()

    __table_args__ = (
        CheckConstraint("length(title) > 0", name="title_present"),
        CheckConstraint("length(details) <= 4000", name="details_length"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_at_iff_not_open"),
        # A chapter's needs by status and date: reports.models' (chapter_id[, status], created_at, id).
        # A member's own open needs, newest first (the dashboard), and every need of an asker.
        Index("ix_needs_asker_status_created", "asker_id", "status", "created_at"),
        Index("ix_needs_status_expires", "status", "expires_at"),
        # The reports filter needs by when each was closed: one index range of one chapter.
        Index("ix_needs_chapter_status_closed", "chapter_id", "status", "closed_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.status is NeedStatus.OPEN
