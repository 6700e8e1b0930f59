"""Ledger rules: post balanced transactions once, balances, grants, reversals, policy, and verification."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, true, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload, with_expression

from ..accounts.models import Member
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..clock import utcnow
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from .models import (
    KEY_LENGTH,
    MEMO_LENGTH,
    POLICY_SETTINGS,
    ChapterPolicy,
    Kind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PolicyChange,
)

POOL = None  # an entry's holder: the chapter's pool, where credits come from and asks go to
MAX_GRANT = 1000
HISTORY_PAGE_SIZE = 25
CHAPTER_LEDGER_PAGE_SIZE = 25
HOW_TO_EARN = "Earn credits by making an introduction that both sides accept."


def counted(count: int, plural: str) -> str:
    """`3 entries`, `1 entry`, `1 credit`: a number with its noun."""
    if abs(count) != 1:
        return f"{count} {plural}"
    return f"{count} {plural[:-3] + 'y' if plural.endswith('ies') else plural[:-1]}"


def credits(count: int) -> str:
    return counted(count, "credits")


# Errors ---------------------------------------------------------------------------------------


class InsufficientCredits(DomainError):
    code = "insufficient_credits"

    def __init__(self, *, member: Member, chapter: Chapter, balance: int, cost: int):
        self.member, self.chapter, self.balance, self.cost = member, chapter, balance, cost
        super().__init__(
            f"You have {credits(balance)} in {chapter.name}, and this costs {credits(cost)}. {HOW_TO_EARN}"
        )


class IdempotencyConflict(Conflict):
    """This was already recorded with different details. Reload the page and try again."""

    code = "idempotency_conflict"


class MemoRequired(DomainError):
    """Write a memo that says why, so the chapter's books explain themselves."""


class InvalidAmount(DomainError):
    code = "invalid_amount"


class NotAMember(DomainError):
    """That person is not a current member of this chapter."""

    code = "not_a_member"


class CannotTakeBack(DomainError):
    code = "cannot_take_back"


class SelfDealing(DomainError):
    """An organizer cannot move credits into or out of their own account: ask another organizer."""

    code = "self_dealing"


class CannotReverse(DomainError):
    code = "cannot_reverse"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class InvalidPolicy(DomainError):
    code = "invalid_policy"


# Posting --------------------------------------------------------------------------------------


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
    existing = _transaction_by_key(key)
    if existing is not None:
        return _same_or_conflict(existing, content)
    try:
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
            db.session.flush()  # the unique key decides a race between two posters here
            accounts = _account_ids(chapter, {holder for holder, _ in legs})
            _move_credits(chapter, accounts, legs, members)
            db.session.add_all(
                LedgerEntry(transaction_id=transaction.id, account_id=accounts[holder], amount=amount)
                for holder, amount in legs
            )
            db.session.flush()
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


def _insert_ignoring_duplicates(table):
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


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
                    _insert_ignoring_duplicates(LedgerAccount).values(
                        [
                            {"chapter_id": chapter.id, "member_id": holder, "balance": 0, "created_at": now}
                            for holder in missing
                        ]
                    )
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


# Balances and history -------------------------------------------------------------------------


def balance(chapter: Chapter, member: Member) -> int:
    return (
        db.session.scalar(
            select(LedgerAccount.balance).where(
                LedgerAccount.chapter_id == chapter.id, LedgerAccount.member_id == member.id
            )
        )
        or 0
    )


@dataclass(frozen=True)
class ChapterBalance:
    chapter: Chapter
    balance: int
    intro_reward: int
    need_cost: int


def _setting(name: str):
    return func.coalesce(getattr(ChapterPolicy, name), POLICY_SETTINGS[name][0])


def chapter_balances(member: Member) -> list[ChapterBalance]:
    """The member's balance in each chapter they belong to, with what giving earns and asking costs."""
    rows = db.session.execute(
        select(
            Chapter,
            func.coalesce(LedgerAccount.balance, 0),
            _setting("intro_reward"),
            _setting("need_cost"),
        )
        .join(Membership, Membership.chapter_id == Chapter.id)
        .outerjoin(
            LedgerAccount,
            and_(LedgerAccount.chapter_id == Chapter.id, LedgerAccount.member_id == member.id),
        )
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Chapter.id)
        .where(Membership.member_id == member.id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(Chapter.name, Chapter.id)
    )
    return [ChapterBalance(*row) for row in rows]


