"""Member (an account with its public profile) and the one-time links sent to it."""

import enum
import secrets
import unicodedata

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, LargeBinary, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db


def new_session_token() -> str:
    return secrets.token_hex(16)


class Member(UserMixin, db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    # The address NFKC-normalised and case-folded (`email_key_of`): the unique key that makes
    # "Ann@x.org" and "ann@x.org" one account. Too rich for a CHECK: the services compute it.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified_at = mapped_column(UTCDateTime, nullable=True)
    # Part of the login cookie; changing it ends every session that carries the old value.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    headline: Mapped[str] = mapped_column(String(120), default="")
    expertise: Mapped[str] = mapped_column(String(300), default="")
    ideal_referral: Mapped[str] = mapped_column(String(300), default="")
    company: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    bio: Mapped[str] = mapped_column(String(1000), default="")
    # The weekly digest email: opted out in the profile, or by the email's unsubscribe link.
    weekly_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The content hash of the member's photo (member_photos), or None: it versions the photo's URL,
    # so pages link to a photo without reading its bytes.
    photo_version: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (CheckConstraint("length(display_name) > 0", name="display_name_present"),)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_photo(self) -> bool:
        return self.photo_version is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.email_key}>"


class MemberPhoto(db.Model):
    """One size of a member's photo, re-encoded and stripped of metadata, kept in the database so
    that any number of app hosts serve it without a shared disk."""

    __tablename__ = "member_photos"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    size: Mapped[int] = mapped_column(primary_key=True)  # the square's side in pixels
    content_type: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("length(content_hash) = 64", name="content_hash_is_sha256"),
    )


class LinkPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a link purpose, not a password
    SIGN_IN = "sign_in"


class AccountLink(db.Model):
    """A one-time link mailed to a member: verify the address, reset the password, or sign in."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purpose: Mapped[LinkPurpose] = mapped_column(enum_type(LinkPurpose, "link_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)

    member: Mapped[Member] = relationship()

    __table_args__ = (Index(None, "member_id", "purpose"),)


def email_key_of(email: str) -> str:
    """The form of an address that says whether two addresses are one account: NFKC, then case-folded."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()
