"""ApiToken: an organizer's key to one chapter's reports."""

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..clock import utcnow
from ..database import UTCDateTime
from ..extensions import db

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