def balances_of(member: Member) -> list[tuple[Chapter, int]]:
    return [(row.chapter, row.balance) for row in chapter_balances(member)]


def _running_balance():
    return func.sum(LedgerEntry.amount).over(partition_by=LedgerEntry.account_id, order_by=LedgerEntry.id)


def history(member: Member, *, page: int = 1):
    """The member's entries in every chapter, newest first, each with the account's balance after it."""
    statement = (
        select(LedgerEntry)
        .join(LedgerEntry.account)
        .join(LedgerAccount.chapter)
        .join(LedgerEntry.transaction)
        .where(LedgerAccount.member_id == member.id)
        .options(
            with_expression(LedgerEntry.running_balance, _running_balance()),
            contains_eager(LedgerEntry.account).contains_eager(LedgerAccount.chapter),
            contains_eager(LedgerEntry.transaction),
        )
        .order_by(LedgerEntry.id.desc())
    )
    return db.paginate(statement, page=page, per_page=HISTORY_PAGE_SIZE, error_out=False)


@dataclass(frozen=True)
class LedgerFilter:
    member_id: int | None = None
    kind: Kind | None = None
    since: date | None = None
    until: date | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def chapter_ledger(chapter: Chapter, criteria: LedgerFilter | None = None, *, page: int = 1):
    """The chapter's transactions, newest first, filtered, with their entries and accounts."""
    criteria = criteria or LedgerFilter()
    statement = (
        select(LedgerTransaction)
        .where(LedgerTransaction.chapter_id == chapter.id)
        .options(
            selectinload(LedgerTransaction.entries)
            .joinedload(LedgerEntry.account)
            .joinedload(LedgerAccount.member),
            joinedload(LedgerTransaction.caused_by),
            selectinload(LedgerTransaction.reversed_by),
        )
        .order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
    )
    if criteria.member_id is not None:
        statement = statement.where(
            LedgerTransaction.id.in_(
                select(LedgerEntry.transaction_id)
                .join(LedgerEntry.account)
                .where(LedgerAccount.chapter_id == chapter.id, LedgerAccount.member_id == criteria.member_id)
            )
        )
    if criteria.kind is not None:
        statement = statement.where(LedgerTransaction.kind == criteria.kind)
    if criteria.since is not None:
        statement = statement.where(LedgerTransaction.created_at >= _start_of(criteria.since))
    if criteria.until is not None:
        statement = statement.where(
            LedgerTransaction.created_at < _start_of(criteria.until + timedelta(days=1))
        )
    return db.paginate(statement, page=page, per_page=CHAPTER_LEDGER_PAGE_SIZE, error_out=False)


def transaction_in(chapter: Chapter, transaction_id: int) -> LedgerTransaction:
    transaction = db.session.scalar(
        select(LedgerTransaction)
        .where(LedgerTransaction.id == transaction_id, LedgerTransaction.chapter_id == chapter.id)
        .options(
            selectinload(LedgerTransaction.entries)
            .joinedload(LedgerEntry.account)
            .joinedload(LedgerAccount.member),
            joinedload(LedgerTransaction.caused_by),
            joinedload(LedgerTransaction.reverses),
            selectinload(LedgerTransaction.reversed_by),
        )
    )
    if transaction is None:
        raise NotFound("This chapter's ledger has no such transaction.")
    return transaction


@dataclass(frozen=True)
class MemberBalance:
    member: Member
    balance: int


