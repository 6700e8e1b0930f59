"""Reading the ledger: balances, a member's history, a chapter's transactions, one transaction."""

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload, with_expression

from ..accounts.models import Member
from ..chapters.models import (
    Chapter,
    ChapterPolicy,
    Membership,
    MembershipStatus,
    current_member_count,
    current_members,
)
from ..chapters.policy import setting_or_default
from ..clock import start_of_local_day
from ..database import Page, UTCDateTime, counted_rows, page_of, paged
from ..errors import NotFound
from ..extensions import db
from ..i18n import gettext as _
from .models import Kind, LedgerAccount, LedgerEntry, LedgerTransaction

HISTORY_PAGE_SIZE = 25
CHAPTER_LEDGER_PAGE_SIZE = 25
BALANCES_PAGE_SIZE = 25
# A filter's total is what an organizer reads ("12 grants this quarter"); past this many the chapter
# ledger says "more than" instead of counting a long history on every visit.
CHAPTER_LEDGER_COUNTED = 1000


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


def chapter_balances(member: Member) -> list[ChapterBalance]:
    """The member's balance in each chapter they belong to, with what giving earns and asking costs."""
    rows = db.session.execute(_chapter_balances_query(), {"member_id": member.id})
    return [ChapterBalance(*row) for row in rows]


@functools.cache
def _chapter_balances_query():
    member_id = bindparam("member_id")
    return (
        select(
            Chapter,
            func.coalesce(LedgerAccount.balance, 0),
            setting_or_default("intro_reward"),
            setting_or_default("need_cost"),
        )
        .join(Membership, Membership.chapter_id == Chapter.id)
        .outerjoin(
            LedgerAccount,
            and_(LedgerAccount.chapter_id == Chapter.id, LedgerAccount.member_id == member_id),
        )
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Chapter.id)
        .where(Membership.member_id == member_id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(Chapter.name, Chapter.id)
    )


def running_balance():
    """Each entry's account balance after it (SQL): a window sum over the account's entries."""
    return func.sum(LedgerEntry.amount).over(partition_by=LedgerEntry.account_id, order_by=LedgerEntry.id)


def history(member: Member, *, page: int = 1):
    """The member's entries in every chapter, newest first, each with the account's balance after it,
    and how many there are (the pager's "page 1 of 3"): the running balance reads every entry of the
    member's accounts anyway, so the window COUNT beside it is not a second query nor a second scan."""
    parameters = {"member_id": member.id}
    return page_of(_history_query(), parameters, page=page, per_page=HISTORY_PAGE_SIZE, counted=True)


@functools.cache
def _history_query():
    return paged(
        select(LedgerEntry)
        .join(LedgerEntry.account)
        .join(LedgerAccount.chapter)
        .join(LedgerEntry.transaction)
        .where(LedgerAccount.member_id == bindparam("member_id"))
        .options(
            with_expression(LedgerEntry.running_balance, running_balance()),
            contains_eager(LedgerEntry.account).contains_eager(LedgerAccount.chapter),
            contains_eager(LedgerEntry.transaction),
        )
        .order_by(LedgerEntry.id.desc()),
        counted=True,
    )


@dataclass(frozen=True)
class LedgerFilter:
    member_id: int | None = None
    kind: Kind | None = None
    since: date | None = None
    until: date | None = None


def chapter_ledger(chapter: Chapter, criteria: LedgerFilter | None = None, *, page: int = 1):
    """The chapter's transactions, newest first, filtered, with their entries and accounts, and how
    many the filter finds (the page shows it). The days are the chapter's local days."""
    criteria = criteria or LedgerFilter()
    parameters = {"chapter_id": chapter.id, "member_id": criteria.member_id, "kind": criteria.kind}
    if criteria.since is not None:
        parameters["since"] = start_of_local_day(criteria.since, chapter.timezone)
    if criteria.until is not None:
        parameters["until"] = start_of_local_day(criteria.until + timedelta(days=1), chapter.timezone)
    statement, count = _chapter_ledger_queries(
        criteria.member_id is not None,
        criteria.kind is not None,
        "since" in parameters,
        "until" in parameters,
    )
    # The page shows the total. Here a COUNT apart costs less than a window COUNT beside the page's rows
    # (measured on PostgreSQL: the window made the page's database CPU about 1.5 ms dearer). It counts
    # up to CHAPTER_LEDGER_COUNTED: past that the total is None ("more than"), whatever the history.
    counted = db.session.scalar(count, {**parameters, "counted_limit": CHAPTER_LEDGER_COUNTED + 1})
    total = counted if counted <= CHAPTER_LEDGER_COUNTED else None
    return page_of(statement, parameters, page=page, per_page=CHAPTER_LEDGER_PAGE_SIZE, total=total)


