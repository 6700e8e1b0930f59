"""Verifying the books: each invariant of the ledger checked in SQL, for one chapter or all of them."""

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import func, or_, select, true, union_all
from sqlalchemy.orm import aliased

from ..chapters.models import Chapter
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..wording import counted
from .models import Kind, LedgerAccount, LedgerEntry, LedgerTransaction
from .queries import running_balance

T, E, A = LedgerTransaction, LedgerEntry, LedgerAccount


@dataclass
class Check:
    """One invariant, how many things it looked at, and what broke it."""

    description: str  # shown on the organizer's ledger page, in the page's language
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


class _Books:
    """The books under check (one chapter's, or all), with what several checks read, queried once."""

    def __init__(self, chapter: Chapter | None):
        self.chapter = chapter

    def scoped(self, column):
        return column == self.chapter.id if self.chapter is not None else true()

    @cached_property
    def counts(self) -> dict[str, int]:
        def count(column, *where, label: str):
            return select(func.count(column)).where(*where).scalar_subquery().label(label)

        scoped = self.scoped
        entries = select(func.count(E.id)).join(E.transaction).where(scoped(T.chapter_id))
        row = db.session.execute(
            select(
                count(Chapter.id, scoped(Chapter.id), label="chapters"),
                count(A.id, scoped(A.chapter_id), label="accounts"),
                count(A.id, scoped(A.chapter_id), A.member_id.is_not(None), label="member_accounts"),
                count(T.id, scoped(T.chapter_id), label="transactions"),
                count(T.id, scoped(T.chapter_id), T.reverses_id.is_not(None), label="reversals"),
                entries.scalar_subquery().label("entries"),
            )
        ).one()
        return dict(row._mapping)

    @cached_property
    def lopsided(self) -> list:
        """Transactions with fewer than two entries or entries that do not sum to zero."""
        total = func.coalesce(func.sum(E.amount), 0)
        return db.session.execute(
            select(T.id, func.count(E.id).label("legs"), total.label("total"))
            .outerjoin(E, E.transaction_id == T.id)
            .where(self.scoped(T.chapter_id))
            .group_by(T.id)
            .having(or_(func.count(E.id) < 2, total != 0))
            .order_by(T.id)
        ).all()


def _account_label(account_id, member_id, slug) -> str:
    owner = "the pool" if member_id is None else f"member #{member_id}"
    return f"account #{account_id} ({owner} in {slug})"


def _at_least_two_entries(books: _Books) -> Check:
    return Check(
        _l("every transaction has at least two entries"),
        books.counts["transactions"],
        "transactions",
        [
            f"transaction #{row.id} has {row.legs} entr{'y' if row.legs == 1 else 'ies'}"
            for row in books.lopsided
            if row.legs < 2
        ],
    )


def _entries_sum_to_zero(books: _Books) -> Check:
    return Check(
        _l("every transaction's entries sum to zero"),
        books.counts["transactions"],
        "transactions",
        [f"transaction #{row.id} sums to {row.total:+d}" for row in books.lopsided if row.total != 0],
    )


def _entries_in_their_chapter(books: _Books) -> Check:
    rows = db.session.execute(
        select(
            E.id,
            E.transaction_id,
            T.chapter_id.label("transaction_chapter"),
            A.chapter_id.label("account_chapter"),
        )
        .join(E.transaction)
        .join(E.account)
        .where(or_(books.scoped(T.chapter_id), books.scoped(A.chapter_id)), T.chapter_id != A.chapter_id)
        .order_by(E.id)
    )
    return Check(
        _l("every entry is on an account of its transaction's chapter"),
        books.counts["entries"],
        "entries",
        [
            f"entry #{row.id} of transaction #{row.transaction_id} (chapter {row.transaction_chapter}) "
            f"is on an account of chapter {row.account_chapter}"
            for row in rows
        ],
    )


def _chapters_sum_to_zero(books: _Books) -> Check:
    entries = select(func.coalesce(func.sum(E.amount), 0)).join(E.account).where(A.chapter_id == Chapter.id)
    cached = select(func.coalesce(func.sum(A.balance), 0)).where(A.chapter_id == Chapter.id)
    rows = db.session.execute(
        select(
            Chapter.slug, entries.scalar_subquery().label("entries"), cached.scalar_subquery().label("cached")
        )
        .where(books.scoped(Chapter.id))
        .order_by(Chapter.slug)
    )
    return Check(
        _l("each chapter's ledger sums to zero (entries and cached balances)"),
        books.counts["chapters"],
        "chapters",
        [
            f"chapter {row.slug}: entries sum to {row.entries:+d}, cached balances to {row.cached:+d}"
            for row in rows
            if row.entries != 0 or row.cached != 0
        ],
    )