def member_balances(chapter: Chapter) -> list[MemberBalance]:
    """Every current member of the chapter with their balance, for the organizer."""
    rows = db.session.execute(
        select(Member, func.coalesce(LedgerAccount.balance, 0))
        .join(Membership, Membership.member_id == Member.id)
        .outerjoin(
            LedgerAccount,
            and_(LedgerAccount.chapter_id == Membership.chapter_id, LedgerAccount.member_id == Member.id),
        )
        .where(Membership.chapter_id == chapter.id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(func.lower(Member.display_name), Member.id)
    )
    return [MemberBalance(*row) for row in rows]


def pool_balance(chapter: Chapter) -> int:
    return (
        db.session.scalar(
            select(LedgerAccount.balance).where(
                LedgerAccount.chapter_id == chapter.id, LedgerAccount.member_id.is_(None)
            )
        )
        or 0
    )


# Organizer actions ----------------------------------------------------------------------------


def _required_memo(memo: str | None) -> str:
    memo = " ".join((memo or "").split())
    if not memo:
        raise MemoRequired()
    if len(memo) > MEMO_LENGTH:
        raise MemoRequired(f"Keep the memo to {MEMO_LENGTH} characters.")
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
            "You cannot grant credits to yourself or take them from yourself: "
            "another organizer of the chapter can."
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > MAX_GRANT:
        raise InvalidAmount(
            f"Enter a whole number of credits from -{MAX_GRANT} to {MAX_GRANT}, other than zero."
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
            f"{recipient.display_name} has {credits(error.balance)}, so you cannot take back {-amount}: "
            "a member's balance never goes below zero."
        ) from error


def reverse(transaction: LedgerTransaction, *, memo: str, caused_by: Member | None) -> LedgerTransaction:
    """Undo a transaction with one that mirrors it. Each transaction can be reversed once."""
    memo = _required_memo(memo)
    if transaction.kind is Kind.REVERSAL:
        raise CannotReverse("A reversal cannot itself be reversed; make a grant instead.")
    earlier = db.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.reverses_id == transaction.id)
    )
    if earlier is not None:
        raise AlreadyReversed(
            f"Transaction #{transaction.id} was already reversed on "
            f"{earlier.created_at:%d %b %Y} (transaction #{earlier.id}); a transaction is reversed once."
        )
    legs = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.transaction_id == transaction.id)
        .options(joinedload(LedgerEntry.account).joinedload(LedgerAccount.member))
    ).all()
    if caused_by is not None and any(leg.account.member_id == caused_by.id for leg in legs):
        raise SelfDealing(
            "This transaction is on your own account, so you cannot reverse it: "
            "another organizer of the chapter can."
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
            f"Reversing this would take {error.member.display_name} below zero: they have "
            f"{credits(error.balance)} and the reversal takes {error.cost}."
        ) from error


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


# Policy ---------------------------------------------------------------------------------------


def policy_for(chapter: Chapter) -> ChapterPolicy:
    """The chapter's policy; DESIGN.md's defaults until an organizer first changes it."""
    return db.session.get(ChapterPolicy, chapter.id) or ChapterPolicy.defaults(chapter.id)


