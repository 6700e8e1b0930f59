"""Posting to the ledger: one balanced transaction per business event, recorded once under its key."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import events
from ..accounts.models import Member
from ..chapters.models import Chapter, Membership
from ..chapters.policy import policy_for
from ..clock import utcnow
from ..database import upsert
from ..errors import Conflict, DomainError
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..wording import counted
from .models import KEY_LENGTH, MEMO_LENGTH, Kind, LedgerAccount, LedgerEntry, LedgerTransaction

POOL = None  # an entry's holder: the chapter's pool, where credits come from and asks go to
HOW_TO_EARN = _l("Earn credits by making an introduction that both sides accept.")


def credits(count: int) -> str:
    return counted(count, "credits")


class InsufficientCredits(DomainError):
    code = "insufficient_credits"

    def __init__(self, *, member: Member, chapter: Chapter, balance: int, cost: int):
        self.member, self.chapter, self.balance, self.cost = member, chapter, balance, cost
        super().__init__(
            _(
                "You have %(balance)s in %(chapter)s, and this costs %(cost)s. %(how_to_earn)s",
                balance=credits(balance),
                chapter=chapter.name,
                cost=credits(cost),
                how_to_earn=HOW_TO_EARN,
            )
        )


class IdempotencyConflict(Conflict):
    """The same request key came with different details."""

    message = _l("This was already recorded with different details. Reload the page and try again.")
    code = "idempotency_conflict"


class NotAMember(DomainError):
    """Credits move only for current members."""

    message = _l("That person is not a current member of this chapter.")

    code = "not_a_member"


@dataclass(frozen=True)
class _Content:
    """What makes two postings under one key the same event (the memo and author are only words)."""

    chapter_id: int
    kind: Kind
    legs: frozenset[tuple[int | None, int]]
    subject_type: str | None
    subject_id: int | None
    reverses_id: int | None


def post(
    chapter: Chapter,
    *,
    key: str,
    kind: Kind,
    memo: str,
    caused_by: Member | None,
    entries: Sequence[tuple[Member | None, int]],
    subject_type: str | None = None,
    subject_id: int | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Record one balanced transaction under `key`, or return the one already recorded under it.

    Raises InsufficientCredits (and writes nothing) when a member's account would go below zero.
    """
    kind = Kind(kind)
    legs, members = _legs(entries)
    if not key or len(key) > KEY_LENGTH:
        raise ValueError(f"an idempotency key has 1 to {KEY_LENGTH} characters")
    if (kind is Kind.REVERSAL) != (reverses is not None):
        raise ValueError("a reversal, and only a reversal, names the transaction it reverses")
    content = _Content(
        chapter.id, kind, frozenset(legs), subject_type, subject_id, reverses.id if reverses else None
    )
    try:
        # A key recorded already fails the insert on its unique index, and the savepoint undoes the
        # attempt: the posting under it is read only then, never on the way to a new one.
        with db.session.begin_nested():
            transaction = LedgerTransaction(
                chapter_id=chapter.id,
                kind=kind,
                idempotency_key=key,
                memo=_fit(memo),
                caused_by_id=caused_by.id if caused_by else None,
                subject_type=subject_type,
                subject_id=subject_id,
                reverses_id=content.reverses_id,
                created_at=utcnow(),
            )
            db.session.add(transaction)
            db.session.flush()  # the unique key decides here, a repeat or a race between two posters
            # The kept figures first: every transaction locks its chapter's day row before any ledger
            # account (a need counts its day before it charges the asker), so two postings in one
            # chapter never wait for each other in a cycle. A refusal below undoes them with the rest.
            events.transaction_posted.send(transaction, legs=legs)
            accounts = _account_ids(chapter, {holder for holder, _ in legs})
            _move_credits(chapter, accounts, legs, members)
            db.session.execute(
                insert(LedgerEntry),
                [
                    {"transaction_id": transaction.id, "account_id": accounts[holder], "amount": amount}
                    for holder, amount in legs
                ],
            )
    except IntegrityError:
        existing = _transaction_by_key(key)
        if existing is None:
            raise
        return _same_or_conflict(existing, content)
    return transaction