def _cached_balances_match(books: _Books) -> Check:
    sums = (
        select(
            A.id, A.member_id, A.balance, Chapter.slug, func.coalesce(func.sum(E.amount), 0).label("total")
        )
        .join(A.chapter)
        .outerjoin(E, E.account_id == A.id)
        .where(books.scoped(A.chapter_id))
        .group_by(A.id, A.member_id, A.balance, Chapter.slug)
    ).subquery()
    rows = db.session.execute(select(sums).where(sums.c.balance != sums.c.total).order_by(sums.c.id))
    return Check(
        _l("every cached balance equals the sum of its account's entries"),
        books.counts["accounts"],
        "accounts",
        [
            f"{_account_label(row.id, row.member_id, row.slug)}: cached {row.balance}, "
            f"entries sum to {row.total}"
            for row in rows
        ],
    )


def _members_never_below_zero(books: _Books) -> Check:
    members = (books.scoped(A.chapter_id), A.member_id.is_not(None))
    running = (
        select(E.account_id, running_balance().label("running")).join(E.account).where(*members).subquery()
    )
    lowest = (
        select(running.c.account_id, func.min(running.c.running).label("lowest"))
        .group_by(running.c.account_id)
        .subquery()
    )
    rows = db.session.execute(
        select(A.id, A.member_id, A.balance, Chapter.slug, lowest.c.lowest)
        .join(A.chapter)
        .outerjoin(lowest, lowest.c.account_id == A.id)
        .where(*members, or_(A.balance < 0, lowest.c.lowest < 0))
        .order_by(A.id)
    )
    return Check(
        _l("no member account is, or ever was, below zero (the pool may be)"),
        books.counts["member_accounts"],
        "member accounts",
        [
            f"{_account_label(row.id, row.member_id, row.slug)}: balance {row.balance}, "
            f"lowest point in its history {row.lowest}"
            for row in rows
        ],
    )


def _reversed_once(books: _Books) -> Check:
    twice = db.session.execute(
        select(T.reverses_id, func.count(T.id).label("times"))
        .where(books.scoped(T.chapter_id), T.reverses_id.is_not(None))
        .group_by(T.reverses_id)
        .having(func.count(T.id) > 1)
        .order_by(T.reverses_id)
    )
    original = aliased(T)
    of_reversals = db.session.execute(
        select(T.id, T.reverses_id)
        .join(original, original.id == T.reverses_id)
        .where(books.scoped(T.chapter_id), original.kind == Kind.REVERSAL)
        .order_by(T.id)
    )
    return Check(
        _l("no transaction is reversed twice, and no reversal is itself reversed"),
        books.counts["reversals"],
        "reversals",
        [f"transaction #{row.reverses_id} is reversed {row.times} times" for row in twice]
        + [
            f"reversal #{row.id} reverses #{row.reverses_id}, which is itself a reversal"
            for row in of_reversals
        ],
    )


def _reversals_mirror(books: _Books) -> Check:
    # A reversal's entries plus its original's cancel out account by account.
    reversals = (books.scoped(T.chapter_id), T.reverses_id.is_not(None))
    legs = select(T.id.label("reversal_id"), E.account_id, E.amount)
    mirrored = union_all(
        legs.join(E, E.transaction_id == T.id).where(*reversals),
        legs.join(E, E.transaction_id == T.reverses_id).where(*reversals),
    ).subquery()
    total = func.sum(mirrored.c.amount)
    rows = db.session.execute(
        select(mirrored.c.reversal_id, mirrored.c.account_id, total.label("total"))
        .group_by(mirrored.c.reversal_id, mirrored.c.account_id)
        .having(total != 0)
        .order_by(mirrored.c.reversal_id, mirrored.c.account_id)
    )
    return Check(
        _l("every reversal exactly mirrors the transaction it reverses"),
        books.counts["reversals"],
        "reversals",
        [f"reversal #{row.reversal_id} leaves {row.total:+d} on account #{row.account_id}" for row in rows],
    )


INVARIANTS = (
    _at_least_two_entries,
    _entries_sum_to_zero,
    _entries_in_their_chapter,
    _chapters_sum_to_zero,
    _cached_balances_match,
    _members_never_below_zero,
    _reversed_once,
    _reversals_mirror,
)


def verify(chapter: Chapter | None = None) -> LedgerReport:
    """Check every invariant of the books, in SQL, for one chapter or all of them."""
    books = _Books(chapter)
    checks = [invariant(books) for invariant in INVARIANTS]
    return LedgerReport(scope=chapter.slug if chapter else "all chapters", counts=books.counts, checks=checks)
