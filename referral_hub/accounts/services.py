"""Account rules: addresses and names, registration, verification, log-in, passwords and profile edits."""

import unicodedata
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import events
from ..clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import LANGUAGES, not_a_time_zone, time_zones
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..mail.services import absolute_url, enqueue
from ..tokens import LinkExpired, LinkUnknown, LinkUsed, digest, new_secret
from . import sessions, throttle
from .models import AccountLink, LinkPurpose, Member, email_key_of

PASSWORD_MIN, PASSWORD_MAX = 8, 128
LINK_LIFETIME = {
    LinkPurpose.VERIFY_EMAIL: timedelta(days=3),
    LinkPurpose.RESET_PASSWORD: timedelta(hours=1),
    LinkPurpose.SIGN_IN: timedelta(minutes=15),
    LinkPurpose.CHANGE_EMAIL: timedelta(days=3),
    LinkPurpose.UNDO_EMAIL_CHANGE: timedelta(days=7),
}
# What a mailed link is for, as the note to an address with no account names it.
ASKED_FOR = {
    LinkPurpose.RESET_PASSWORD: _l("a link to reset its password"),
    LinkPurpose.SIGN_IN: _l("a sign-in link"),
}
# Unicode categories that draw nothing: controls, formatting (zero-width, bidi) and separators.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Compared against when the address is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AddressRefused(DomainError):
    code = "address_refused"


class DisplayNameRejected(DomainError):
    message = _l("Choose a name with at least one visible letter, digit or sign.")

    code = "display_name_rejected"


class AccountThrottled(DomainError):
    message = _l("Too many failed attempts for this account. Wait a few minutes and try again.")

    status = 429
    code = "account_throttled"


class InvalidCredentials(DomainError):
    message = _l("That email and password do not match an account.")

    status = 401
    code = "invalid_credentials"


class WrongPassword(DomainError):
    message = _l("Your current password is not correct.")


class PasswordRejected(DomainError):
    code = "password_rejected"


def check_password(member: Member, password: str) -> None:
    """WrongPassword unless `password` is the member's current one (asked again before a sensitive change)."""
    if not check_password_hash(member.password_hash, password):
        raise WrongPassword()


def check_password_rules(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise PasswordRejected(
            _("Choose a password of %(least)d to %(most)d characters.", least=PASSWORD_MIN, most=PASSWORD_MAX)
        )


def check_address(email: str) -> str:
    """The address, trimmed, if its key (`email_key_of`) can only ever be its own; AddressRefused if not.

    Refused: a domain that is not ASCII (an international domain is written in its xn-- form), and
    any character that normalisation turns into another (the Kelvin sign into K, full-width
    letters, an @ or a dot) or that folds into ASCII letters (ß into ss): such an address would
    take, or collide with, the key of a different, ordinary address.
    """
    email = email.strip()
    local, _at, domain = email.rpartition("@")
    if not local or not domain:
        raise AddressRefused(_("Enter a valid email address."))
    if not domain.isascii():
        raise AddressRefused(
            _("Write the part after the @ in its ASCII form: an international domain in its xn-- form.")
        )
    if unicodedata.normalize("NFKC", email) != email or any(
        not char.isascii() and char.casefold().isascii() for char in local
    ):
        raise AddressRefused(
            _(
                "This address has characters that count as other letters (the Kelvin sign as K, full-width "
                "letters, ß as ss), so it could pass for another address. Type it with ordinary letters."
            )
        )
    return email


def check_display_name(name: str) -> str:
    """The name, trimmed, if it has at least one character that shows; DisplayNameRejected if not."""
    name = name.strip()
    if all(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in name):
        raise DisplayNameRejected()
    return name


def find_by_email(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email_key == email_key_of(email)))


def clashes_on_email_key(error: IntegrityError) -> bool:
    """Whether the violated constraint is the unique address key (and not any other rule)."""
    diagnostics = getattr(error.orig, "diag", None)
    if diagnostics is not None:  # PostgreSQL names the constraint
        return diagnostics.constraint_name == "uq_members_email_key"
    return str(error.orig) == "UNIQUE constraint failed: members.email_key"  # SQLite names the column


def register(*, display_name: str, email: str, password: str) -> Member | None:
    """Create an unverified account and mail it a verification link; return it.

    An address that already has an account gets no second one: its owner is mailed a note with a
    log-in and a reset link instead, and None is returned. The caller answers both alike, and
    both do the same work (one password hash, one link, one mail), so neither the answer nor its
    timing tells whether the address has an account.
    """
    display_name = check_display_name(display_name)
    check_password_rules(password)
    email = check_address(email)
    password_hash = generate_password_hash(password)  # hashed for an existing address too: same work
    owner = find_by_email(email)
    if owner is None:
        member = Member(
            display_name=display_name, email=email, email_key=email_key_of(email), password_hash=password_hash
        )
        # The unique index decides a race between two registrations of one address.
        try:
            with db.session.begin_nested():
                db.session.add(member)
        except IntegrityError as error:
            if not clashes_on_email_key(error):
                raise
            owner = db.session.scalars(select(Member).where(Member.email_key == member.email_key)).one()
        else:
            send_verification(member)
            return member
    _mail_link(owner, LinkPurpose.RESET_PASSWORD, "registration_attempt", "accounts.reset_password")
    return None


