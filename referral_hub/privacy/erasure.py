"""Deleting an account: the member's name, profile, address and password are erased for good, while
the history others share (introductions, the ledger, interactions) is kept under "Former member"."""

from datetime import datetime

from sqlalchemy import and_, case, delete, func, or_, select, text, update

from .. import events
from ..accounts import photos, two_factor
from ..accounts.models import AccountLink, Member, MemberSession
from ..accounts.services import PROFILE_FIELDS, check_password
from ..chapters.models import Invitation, Membership, MembershipStatus
from ..chapters.services import LastOrganizer, leave
from ..clock import utcnow
from ..extensions import db
from ..i18n import gettext as _
from ..introductions.answering import cancel_involving
from ..introductions.models import Introduction
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..mail.models import OutboxMessage, OutboxStatus
from ..needs import services as needs
from ..needs.models import Need, NeedStatus
from ..relationships.connector_requests import close_requests_involving
from ..relationships.models import Interaction, IntroRequest, NudgeResponse
from ..reports.models import ApiToken

FORMER_MEMBER = "Former member"
NEED_OF_A_FORMER_MEMBER = "A need of a former member"


def erase(
    member: Member, *, password: str, code: str = "", address: str = "", now: datetime | None = None
) -> None:
    """Erase the member's account after they typed their password again (and a code, with two-factor on).

    The last organizer of a chapter is refused (LastOrganizer) before anything changes. Then:
    memberships end; the account's name becomes "Former member" and its profile, address and
    password are erased (the address key becomes a tombstone, so the address can register again);
    pending introductions they made or are a party of are cancelled and open needs closed (every
    need's words erased), telling nobody; open connector asks about them are closed and refunded;
    API tokens are revoked; their old name is taken out of the notes and memos others keep; every
    session ends and is forgotten, with the two-factor secret and recovery codes.
    """
    check_password(member, password)
    if two_factor.is_on(member):
        two_factor.check_code_counted(member, code, address=address, now=now)
    now = now or utcnow()
    old_name, old_email = member.display_name, member.email
    _end_memberships(member, now)
    _erase_account(member, now)
    # Cancelled as when a party leaves: nothing is shared or credited, and nobody is told.
    cancel_involving(member.id, now=now)
    _close_needs(member)
    close_requests_involving(member, now=now)
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    _forget_address(member, old_email, now)
    db.session.execute(delete(NudgeResponse).where(NudgeResponse.member_id == member.id))
    _take_name_out_of_history(member, old_name)
    # Deleted, not ended: a session row keeps the member's addresses and browsers.
    db.session.execute(delete(MemberSession).where(MemberSession.member_id == member.id))
    two_factor.forget(member)
    photos.remove_photo(member)
    db.session.flush()


def _end_memberships(member: Member, now: datetime) -> None:
    for membership in db.session.scalars(
        select(Membership)
        .where(
            Membership.member_id == member.id,
            Membership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.PENDING]),
        )
        .order_by(Membership.id)
    ).all():
        if membership.status is MembershipStatus.PENDING:
            membership.status, membership.ended_at = MembershipStatus.LEFT, now
            continue
        try:
            leave(membership)
        except LastOrganizer:
            raise LastOrganizer(
                _(
                    "You are the last organizer of %(chapter)s: make another member an organizer there "
                    "first (or ask them to), then delete your account.",
                    chapter=membership.chapter.name,
                )
            ) from None


def _close_needs(member: Member) -> None:
    """Open needs close; every need's words are the member's own (a phone number, a name), so they go."""
    for need in db.session.scalars(
        select(Need).where(Need.asker_id == member.id, Need.status == NeedStatus.OPEN).order_by(Need.id)
    ).all():
        needs.close(need, member)
    db.session.execute(
        update(Need)
        .where(Need.asker_id == member.id)
        .values(title=NEED_OF_A_FORMER_MEMBER, details="", category="")
        .execution_options(synchronize_session=False)
    )


def _erase_account(member: Member, now: datetime) -> None:
    for name in PROFILE_FIELDS:
        setattr(member, name, "")
    member.display_name = FORMER_MEMBER
    # Nothing can be mailed to or sign in as an erased account: no address, no password. The key
    # has no @, so no address typed into a form can ever match it.
    member.email, member.email_key = "", f"erased:{member.id}"
    member.password_hash = ""
    member.weekly_digest = False
    member.erased_at = now
    db.session.flush()
    events.member_renamed.send(member)


def _forget_address(member: Member, old_email: str, now: datetime) -> None:
    """The links mailed to the account, mail not yet sent to it, and invitations to its address."""
    db.session.execute(delete(AccountLink).where(AccountLink.member_id == member.id))
    if not old_email:
        return
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.to_address == old_email, OutboxMessage.status == OutboxStatus.PENDING
        )
    )
    db.session.execute(
        update(Invitation)
        .where(or_(Invitation.accepted_by_id == member.id, func.lower(Invitation.email) == old_email.lower()))
        .values(
            email=f"{member.email_key.replace(':', '-')}@erased.invalid",
            # An open invitation stops working (and leaves the organizer's list of open ones).
            expires_at=case((Invitation.expires_at > now, now), else_=Invitation.expires_at),
        )
        .execution_options(synchronize_session=False)
    )


def _take_name_out_of_history(member: Member, old_name: str) -> None:
    """Notes and memos others keep were written with the member's name: it becomes "Former member"
    (the ledger's amounts, and so its invariants, are untouched)."""
    if not old_name or old_name == FORMER_MEMBER:
        return

    def renamed(column):
        return func.replace(column, old_name, FORMER_MEMBER)

    def scrub(model, column, *where):
        db.session.execute(
            update(model)
            .where(*where, column.contains(old_name, autoescape=True))
            .values({column.key: renamed(column)})
            .execution_options(synchronize_session=False)
        )

    intro_ids = select(Introduction.id).where(Introduction.involving(member.id))
    request_ids = select(IntroRequest.id).where(
        or_(
            IntroRequest.asker_id == member.id,
            IntroRequest.connector_id == member.id,
            IntroRequest.target_id == member.id,
        )
    )
    own_entries = (
        select(LedgerEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.member_id == member.id)
    )
    scrub(Introduction, Introduction.note, Introduction.id.in_(intro_ids))
    scrub(IntroRequest, IntroRequest.note, IntroRequest.id.in_(request_ids))
    scrub(
        Interaction,
        Interaction.note,
        or_(Interaction.pair_low_id == member.id, Interaction.pair_high_id == member.id),
    )

    def about(subject_type: str, subject_ids):
        T = LedgerTransaction  # noqa: N806 - short, as the ledger's own queries name it
        return and_(T.subject_type == subject_type, T.subject_id.in_(subject_ids))

    # The ledger is append-only; on PostgreSQL its trigger lets a transaction that says it is erasing
    # change a memo and nothing else (migration 612adf586f9c). The amounts are never touched.
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        db.session.execute(text("SELECT set_config('referral_hub.erasing', 'on', true)"))
    scrub(
        LedgerTransaction,
        LedgerTransaction.memo,
        or_(
            LedgerTransaction.caused_by_id == member.id,
            LedgerTransaction.id.in_(own_entries),
            about("introduction", intro_ids),
            about("intro_request", request_ids),
        ),
    )
    if postgresql:
        db.session.execute(text("SELECT set_config('referral_hub.erasing', 'off', true)"))
