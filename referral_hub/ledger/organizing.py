"""What organizers do to the books: grant credits from the pool or take them back, reverse a transaction."""

import uuid

from flask_babel import format_date
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import Member
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..errors import Conflict, DomainError
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from .models import MEMO_LENGTH, Kind, LedgerAccount, LedgerEntry, LedgerTransaction
from .posting import POOL, InsufficientCredits, NotAMember, credits, post

MAX_GRANT = 1000


class MemoRequired(DomainError):
    """Every organizer's change to the books says why."""

    message = _l("Write a memo that says why, so the chapter's books explain themselves.")


class InvalidAmount(DomainError):
    code = "invalid_amount"


class CannotTakeBack(DomainError):
    code = "cannot_take_back"


class SelfDealing(DomainError):
    """An organizer moving credits into or out of their own account."""

    message = _l("An organizer cannot move credits into or out of their own account: ask another organizer.")

    code = "self_dealing"


class CannotReverse(DomainError):
    code = "cannot_reverse"


class AlreadyReversed(Conflict):
    code = "already_reversed"


def _required_memo(memo: str | None) -> str:
    memo = " ".join((memo or "").split())
    if not memo:
        raise MemoRequired()
    if len(memo) > MEMO_LENGTH:
        raise MemoRequired(_("Keep the memo to %(num)d characters.", num=MEMO_LENGTH))
    return memo


def grant(
    chapter: Chapter,
    *,
    member_id: int,
    amount: int,
    memo: str,
    granted_by: Member,
    request_key: str | None = None,
) -> LedgerTransaction:
    """Give a member credits from the pool, or take them back with a negative amount (never below zero).

    `request_key` names one submission of the grant form, so a double click grants once.
    """
    memo = _required_memo(memo)
    if member_id == granted_by.id:
        raise SelfDealing(
            _(
                "You cannot grant credits to yourself or take them from yourself: "
                "another organizer of the chapter can."
            )
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > MAX_GRANT:
        raise InvalidAmount(
            _(
                "Enter a whole number of credits from %(low)d to %(high)d, other than zero.",
                low=-MAX_GRANT,
                high=MAX_GRANT,
            )
        )
    recipient = db.session.scalar(
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.chapter_id == chapter.id,
            Membership.member_id == member_id,
            Membership.status == MembershipStatus.ACTIVE,
        )
    )
    if recipient is None:
        raise NotAMember()
    try:
        return post(
            chapter,
            key=f"grant:{chapter.id}:{request_key or uuid.uuid4().hex}",
            kind=Kind.GRANT,
            memo=memo,
            caused_by=granted_by,
            entries=[(POOL, -amount), (recipient, amount)],
        )
    except InsufficientCredits as error:
        raise CannotTakeBack(
            _(
                "%(name)s has %(balance)s, so you cannot take back %(amount)d: "
                "a member's balance never goes below zero.",
                name=recipient.display_name,
                balance=credits(error.balance),
                amount=-amount,
            )
        ) from error


def reverse(transaction: LedgerTransaction, *, memo: str, caused_by: Member | None) -> LedgerTransaction:
    """Undo a transaction with one that mirrors it. Each transaction can be reversed once."""
    memo = _required_memo(memo)
    if transaction.kind is Kind.REVERSAL:
        raise CannotReverse(_("A reversal cannot itself be reversed; make a grant instead."))
    earlier = db.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.reverses_id == transaction.id)
    )
    if earlier is not None:
        raise AlreadyReversed(
            _(
                "Transaction #%(number)d was already reversed on %(day)s (transaction #%(reversal)d); "
                "a transaction is reversed once.",
                number=transaction.id,
                day=format_date(earlier.created_at),
                reversal=earlier.id,
            )
        )
    legs = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.transaction_id == transaction.id)
        .options(joinedload(LedgerEntry.account).joinedload(LedgerAccount.member))
    ).all()
    if caused_by is not None and any(leg.account.member_id == caused_by.id for leg in legs):
        raise SelfDealing(
            _(
                "This transaction is on your own account, so you cannot reverse it: "
                "another organizer of the chapter can."
            )
        )
    try:
        return post(
            transaction.chapter,
            key=f"reversal:{transaction.id}",
            kind=Kind.REVERSAL,
            memo=memo,
            caused_by=caused_by,
            entries=[(leg.account.member if leg.account.member_id else POOL, -leg.amount) for leg in legs],
            subject_type=transaction.subject_type,
            subject_id=transaction.subject_id,
            reverses=transaction,
        )
    except InsufficientCredits as error:
        raise CannotReverse(
            _(
                "Reversing this would take %(name)s below zero: they have %(balance)s "
                "and the reversal takes %(cost)d.",
                name=error.member.display_name,
                balance=credits(error.balance),
                cost=error.cost,
            )
        ) from error