def update_policy(chapter: Chapter, *, changed_by: Member, settings: dict[str, int]) -> list[PolicyChange]:
    """Change some of the chapter's settings, recording each change with who and when."""
    for name, value in settings.items():
        if name not in POLICY_SETTINGS:
            raise InvalidPolicy(f"There is no setting called {name!r}.")
        _default, low, high, label = POLICY_SETTINGS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidPolicy(f"{label}: choose a whole number from {low} to {high}.")
    db.session.execute(
        _insert_ignoring_duplicates(ChapterPolicy).values(
            chapter_id=chapter.id, updated_at=utcnow(), **ChapterPolicy.defaults(chapter.id).settings()
        )
    )
    # Locked, so two organizers saving at once record their changes one after the other.
    policy = db.session.scalar(
        select(ChapterPolicy)
        .where(ChapterPolicy.chapter_id == chapter.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = utcnow()
    changes = []
    for name, value in settings.items():
        if getattr(policy, name) != value:
            changes.append(
                PolicyChange(
                    chapter_id=chapter.id,
                    setting=name,
                    old_value=getattr(policy, name),
                    new_value=value,
                    changed_by_id=changed_by.id,
                    changed_at=now,
                )
            )
            setattr(policy, name, value)
    if changes:
        policy.updated_at = now
        policy.updated_by_id = changed_by.id
        db.session.add_all(changes)
        db.session.flush()
    return changes


def policy_history(chapter: Chapter, *, limit: int = 50) -> list[PolicyChange]:
    return list(
        db.session.scalars(
            select(PolicyChange)
            .where(PolicyChange.chapter_id == chapter.id)
            .options(joinedload(PolicyChange.changed_by))
            .order_by(PolicyChange.changed_at.desc(), PolicyChange.id.desc())
            .limit(limit)
        )
    )


# Verification ---------------------------------------------------------------------------------


@dataclass
class Check:
    """One invariant, how many things it looked at, and what broke it."""

    description: str
    checked: int
    unit: str
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def extent(self) -> str:
        return counted(self.checked, self.unit)


@dataclass
class LedgerReport:
    scope: str
    counts: dict[str, int]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def violation_count(self) -> int:
        return sum(len(check.violations) for check in self.checks)


def _account_label(account_id, member_id, slug) -> str:
    owner = "the pool" if member_id is None else f"member #{member_id}"
    return f"account #{account_id} ({owner} in {slug})"


def verify(chapter: Chapter | None = None) -> LedgerReport:
    """Check every invariant of the books, in SQL, for one chapter or all of them."""

    def scoped(column):
        return column == chapter.id if chapter is not None else true()

    T, E, A = LedgerTransaction, LedgerEntry, LedgerAccount
    counts = dict(
        db.session.execute(
            select(
                select(func.count(Chapter.id)).where(scoped(Chapter.id)).scalar_subquery().label("chapters"),
                select(func.count(A.id)).where(scoped(A.chapter_id)).scalar_subquery().label("accounts"),
                select(func.count(A.id))
                .where(scoped(A.chapter_id), A.member_id.is_not(None))
                .scalar_subquery()
                .label("member_accounts"),
                select(func.count(T.id)).where(scoped(T.chapter_id)).scalar_subquery().label("transactions"),
                select(func.count(T.id))
                .where(scoped(T.chapter_id), T.reverses_id.is_not(None))
                .scalar_subquery()
                .label("reversals"),
                select(func.count(E.id))
                .join(E.transaction)
                .where(scoped(T.chapter_id))
                .scalar_subquery()
                .label("entries"),
            )
        )
        .one()
        ._mapping
    )
    checks = []

    lopsided = db.session.execute(
        select(T.id, func.count(E.id).label("legs"), func.coalesce(func.sum(E.amount), 0).label("total"))
        .outerjoin(E, E.transaction_id == T.id)
        .where(scoped(T.chapter_id))
        .group_by(T.id)
        .having(or_(func.count(E.id) < 2, func.coalesce(func.sum(E.amount), 0) != 0))
        .order_by(T.id)
    ).all()
    checks.append(
        Check(
            "every transaction has at least two entries",
            counts["transactions"],
            "transactions",
            [
                f"transaction #{row.id} has {row.legs} entr{'y' if row.legs == 1 else 'ies'}"
                for row in lopsided
                if row.legs < 2
            ],
        )
    )
    checks.append(
        Check(
            "every transaction's entries sum to zero",
            counts["transactions"],
            "transactions",
            [f"transaction #{row.id} sums to {row.total:+d}" for row in lopsided if row.total != 0],
        )
    )
    checks.append(
        Check(
            "every entry is on an account of its transaction's chapter",
            counts["entries"],
            "entries",
            [
                f"entry #{row.id} of transaction #{row.transaction_id} (chapter {row.transaction_chapter}) "
                f"is on an account of chapter {row.account_chapter}"
                for row in db.session.execute(
                    select(
                        E.id,
                        E.transaction_id,
                        T.chapter_id.label("transaction_chapter"),
                        A.chapter_id.label("account_chapter"),
                    )
                    .join(E.transaction)
                    .join(E.account)
                    .where(or_(scoped(T.chapter_id), scoped(A.chapter_id)), T.chapter_id != A.chapter_id)
                    .order_by(E.id)
                )
            ],
        )
    )
    checks.append(
        Check(
            "each chapter's ledger sums to zero (entries and cached balances)",
            counts["chapters"],
            "chapters",
            [
                f"chapter {row.slug}: entries sum to {row.entries:+d}, cached balances to {row.cached:+d}"
                for row in db.session.execute(
                    select(
                        Chapter.slug,
                        select(func.coalesce(func.sum(E.amount), 0))
                        .join(E.account)
                        .where(A.chapter_id == Chapter.id)
                        .scalar_subquery()
                        .label("entries"),
                        select(func.coalesce(func.sum(A.balance), 0))
                        .where(A.chapter_id == Chapter.id)
                        .scalar_subquery()
                        .label("cached"),
                    )
                    .where(scoped(Chapter.id))
                    .order_by(Chapter.slug)
                )
                if row.entries != 0 or row.cached != 0
            ],
        )
    )
    entry_sums = (
        select(
            A.id, A.member_id, A.balance, Chapter.slug, func.coalesce(func.sum(E.amount), 0).label("total")
        )
        .join(A.chapter)
        .outerjoin(E, E.account_id == A.id)
        .where(scoped(A.chapter_id))
        .group_by(A.id, A.member_id, A.balance, Chapter.slug)
    ).subquery()
    checks.append(
        Check(
            "every cached balance equals the sum of its account's entries",
            counts["accounts"],
            "accounts",
            [
                f"{_account_label(row.id, row.member_id, row.slug)}: cached {row.balance}, "
                f"entries sum to {row.total}"
                for row in db.session.execute(
                    select(entry_sums)
                    .where(entry_sums.c.balance != entry_sums.c.total)
                    .order_by(entry_sums.c.id)
                )
            ],
        )
    )
    running = (
        select(E.account_id, _running_balance().label("running"))
        .join(E.account)
        .where(scoped(A.chapter_id), A.member_id.is_not(None))
    ).subquery()
    lowest = (
        select(running.c.account_id, func.min(running.c.running).label("lowest"))
        .group_by(running.c.account_id)
        .subquery()
    )
    checks.append(
        Check(
            "no member account is, or ever was, below zero (the pool may be)",
            counts["member_accounts"],
            "member accounts",
            [
                f"{_account_label(row.id, row.member_id, row.slug)}: balance {row.balance}, "
                f"lowest point in its history {row.lowest}"
                for row in db.session.execute(
                    select(A.id, A.member_id, A.balance, Chapter.slug, lowest.c.lowest)
                    .join(A.chapter)
                    .outerjoin(lowest, lowest.c.account_id == A.id)
                    .where(
                        scoped(A.chapter_id),
                        A.member_id.is_not(None),
                        or_(A.balance < 0, lowest.c.lowest < 0),
                    )
                    .order_by(A.id)
                )
            ],
        )
    )
    original = aliased(T)
    checks.append(
        Check(
            "no transaction is reversed twice, and no reversal is itself reversed",
            counts["reversals"],
            "reversals",
            [
                f"transaction #{row.reverses_id} is reversed {row.times} times"
                for row in db.session.execute(
                    select(T.reverses_id, func.count(T.id).label("times"))
                    .where(scoped(T.chapter_id), T.reverses_id.is_not(None))
                    .group_by(T.reverses_id)
                    .having(func.count(T.id) > 1)
                    .order_by(T.reverses_id)
                )
            ]
            + [
                f"reversal #{row.id} reverses #{row.reverses_id}, which is itself a reversal"
                for row in db.session.execute(
                    select(T.id, T.reverses_id)
                    .join(original, original.id == T.reverses_id)
                    .where(scoped(T.chapter_id), original.kind == Kind.REVERSAL)
                    .order_by(T.id)
                )
            ],
        )
    )
    # A reversal's entries plus its original's cancel out account by account.
    mirrored = union_all(
        select(T.id.label("reversal_id"), E.account_id, E.amount)
        .join(E, E.transaction_id == T.id)
        .where(scoped(T.chapter_id), T.reverses_id.is_not(None)),
        select(T.id.label("reversal_id"), E.account_id, E.amount)
        .join(E, E.transaction_id == T.reverses_id)
        .where(scoped(T.chapter_id), T.reverses_id.is_not(None)),
    ).subquery()
    checks.append(
        Check(
            "every reversal exactly mirrors the transaction it reverses",
            counts["reversals"],
            "reversals",
            [
                f"reversal #{row.reversal_id} leaves {row.total:+d} on account #{row.account_id}"
                for row in db.session.execute(
                    select(
                        mirrored.c.reversal_id,
                        mirrored.c.account_id,
                        func.sum(mirrored.c.amount).label("total"),
                    )
                    .group_by(mirrored.c.reversal_id, mirrored.c.account_id)
                    .having(func.sum(mirrored.c.amount) != 0)
                    .order_by(mirrored.c.reversal_id, mirrored.c.account_id)
                )
            ],
        )
    )
    return LedgerReport(scope=chapter.slug if chapter else "all chapters", counts=counts, checks=checks)
