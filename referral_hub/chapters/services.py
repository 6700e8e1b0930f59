"""Chapter rules: creation, who may see a chapter, invitations, requests, roles, the directory."""

import functools
import re
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from .. import events
from ..accounts.models import Member, TwoFactor, email_key_of
from ..accounts.services import check_address, find_by_email
from ..clock import utcnow
from ..database import Page, page_of, paged
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..mail.services import absolute_url, enqueue
from ..tokens import LinkError, LinkExpired, LinkUnknown, LinkUsed, digest, new_secret
from .models import (
    Chapter,
    ChapterPolicy,
    Invitation,
    Membership,
    MembershipStatus,
    Role,
    current_member_count,
    current_members,
)
from .settings import checked_settings

INVITATION_LIFETIME = timedelta(days=14)
INVITATION_MESSAGE_LENGTH = 500


class ChapterExists(Conflict):
    """The slug is taken."""

    message = _l("A chapter with this slug already exists.")


class UnknownAccount(DomainError):
    code = "unknown_account"


class NotVerified(Forbidden):
    """Only a member with a verified address may join or be introduced."""

    message = _l("Verify your email address first: open the link we emailed you (you can ask for a new one).")

    code = "not_verified"


class AlreadyMember(Conflict):
    """The person is a member already."""

    message = _l("That person is already a member of this chapter.")


class InvitationForAnotherAddress(Forbidden):
    """The one opening the invitation is not the one it was sent to."""

    message = _l("This invitation was sent to another email address: log in with that address to join.")

    code = "invitation_for_another_address"


class InvitationCancelled(LinkError):
    status = 410
    title = _l("Invitation cancelled")
    message = _l(
        "The chapter's organizers cancelled this invitation, so the link no longer works. "
        "If you expected to join, ask them for a new invitation."
    )


class InvitationReplaced(LinkError):
    status = 410
    title = _l("A newer invitation was sent")
    message = _l(
        "The organizers sent you this invitation again, with a new link: open the latest invitation "
        "email. This older link no longer works."
    )


class InvitationClosed(Conflict):
    """The invitation is no longer open."""

    message = _l("This invitation was accepted or cancelled already.")


class LastOrganizer(DomainError):
    """The last organizer may not step down or be removed."""

    message = _l("A chapter needs at least one organizer: promote someone else first.")


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]


def create_chapter(
    name: str,
    *,
    organizer_email: str,
    slug: str | None = None,
    timezone: str | None = None,
    language: str | None = None,
    currency: str | None = None,
) -> Chapter:
    """A new chapter with its first organizer; zone, language and currency default to UTC, English, none."""
    settings = checked_settings(timezone=timezone, language=language, currency=currency)
    organizer = find_by_email(organizer_email)
    if organizer is None:
        raise UnknownAccount(
            _("No account has the address %(email)s; register it first.", email=organizer_email)
        )
    slug = slugify(slug or name)
    if not slug or not name.strip():
        raise DomainError(_("Give the chapter a name with at least one letter or digit."))
    chapter = Chapter(name=name.strip(), slug=slug, **settings)
    try:
        with db.session.begin_nested():
            db.session.add(chapter)
    except IntegrityError as error:
        raise ChapterExists(_("A chapter with the slug %(slug)r already exists.", slug=slug)) from error
    now = utcnow()
    db.session.add(
        Membership(
            chapter=chapter,
            member=organizer,
            display_name=organizer.display_name,
            role=Role.ORGANIZER,
            status=MembershipStatus.ACTIVE,
            requested_at=now,
            joined_at=now,
        )
    )
    db.session.flush()
    return chapter


def chapter_by_slug(slug: str) -> Chapter:
    chapter = db.session.scalar(select(Chapter).where(Chapter.slug == slug))
    if chapter is None:
        raise NotFound()
    return chapter


def membership_of(member: Member, slug: str) -> Membership:
    """The member's active membership of the chapter; NotFound (404) for everyone else."""
    membership = db.session.scalar(_membership_query(), {"slug": slug, "member_id": member.id})
    if membership is None:
        raise NotFound()
    return membership


@functools.cache
def _membership_query():
    """Built once (every chapter page reads it), with the chapter's slug and the member as parameters."""
    return (
        select(Membership)
        .join(Chapter)
        .where(
            Chapter.slug == bindparam("slug"),
            Membership.member_id == bindparam("member_id"),
            Membership.status == MembershipStatus.ACTIVE,
        )
        .options(contains_eager(Membership.chapter))
    )


class TwoFactorRequired(Forbidden):
    """The chapter's policy asks its organizers for two-factor sign-in."""

    message = _l(
        "This chapter asks its organizers to sign in with two-factor. Set it up to use its organizer pages."
    )

    code = "two_factor_required"


