"""Member (an account with its public profile) and the one-time links sent to it."""

import enum
import secrets
import unicodedata

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, true
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
    # Set when the member deleted their account: name, profile and address are gone (privacy/erasure.py).
    erased_at = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (CheckConstraint("length(display_name) > 0", name="display_name_present"),)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.email_key}>"


class LinkPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a link purpose, not a password
    SIGN_IN = "sign_in"
    CHANGE_EMAIL = "change_email"  # sent to the new address: following it makes the change
    UNDO_EMAIL_CHANGE = "undo_email_change"  # sent to the old address: following it restores it


# The purposes whose link carries an address: the new one to move to, or the old one to restore.
ADDRESS_PURPOSES = (LinkPurpose.CHANGE_EMAIL, LinkPurpose.UNDO_EMAIL_CHANGE)


class AccountLink(db.Model):
    """A one-time link mailed to a member: verify the address, reset the password, sign in, or change
    the address (and undo the change)."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purpose: Mapped[LinkPurpose] = mapped_column(enum_type(LinkPurpose, "link_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)
    # The address an email-change link moves to (CHANGE_EMAIL) or restores (UNDO_EMAIL_CHANGE).
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)

    member: Mapped[Member] = relationship()

    __table_args__ = (
        Index(None, "member_id", "purpose"),
        CheckConstraint(
            "(purpose IN ({})) = (email IS NOT NULL)".format(
                ", ".join(f"'{purpose.value}'" for purpose in ADDRESS_PURPOSES)
            ),
            name="address_iff_email_change",
        ),
    )


def email_key_of(email: str) -> str:
    """The form of an address that says whether two addresses are one account: NFKC, then case-folded."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()