@functools.cache
def _chapter_ledger_queries(by_member: bool, by_kind: bool, since: bool, until: bool):
    """The page's statement and its COUNT, built once for each combination of filters, their values
    as parameters."""
    chapter_id = bindparam("chapter_id")
    conditions = [LedgerTransaction.chapter_id == chapter_id]
    if by_member:
        conditions.append(
            LedgerTransaction.id.in_(
                select(LedgerEntry.transaction_id)
                .join(LedgerEntry.account)
                .where(
                    LedgerAccount.chapter_id == chapter_id, LedgerAccount.member_id == bindparam("member_id")
                )
            )
        )
    if by_kind:
        conditions.append(LedgerTransaction.kind == bindparam("kind"))
    if since:
        conditions.append(LedgerTransaction.created_at >= bindparam("since", type_=UTCDateTime()))
    if until:
        conditions.append(LedgerTransaction.created_at < bindparam("until", type_=UTCDateTime()))
    statement = (
        select(LedgerTransaction)
        .where(*conditions)
        .options(
            selectinload(LedgerTransaction.entries)
            .joinedload(LedgerEntry.account)
            .joinedload(LedgerAccount.member),
            joinedload(LedgerTransaction.caused_by),
            selectinload(LedgerTransaction.reversed_by),
        )
        .order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
    )
    # One row past the limit is enough to say "more than"; a bound parameter, so the limit is read
    # when the statement runs.
    counted = select(LedgerTransaction.id).where(*conditions).limit(bindparam("counted_limit"))
    return paged(statement), select(func.count()).select_from(counted.subquery())


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
        raise NotFound(_("This chapter's ledger has no such transaction."))
    return transaction


@dataclass(frozen=True)
class MemberBalance:
    member: Member
    balance: int


def member_balances(chapter: Chapter, *, page: int = 1) -> Page:
    """The chapter's current members with their balances, by name, a page at a time, for the organizer:
    a chapter of hundreds shows a page of them, not every one on each visit."""
    size = BALANCES_PAGE_SIZE
    rows, total = counted_rows(
        _member_balances_query(), {"chapter_id": chapter.id}, limit=size + 1, offset=(page - 1) * size
    )
    balances = [MemberBalance(row.Member, row.balance) for row in rows[:size]]
    return Page(balances, page=page, per_page=size, has_next=len(rows) > size, total=total)


@functools.cache
def _member_balances_query():
    """Built once, the chapter as a parameter."""
    return paged(
        select(Member, func.coalesce(LedgerAccount.balance, 0).label("balance"))
        .join(Membership, Membership.member_id == Member.id)
        .outerjoin(
            LedgerAccount,
            and_(LedgerAccount.chapter_id == Membership.chapter_id, LedgerAccount.member_id == Member.id),
        )
        .where(current_members(bindparam("chapter_id")))
        .order_by(func.lower(Membership.display_name), Membership.member_id),
        counted=True,
        total=current_member_count(bindparam("chapter_id")),
    )


def pool_balance(chapter: Chapter) -> int:
    return (
        db.session.scalar(
            select(LedgerAccount.balance).where(
                LedgerAccount.chapter_id == chapter.id, LedgerAccount.member_id.is_(None)
            )
        )
        or 0
    )


def transactions_by_kind() -> dict[Kind, int]:
    """How many transactions the ledger holds of each kind, every chapter together."""
    counts = db.session.execute(
        select(LedgerTransaction.kind, func.count()).group_by(LedgerTransaction.kind)
    ).all()
    return dict.fromkeys(Kind, 0) | dict(counts)