def organizer_of(member: Member, slug: str) -> Membership:
    """The member's organizer membership of the chapter, in one query: NotFound (404) for everyone
    outside it, Forbidden (403) for its other members, and TwoFactorRequired (403) for an organizer
    without two-factor sign-in when the chapter's policy asks organizers for it."""
    found = db.session.execute(
        select(Membership, ChapterPolicy.organizers_need_two_factor, TwoFactor.confirmed_at)
        .join(Chapter, Chapter.id == Membership.chapter_id)
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Chapter.id)
        .outerjoin(TwoFactor, TwoFactor.member_id == Membership.member_id)
        .where(
            Chapter.slug == slug,
            Membership.member_id == member.id,
            Membership.status == MembershipStatus.ACTIVE,
        )
        .options(contains_eager(Membership.chapter))
    ).one_or_none()
    if found is None:
        raise NotFound()
    membership, needs_two_factor, two_factor_since = found
    if membership.role is not Role.ORGANIZER:
        raise Forbidden(_("Only the chapter's organizers can do that."))
    if needs_two_factor and two_factor_since is None:
        raise TwoFactorRequired()
    return membership


def _require_verified(member: Member) -> None:
    if not member.is_verified:
        raise NotVerified()


# Invitations ---------------------------------------------------------------------------------


def invite(chapter: Chapter, *, email: str, invited_by: Member, message: str = "") -> Invitation:
    email = check_address(email)
    message = message.strip()
    if len(message) > INVITATION_MESSAGE_LENGTH:
        raise DomainError(
            _("Keep the message to %(num)d characters or fewer.", num=INVITATION_MESSAGE_LENGTH)
        )
    existing = find_by_email(email)
    if existing is not None and db.session.scalar(
        select(Membership.id).where(
            Membership.chapter_id == chapter.id,
            Membership.member_id == existing.id,
            Membership.status == MembershipStatus.ACTIVE,
        )
    ):
        raise AlreadyMember(
            _("%(email)s is already a member of %(chapter)s.", email=email, chapter=chapter.name)
        )
    return _send_invitation(chapter, email=email, invited_by=invited_by, message=message)


def _send_invitation(chapter: Chapter, *, email: str, invited_by: Member, message: str) -> Invitation:
    secret, token_hash = new_secret()
    now = utcnow()
    invitation = Invitation(
        chapter=chapter,
        email=email,
        invited_by=invited_by,
        token_hash=token_hash,
        message=message,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    enqueue(
        "invitation",
        to=email,
        **chapter.speaking_to(find_by_email(email)),
        chapter=chapter,
        inviter=invited_by,
        message=message,
        link=absolute_url("chapters.join", token=secret),
        expires_at=invitation.expires_at,
    )
    return invitation


def invitation_in(chapter: Chapter, invitation_id: int) -> Invitation:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.chapter_id == chapter.id, Invitation.id == invitation_id)
    )
    if invitation is None:
        raise NotFound(_("This chapter has no such invitation."))
    return invitation


def _close(invitation: Invitation, *, replaced_by: Invitation | None = None) -> None:
    """End an open invitation's link; of two organizers racing, one wins and the other is told."""
    closed = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.cancelled_at.is_(None),
        )
        .values(cancelled_at=utcnow(), replaced_by_id=replaced_by.id if replaced_by else None)
        .execution_options(synchronize_session="fetch")
    )
    if closed.rowcount != 1:
        raise InvitationClosed(
            _("The invitation to %(email)s was accepted or cancelled already.", email=invitation.email)
        )


def cancel_invitation(invitation: Invitation) -> Invitation:
    """The link stops working; the join page says the invitation was cancelled."""
    _close(invitation)
    db.session.flush()
    return invitation


def resend_invitation(invitation: Invitation, *, sent_by: Member) -> Invitation:
    """A new email with a new link and a fresh expiry; the old link stops working (it says a newer
    invitation was sent), so only the latest email can be used."""
    if invitation.accepted_at is not None or invitation.cancelled_at is not None:
        raise InvitationClosed(
            _("The invitation to %(email)s was accepted or cancelled already.", email=invitation.email)
        )
    fresh = _send_invitation(
        invitation.chapter, email=invitation.email, invited_by=sent_by, message=invitation.message
    )
    _close(invitation, replaced_by=fresh)
    db.session.flush()
    return fresh


def open_invitation(secret: str, *, now=None) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == digest(secret)))
    if invitation is None:
        raise LinkUnknown()
    if invitation.accepted_at is not None:
        raise LinkUsed()
    if invitation.replaced_by_id is not None:
        raise InvitationReplaced()
    if invitation.cancelled_at is not None:
        raise InvitationCancelled()
    if invitation.expires_at <= (now or utcnow()):
        raise LinkExpired()
    return invitation


