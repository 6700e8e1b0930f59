"""Member (an account with its public profile) and the one-time links sent to it."""

import enum
import unicodedata

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, LargeBinary, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db


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
    # The content hash of the member's photo (member_photos), or None: it versions the photo's URL,
    # so pages link to a photo without reading its bytes.
    photo_version: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The member's own language (a code of i18n.LANGUAGES) and IANA time zone; None follows the
    # browser's language and the first chapter's zone.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (CheckConstraint("length(display_name) > 0", name="display_name_present"),)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def speaking(self) -> dict[str, str | None]:
        """An email to this member about no one chapter (their account, their week): in their language
        and zone; None follows the request's. `mail.enqueue(template, to=..., **member.speaking(), ...)`"""
        return {"language": self.language, "timezone": self.timezone}

    # Flask-Login's user id for this request, "member_id:session_secret": set by `sessions.start` at
    # sign-in and by the user loader on every request (not a column: the secret is never stored).
    login_id = None

    # UserMixin compares get_id(), which now carries a session's secret: one account is one member.
    __hash__ = object.__hash__

    def __eq__(self, other) -> bool:
        return self is other or (isinstance(other, Member) and self.id is not None and self.id == other.id)

    def __ne__(self, other) -> bool:
        return not self == other

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def has_photo(self) -> bool:
        return self.photo_version is not None

    def get_id(self) -> str:
        if self.login_id is None:
            raise RuntimeError("This member has no signed-in session: start one with accounts.sessions.start")
        return self.login_id

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


class MemberSession(db.Model):
    """One place a member is signed in: a browser's login cookie carries the secret whose hash is the id.

    Ending it (sign out, a password change) makes that cookie worthless at once: the user loader reads
    this row on every request.
    """

    __tablename__ = "member_sessions"

    # SHA-256 of the cookie's secret (256 random bits): a database dump signs no one in.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Approximate: written at most once per `sessions.SEEN_RESOLUTION`, so a page view seldom writes.
    last_seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    address: Mapped[str] = mapped_column(String(45), default="")
    ended_at = mapped_column(UTCDateTime, nullable=True)

    member: Mapped[Member] = relationship()

    __table_args__ = (Index(None, "member_id", "ended_at"),)


class TwoFactor(db.Model):
    """A member's TOTP authenticator: pending until a first code confirms it, then asked at every sign-in."""

    __tablename__ = "two_factor"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    # The RFC 6238 secret, encrypted with a key derived from SECRET_KEY (two_factor.py).
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary(200))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    confirmed_at = mapped_column(UTCDateTime, nullable=True)
    # The newest 30-second time step whose code was accepted: a code is good once (no replay).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    @property
    def is_on(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator; only its keyed hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index(None, "member_id", "used_at"),)