def issue_link(member: Member, purpose: LinkPurpose, *, email: str | None = None) -> str:
    """A new link for the member (carrying `email` for an email-change purpose); returns its secret."""
    secret, token_hash = new_secret()
    now = utcnow()
    db.session.add(
        AccountLink(
            member=member,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + LINK_LIFETIME[purpose],
            email=email,
        )
    )
    db.session.flush()
    return secret


def _mail_link(member: Member, purpose: LinkPurpose, template: str, endpoint: str) -> None:
    secret = issue_link(member, purpose)
    enqueue(
        template,
        to=member.email,
        **member.speaking(),
        member=member,
        link=absolute_url(endpoint, token=secret),
        login_link=absolute_url("accounts.login"),
    )


def send_verification(member: Member) -> None:
    _mail_link(member, LinkPurpose.VERIFY_EMAIL, "verify_email", "accounts.verify_email")


def _mail_link_if_known(email: str, purpose: LinkPurpose, template: str, endpoint: str) -> None:
    """Mail the account's owner a link; an address with no account gets a note saying so instead.

    Either way one message is written in one transaction, so the time taken does not tell.
    """
    member = find_by_email(email)
    if member is None:
        enqueue(
            "no_account",
            to=email.strip(),
            asked_for=ASKED_FOR[purpose],
            register_link=absolute_url("accounts.register"),
        )
        return
    _mail_link(member, purpose, template, endpoint)


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


def use_link(link: AccountLink, now) -> None:
    # Conditional update: of two clicks racing on one link, exactly one wins.
    result = db.session.execute(
        AccountLink.__table__.update()
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    if result.rowcount != 1:
        raise LinkUsed()


def _redeem(secret: str, purpose: LinkPurpose, now) -> Member:
    """Use the link once; following it proves the member reads the address, so it is verified."""
    link = open_link(secret, purpose, now=now)
    use_link(link, now)
    member = link.member
    member.email_verified_at = member.email_verified_at or now
    db.session.flush()
    return member


def verify_email(secret: str) -> Member:
    return _redeem(secret, LinkPurpose.VERIFY_EMAIL, utcnow())


def authenticate(email: str, password: str) -> Member:
    member = find_by_email(email)
    if member is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if not check_password_hash(member.password_hash, password):
        raise InvalidCredentials()
    return member


def log_in(email: str, password: str, *, address: str) -> Member:
    """`authenticate`, held back for client addresses that failed too often for this account.

    The password is not even checked while held back, so guessing cannot go on; an address that
    has not failed for the account still gets in with the right password (see `throttle`).
    """
    # Hashed: the limiter joins key parts with "/", so a typed "ann@x.org/1.2.3.4" must not be able
    # to spell the key of ann@x.org's failures from 1.2.3.4.
    key = digest(email_key_of(email))
    if throttle.held_back(key, address):
        raise AccountThrottled()
    try:
        return authenticate(email, password)
    except InvalidCredentials:
        throttle.record_failure(key, address)
        raise


def request_sign_in_link(email: str) -> None:
    """Mail a one-time sign-in link if the address has an account; say nothing either way."""
    _mail_link_if_known(email, LinkPurpose.SIGN_IN, "sign_in_link", "accounts.sign_in_with_link")


def sign_in_with_link(secret: str) -> Member:
    return _redeem(secret, LinkPurpose.SIGN_IN, utcnow())


def end_sessions(member: Member, keep: str | None = None) -> None:
    """Every session of the member ends, but `keep` (a session id) when given: their cookies stop working."""
    sessions.end_sessions(member, keep)


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    _mail_link_if_known(email, LinkPurpose.RESET_PASSWORD, "reset_password", "accounts.reset_password")


def reset_password(secret: str, new_password: str) -> Member:
    check_password_rules(new_password)
    member = _redeem(secret, LinkPurpose.RESET_PASSWORD, utcnow())
    member.password_hash = generate_password_hash(new_password)
    end_sessions(member)
    return member


def change_password(member: Member, *, current: str, new: str) -> None:
    check_password(member, current)
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


def update_profile(
    member: Member,
    *,
    weekly_digest: bool | None = None,
    language: str | None = None,
    timezone: str | None = None,
    **fields: str,
) -> Member:
    """Save the member's profile; `language` and `timezone` "" follow the browser and the first chapter,
    None leaves them as they are."""
    renamed = (
        "display_name" in fields and check_display_name(fields["display_name"] or "") != member.display_name
    )
    if language is not None:
        if language and language not in LANGUAGES:
            raise DomainError(_("Choose one of these languages: %(codes)s.", codes=", ".join(LANGUAGES)))
        member.language = language or None
    if timezone is not None:
        timezone = timezone.strip()
        if timezone and timezone not in time_zones():
            raise DomainError(not_a_time_zone(timezone))
        member.timezone = timezone or None
    for name in PROFILE_FIELDS:
        if name in fields:
            setattr(member, name, (fields[name] or "").strip())
    if weekly_digest is not None:
        member.weekly_digest = weekly_digest
    db.session.flush()
    if renamed:
        events.member_renamed.send(member)
    return member