def keep_name(member: Member) -> None:
    """The member's memberships take the member's display name, as it now is (events.member_renamed)."""
    db.session.execute(_keep_name_statement(), {"member": member.id, "name": member.display_name})


@functools.cache
def _keep_name_statement():
    table = Membership.__table__
    return (
        update(table).where(table.c.member_id == bindparam("member")).values(display_name=bindparam("name"))
    )


def _membership_row(chapter: Chapter, member: Member, *, status: MembershipStatus, now) -> Membership:
    """The member's membership row in the chapter, created with `status` if there is none yet.

    Two requests racing to create it (a double-submitted form) meet at the unique constraint:
    the loser takes the winner's row instead of failing.
    """
    existing = select(Membership).where(
        Membership.chapter_id == chapter.id, Membership.member_id == member.id
    )
    membership = db.session.scalar(existing)
    if membership is not None:
        return membership
    try:
        with db.session.begin_nested():
            membership = Membership(
                chapter=chapter,
                member=member,
                display_name=member.display_name,
                status=status,
                requested_at=now,
            )
            db.session.add(membership)
    except IntegrityError:
        membership = db.session.scalars(existing.execution_options(populate_existing=True)).one()
    return membership


def _activate(chapter: Chapter, member: Member, now) -> Membership:
    membership = _membership_row(chapter, member, status=MembershipStatus.PENDING, now=now)
    if membership.status is not MembershipStatus.ACTIVE:
        membership.status = MembershipStatus.ACTIVE
        membership.role = Role.MEMBER
        membership.joined_at = now
        membership.ended_at = None
        db.session.flush()
        events.member_joined.send(membership)
    db.session.flush()
    return membership


def is_addressed_to(invitation: Invitation, member: Member) -> bool:
    """Only the invited address may accept, compared by the key that makes addresses one account."""
    return email_key_of(invitation.email) == member.email_key


def accept_invitation(secret: str, member: Member) -> Membership:
    now = utcnow()
    invitation = open_invitation(secret, now=now)
    if not is_addressed_to(invitation, member):
        raise InvitationForAnotherAddress()
    _require_verified(member)
    # Of two clicks racing on one link, exactly one wins.
    used = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.cancelled_at.is_(None),
        )
        .values(accepted_at=now, accepted_by_id=member.id)
    )
    if used.rowcount != 1:
        raise LinkUsed()
    return _activate(invitation.chapter, member, now)


def open_invitations(chapter: Chapter) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.chapter_id == chapter.id,
                Invitation.accepted_at.is_(None),
                Invitation.cancelled_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
            .limit(100)
        )
    )


# Requests, roles, leaving --------------------------------------------------------------------


def request_to_join(slug: str, member: Member) -> Membership:
    _require_verified(member)
    chapter = db.session.scalar(select(Chapter).where(Chapter.slug == slugify(slug)))
    if chapter is None:
        raise NotFound(_("No chapter has the code %(slug)r. Check it with your organizer.", slug=slug))
    membership = _membership_row(chapter, member, status=MembershipStatus.PENDING, now=utcnow())
    if membership.status is MembershipStatus.ACTIVE:
        raise AlreadyMember(_("You are already a member of %(chapter)s.", chapter=chapter.name))
    if membership.status is MembershipStatus.REMOVED:
        raise Forbidden(_("An organizer removed you from this chapter; ask them for an invitation."))
    membership.status = MembershipStatus.PENDING
    membership.requested_at = utcnow()
    db.session.flush()
    return membership


def membership_in(chapter: Chapter, member_id: int) -> Membership:
    membership = db.session.scalar(
        select(Membership).where(Membership.chapter_id == chapter.id, Membership.member_id == member_id)
    )
    if membership is None:
        raise NotFound(_("That person has no membership in this chapter."))
    return membership


def _move(membership: Membership, *, from_status: MembershipStatus, to_status: MembershipStatus, now) -> None:
    if membership.status is not from_status:
        raise Conflict(
            _(
                "This membership is %(status)s, not %(expected)s.",
                status=membership.status.label,
                expected=from_status.label,
            )
        )
    membership.status = to_status
    if to_status is MembershipStatus.ACTIVE:
        membership.joined_at = now
        membership.ended_at = None  # a rejoining member's earlier ending is history, not their state
    else:
        membership.ended_at = now


def approve(membership: Membership) -> Membership:
    _move(membership, from_status=MembershipStatus.PENDING, to_status=MembershipStatus.ACTIVE, now=utcnow())
    db.session.flush()
    events.member_joined.send(membership)
    return membership