def _legs(entries) -> tuple[list[tuple[int | None, int]], dict[int, Member]]:
    """Entries as (member id or None for the pool, amount); a malformed list is the caller's bug."""
    legs, members = [], {}
    for holder, amount in entries:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise ValueError(f"an entry moves a non-zero whole number of credits, not {amount!r}")
        if holder is POOL:
            legs.append((POOL, amount))
            continue
        if holder.id is None:
            raise ValueError("a member entry needs a member that is in the database")
        members[holder.id] = holder
        legs.append((holder.id, amount))
    if len(legs) < 2:
        raise ValueError("a transaction has at least two entries")
    if len({holder for holder, _ in legs}) != len(legs):
        raise ValueError("a transaction has one entry per account")
    if sum(amount for _, amount in legs) != 0:
        raise ValueError("a transaction's entries sum to zero")
    return legs, members


def _fit(memo: str) -> str:
    memo = " ".join((memo or "").split())
    return memo if len(memo) <= MEMO_LENGTH else memo[: MEMO_LENGTH - 1] + "…"


def _transaction_by_key(key: str) -> LedgerTransaction | None:
    return db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))


def _same_or_conflict(existing: LedgerTransaction, content: _Content) -> LedgerTransaction:
    legs = db.session.execute(
        select(LedgerAccount.member_id, LedgerEntry.amount)
        .join(LedgerEntry.account)
        .where(LedgerEntry.transaction_id == existing.id)
    ).all()
    recorded = _Content(
        existing.chapter_id,
        existing.kind,
        frozenset((holder, amount) for holder, amount in legs),
        existing.subject_type,
        existing.subject_id,
        existing.reverses_id,
    )
    if recorded != content:
        raise IdempotencyConflict()
    return existing


def _account_ids(chapter: Chapter, holders: set[int | None]) -> dict[int | None, int]:
    """The account id of each holder in the chapter, opening the accounts that do not exist yet."""

    def existing() -> dict[int | None, int]:
        member_ids = [holder for holder in holders if holder is not POOL]
        wanted = [LedgerAccount.member_id.in_(member_ids)]
        if POOL in holders:
            wanted.append(LedgerAccount.member_id.is_(None))
        rows = db.session.execute(
            select(LedgerAccount.member_id, LedgerAccount.id).where(
                LedgerAccount.chapter_id == chapter.id, or_(*wanted)
            )
        )
        return dict(rows.all())

    found = existing()
    missing = holders - found.keys()
    if missing:
        now = utcnow()
        try:
            with db.session.begin_nested():
                # Two first posts may race to open an account: the unique index keeps one.
                db.session.execute(
                    upsert(LedgerAccount)
                    .values(
                        [
                            {"chapter_id": chapter.id, "member_id": holder, "balance": 0, "created_at": now}
                            for holder in missing
                        ]
                    )
                    .on_conflict_do_nothing()
                )
        except IntegrityError as error:  # the membership foreign key: not a member of this chapter
            raise NotAMember() from error
        found = existing()
    return found


def _move_credits(chapter, accounts, legs, members) -> None:
    # One account at a time in id order, so two postings never lock the same rows in opposite orders.
    for holder, amount in sorted(legs, key=lambda leg: accounts[leg[0]]):
        account_id = accounts[holder]
        statement = (
            update(LedgerAccount)
            .where(LedgerAccount.id == account_id)
            .values(balance=LedgerAccount.balance + amount)
            .execution_options(synchronize_session=False)
        )
        if holder is not POOL and amount < 0:
            # Check and debit in one statement: of two concurrent asks, the database lets one through.
            statement = statement.where(LedgerAccount.balance >= -amount)
        if db.session.execute(statement).rowcount != 1:
            current = db.session.scalar(select(LedgerAccount.balance).where(LedgerAccount.id == account_id))
            raise InsufficientCredits(member=members[holder], chapter=chapter, balance=current, cost=-amount)
        loaded = db.session.identity_map.get(db.session.identity_key(LedgerAccount, account_id))
        if loaded is not None:
            db.session.expire(loaded, ["balance"])


def welcome(membership: Membership) -> LedgerTransaction | None:
    """Give a new member the chapter's welcome credits, once per membership."""
    amount = policy_for(membership.chapter).welcome_credits
    if amount <= 0:
        return None
    key = f"welcome:{membership.id}"
    # A member who leaves and rejoins keeps their first welcome, even if the policy changed since.
    earlier = _transaction_by_key(key)
    if earlier is not None:
        return earlier
    return post(
        membership.chapter,
        key=key,
        kind=Kind.WELCOME,
        memo=f"Welcome to {membership.chapter.name}",
        caused_by=None,
        entries=[(POOL, -amount), (membership.member, amount)],
    )
