"""Account rules: registration, verification, log-in, passwords and profile edits."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..mail.services import absolute_url, enqueue
from ..tokens import LinkExpired, LinkUnknown, LinkUsed, digest, new_secret
from .models import AccountLink, LinkPurpose, Member, email_key_of, new_session_token

PASSWORD_MIN, PASSWORD_MAX = 8, 128
LINK_LIFETIME = {
    LinkPurpose.VERIFY_EMAIL: timedelta(days=3),
    LinkPurpose.RESET_PASSWORD: timedelta(hours=1),
}
# Compared against when the address is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class EmailTaken(DomainError):
    """An account with this email address already exists. Log in, or reset your password."""

    status = 409
    code = "email_taken"


class InvalidCredentials(DomainError):
    """That email and password do not match an account."""

    status = 401
    code = "invalid_credentials"


class WrongPassword(DomainError):
    """Your current password is not correct."""


class PasswordRejected(DomainError):
    code = "password_rejected"


def check_password_rules(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise PasswordRejected(f"Choose a password of {PASSWORD_MIN} to {PASSWORD_MAX} characters.")


def find_by_email(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email_key == email_key_of(email)))


def register(*, display_name: str, email: str, password: str) -> Member:
    """Create an unverified account and mail a verification link."""
    check_password_rules(password)
    email = email.strip()
    member = Member(
        display_name=display_name.strip(),
        email=email,
        email_key=email_key_of(email),
        password_hash=generate_password_hash(password),
    )
    # The unique index decides a race between two registrations of one address.
    try:
        with db.session.begin_nested():
            db.session.add(member)
    except IntegrityError as error:
        raise EmailTaken() from error
    send_verification(member)
    return member


def _issue_link(member: Member, purpose: LinkPurpose) -> str:
    secret, token_hash = new_secret()
    now = utcnow()
    db.session.add(
        AccountLink(
            member=member,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + LINK_LIFETIME[purpose],
        )
    )
    db.session.flush()
    return secret


def send_verification(member: Member) -> None:
    secret = _issue_link(member, LinkPurpose.VERIFY_EMAIL)
    enqueue(
        "verify_email",
        to=member.email,
        member=member,
        link=absolute_url("accounts.verify_email", token=secret),
    )


def open_link(secret: str, purpose: LinkPurpose, *, now=None) -> AccountLink:
    """The link behind `secret`, or the reason it cannot be used (unknown, used, expired)."""
    link = db.session.scalar(
        select(AccountLink).where(AccountLink.token_hash == digest(secret), AccountLink.purpose == purpose)
    )
    if link is None:
        raise LinkUnknown()
    if link.used_at is not None:
        raise LinkUsed()
    if link.expires_at <= (now or utcnow()):
        raise LinkExpired()
    return link


def _use_link(link: AccountLink, now) -> None:
    # Conditional update: of two clicks racing on one link, exactly one wins.
    result = db.session.execute(
        AccountLink.__table__.update()
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    if result.rowcount != 1:
        raise LinkUsed()


def verify_email(secret: str) -> Member:
    now = utcnow()
    link = open_link(secret, LinkPurpose.VERIFY_EMAIL, now=now)
    _use_link(link, now)
    member = link.member
    if member.email_verified_at is None:
        member.email_verified_at = now
    db.session.flush()
    return member


def authenticate(email: str, password: str) -> Member:
    member = find_by_email(email)
    if member is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if not check_password_hash(member.password_hash, password):
        raise InvalidCredentials()
    return member


def end_sessions(member: Member) -> None:
    """Every login cookie issued so far stops working."""
    member.session_token = new_session_token()
    db.session.flush()


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    member = find_by_email(email)
    if member is None:
        return
    secret = _issue_link(member, LinkPurpose.RESET_PASSWORD)
    enqueue(
        "reset_password",
        to=member.email,
        member=member,
        link=absolute_url("accounts.reset_password", token=secret),
    )


def reset_password(secret: str, new_password: str) -> Member:
    check_password_rules(new_password)
    now = utcnow()
    link = open_link(secret, LinkPurpose.RESET_PASSWORD, now=now)
    _use_link(link, now)
    member = link.member
    member.password_hash = generate_password_hash(new_password)
    # Following the link proves the member reads this address.
    member.email_verified_at = member.email_verified_at or now
    end_sessions(member)
    return member


def change_password(member: Member, *, current: str, new: str) -> None:
    if not check_password_hash(member.password_hash, current):
        raise WrongPassword()
    check_password_rules(new)
    member.password_hash = generate_password_hash(new)
    end_sessions(member)


PROFILE_FIELDS = (
    "display_name",
    "headline",
    "expertise",
    "ideal_referral",
    "company",
    "city",
    "website",
    "phone",
    "bio",
)


def update_profile(member: Member, *, weekly_digest: bool | None = None, **fields: str) -> Member:
    for name in PROFILE_FIELDS:
        if name in fields:
            setattr(member, name, (fields[name] or "").strip())
    if weekly_digest is not None:
        member.weekly_digest = weekly_digest
    db.session.flush()
    return member