def decline(membership: Membership) -> Membership:
    _move(membership, from_status=MembershipStatus.PENDING, to_status=MembershipStatus.DECLINED, now=utcnow())
    db.session.flush()
    return membership


def promote(membership: Membership) -> Membership:
    if membership.status is not MembershipStatus.ACTIVE:
        raise Conflict(_("Only an active member can become an organizer."))
    membership.role = Role.ORGANIZER
    db.session.flush()
    return membership


def _organizer_count(chapter_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.chapter_id == chapter_id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.role == Role.ORGANIZER,
        )
    )


def _end(membership: Membership, status: MembershipStatus) -> Membership:
    if membership.is_organizer:
        # Lock the chapter so that two organizers leaving at once are counted one after the other
        # (SQLite has no FOR UPDATE, but its writing requests already run one at a time).
        db.session.execute(select(Chapter.id).where(Chapter.id == membership.chapter_id).with_for_update())
        if _organizer_count(membership.chapter_id) <= 1:
            raise LastOrganizer()
    _move(membership, from_status=MembershipStatus.ACTIVE, to_status=status, now=utcnow())
    membership.role = Role.MEMBER
    db.session.flush()
    return membership


def remove(membership: Membership) -> Membership:
    return _end(membership, MembershipStatus.REMOVED)


def leave(membership: Membership) -> Membership:
    return _end(membership, MembershipStatus.LEFT)


def readmit(membership: Membership) -> Membership:
    """An organizer undoes a removal or a departure: the member is active again, as a member."""
    if membership.status not in (MembershipStatus.REMOVED, MembershipStatus.LEFT):
        raise Conflict(_("Only a member who left or was removed can be re-admitted."))
    _move(membership, from_status=membership.status, to_status=MembershipStatus.ACTIVE, now=utcnow())
    membership.role = Role.MEMBER
    db.session.flush()
    events.member_joined.send(membership)
    return membership


FORMER_MEMBERS_SHOWN = 20
ROSTER_PAGE_SIZE = 25
REQUESTS_PAGE_SIZE = 25


def former_members(chapter: Chapter) -> list[Membership]:
    """The latest members who left or were removed, whom an organizer may re-admit."""
    return list(
        db.session.scalars(
            select(Membership)
            .where(
                Membership.chapter_id == chapter.id,
                Membership.status.in_([MembershipStatus.REMOVED, MembershipStatus.LEFT]),
            )
            .options(joinedload(Membership.member))
            .order_by(Membership.ended_at.desc(), Membership.id.desc())
            .limit(FORMER_MEMBERS_SHOWN)
        )
    )


def pending_requests(chapter: Chapter, *, page: int = 1) -> Page:
    """Requests to join, oldest first, a page at a time, with how many wait in all (counted in the
    same query): a chapter an open link has flooded still gets a page of a sane length."""
    parameters = {"chapter_id": chapter.id}
    query = _pending_requests_query()
    return page_of(query, parameters, page=page, per_page=REQUESTS_PAGE_SIZE, counted=True)


@functools.cache
def _pending_requests_query():
    return paged(
        select(Membership)
        .join(Membership.member)
        .where(_pending_in(bindparam("chapter_id")))
        .options(contains_eager(Membership.member))
        .order_by(Membership.requested_at, Membership.id),
        counted=True,
        total=_pending_request_count_query().scalar_subquery(),
    )


def pending_request_count(chapter: Chapter) -> int:
    """How many requests to join wait for an organizer: the overview says so without reading them."""
    return db.session.scalar(_pending_request_count_query(), {"chapter_id": chapter.id})


@functools.cache
def _pending_request_count_query():
    return select(func.count(Membership.id)).where(_pending_in(bindparam("chapter_id")))


def _pending_in(chapter_id):
    return (Membership.chapter_id == chapter_id) & (Membership.status == MembershipStatus.PENDING)


def roster(chapter: Chapter, *, page: int = 1) -> Page:
    """The chapter's active memberships with their members, by name, a page at a time, and how many
    there are (the organizer's page shows it), counted in the same query."""
    parameters = {"chapter_id": chapter.id}
    return page_of(_roster_query(), parameters, page=page, per_page=ROSTER_PAGE_SIZE, counted=True)


@functools.cache
def _roster_query():
    """Built once, the chapter as a parameter. The memberships' name index (the name each membership
    keeps) gives the page in order and the total from the index alone: neither sorts every member."""
    return paged(
        select(Membership)
        .join(Membership.member)
        .where(current_members(bindparam("chapter_id")))
        .options(contains_eager(Membership.member))
        .order_by(func.lower(Membership.display_name), Membership.member_id),
        counted=True,
        total=current_member_count(bindparam("chapter_id")),
    )
