"""Changing a member's address: it takes effect when verified from the new address, and the old
address can undo it for 7 days."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..errors import Conflict, DomainError
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..mail.services import absolute_url, enqueue
from .models import AccountLink, LinkPurpose, Member, email_key_of
from .services import (
    LINK_LIFETIME,
    check_address,
    check_password,
    clashes_on_email_key,
    end_sessions,
    find_by_email,
    issue_link,
    open_link,
    use_link,
)

UNDO_WITHIN = LINK_LIFETIME[LinkPurpose.UNDO_EMAIL_CHANGE]


class AddressUnchanged(DomainError):
    message = _l("That is already your address: type the new one.")

    code = "address_unchanged"


class AddressTaken(Conflict):
    message = _l("That address belongs to another account now, so your address stays as it was.")

    code = "address_taken"


def request_change(member: Member, *, new_email: str, password: str) -> None:
    """Mail the new address a link that makes the change. An address that has an account gets a
    note instead; the member is answered the same way, so the form does not tell whose it is."""
    check_password(member, password)
    new_email = check_address(new_email)
    if email_key_of(new_email) == member.email_key:
        raise AddressUnchanged()
    # Issued either way, so both answers do the same work; a taken address's note carries no link.
    secret = issue_link(member, LinkPurpose.CHANGE_EMAIL, email=new_email)
    if (owner := find_by_email(new_email)) is not None:
        enqueue(
            "email_change_taken",
            to=new_email,
            **owner.speaking(),
            login_link=absolute_url("accounts.login"),
        )
        return
    enqueue(
        "email_change_confirm",
        to=new_email,
        **member.speaking(),
        member=member,
        new_email=new_email,
        link=absolute_url("accounts.confirm_email_change", token=secret),
    )


def _move(member: Member, email: str, now: datetime) -> None:
    """Give the member `email`, verified now; AddressTaken if another account has it (the unique key
    decides a race)."""
    owner = find_by_email(email)
    if owner is not None and owner.id != member.id:
        raise AddressTaken()
    member.email, member.email_key, member.email_verified_at = email, email_key_of(email), now
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        if not clashes_on_email_key(error):
            raise
        raise AddressTaken() from error


def _close_pending_changes(member: Member, now: datetime) -> None:
    """Links to change the address that are not used yet stop working."""
    db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.member_id == member.id,
            AccountLink.purpose == LinkPurpose.CHANGE_EMAIL,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def confirm_change(secret: str, *, now: datetime | None = None) -> Member:
    """The new address is verified: it becomes the member's, the old address gets a notice with a
    link to undo, and every session ends (the caller starts the current one again)."""
    now = now or utcnow()
    link = open_link(secret, LinkPurpose.CHANGE_EMAIL, now=now)
    use_link(link, now)
    member, old_email = link.member, link.member.email
    _move(member, link.email, now)
    _close_pending_changes(member, now)
    undo = issue_link(member, LinkPurpose.UNDO_EMAIL_CHANGE, email=old_email)
    enqueue(
        "email_changed",
        to=old_email,
        **member.speaking(),
        member=member,
        new_email=member.email,
        link=absolute_url("accounts.undo_email_change", token=undo),
        undo_until=now + UNDO_WITHIN,
    )
    end_sessions(member)
    return member


def undo_change(secret: str, *, now: datetime | None = None) -> Member:
    """The old address comes back (verified: the link reached it), pending changes stop, and every
    session ends, including one whoever made the change holds."""
    now = now or utcnow()
    link = open_link(secret, LinkPurpose.UNDO_EMAIL_CHANGE, now=now)
    use_link(link, now)
    member = link.member
    _move(member, link.email, now)
    _close_pending_changes(member, now)
    end_sessions(member)
    return member


def pending_change(member: Member) -> AccountLink | None:
    """The newest change the member asked for that is neither made nor expired yet."""
    return db.session.scalar(
        select(AccountLink)
        .where(
            AccountLink.member_id == member.id,
            AccountLink.purpose == LinkPurpose.CHANGE_EMAIL,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .order_by(AccountLink.id.desc())
        .limit(1)
    )
