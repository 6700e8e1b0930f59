"""Chapter, Membership (role and status) and Invitation."""

import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Member
from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db


class Chapter(db.Model):
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (CheckConstraint("length(slug) > 0", name="slug_present"),)

    def __repr__(self) -> str:
        return f"<Chapter {self.slug}>"


class Role(enum.StrEnum):
    MEMBER = "member"
    ORGANIZER = "organizer"


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"  # asked to join, waiting for an organizer
    ACTIVE = "active"
    DECLINED = "declined"
    REMOVED = "removed"
    LEFT = "left"


class Membership(db.Model):
    """A member's place in one chapter. Never deleted: a removed member's history stays."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    role: Mapped[Role] = mapped_column(enum_type(Role, "membership_role"), default=Role.MEMBER)
    status: Mapped[MembershipStatus] = mapped_column(enum_type(MembershipStatus, "membership_status"))
    requested_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    joined_at = mapped_column(UTCDateTime, nullable=True)
    ended_at = mapped_column(UTCDateTime, nullable=True)

    chapter: Mapped[Chapter] = relationship()
    member: Mapped[Member] = relationship()

    __table_args__ = (
        UniqueConstraint("chapter_id", "member_id"),
        CheckConstraint("status <> 'active' OR joined_at IS NOT NULL", name="active_has_joined_at"),
        Index(None, "member_id", "status"),
        Index(None, "chapter_id", "status"),
    )

    @property
    def is_organizer(self) -> bool:
        return self.status is MembershipStatus.ACTIVE and self.role is Role.ORGANIZER


class Invitation(db.Model):
    """An organizer's emailed invitation: a link that expires and works once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    email: Mapped[str] = mapped_column(String(254))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    accepted_at = mapped_column(UTCDateTime, nullable=True)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)

    chapter: Mapped[Chapter] = relationship()
    invited_by: Mapped[Member] = relationship(foreign_keys=[invited_by_id])

    __table_args__ = (
        CheckConstraint("(accepted_at IS NULL) = (accepted_by_id IS NULL)", name="acceptance_complete"),
        Index(None, "chapter_id", "created_at"),
    )
