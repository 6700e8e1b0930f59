"""The API's paged lists of a chapter's introductions, needs and ledger transactions, and the chapter."""

import functools

from sqlalchemy import Date, Select, bindparam, case, func, literal, select
from sqlalchemy.orm import aliased

from ..accounts.models import Member
from ..chapters.models import Chapter, current_members
from ..database import UTCDateTime, counted_rows, paged
from ..extensions import db
from ..introductions.models import Introduction, IntroState, Outcome, OutcomeKind
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..needs.models import Need, NeedStatus
from .aggregates import count_where, hours_between, sum_or_zero, within
from .models import ChapterDay, TransactionDay
from .periods import EARLIEST, Period


def _rows(statement, parameters: dict, *, page: int, per_page: int):
    """A page of a `_listed` statement's rows and how many rows the whole list holds, in one query.
    The rows are read by key (mappings): the API's schemas try a key before an attribute, which on a
    Row raises first."""
    rows, total = counted_rows(statement, parameters, limit=per_page, offset=(page - 1) * per_page)
    return [row._mapping for row in rows], total


def _page_of(model, *conditions):
    """SQL: the ids of one page of `model`'s rows that meet `conditions`, newest first, LIMIT and OFFSET
    as parameters: read in the order of an index on (chapter_id[, status], created_at, id)."""
    ids = select(model.id).where(*conditions).order_by(model.created_at.desc(), model.id.desc())
    return paged(ids).subquery("page")


def _listed(statement, total):
    """`statement` (its rows joined to a `_page_of`) with the list's `total` on each row: a subquery of
    its own, uncorrelated, so the database runs it once, and joined to nothing."""
    return statement.add_columns(total.scalar_subquery().label("total"))


def _period_parameters(period: Period | None) -> dict:
    if period is None:
        return {}
    return {
        "starts_at": period.starts_at,
        "ends_at": period.ends_at,
        "first_day": period.start or EARLIEST.date(),
        "last_day": period.end,
    }


def _in_period(column):
    """SQL: `column` falls in the period given as the parameters `starts_at` and `ends_at`."""
    return within(
        column, bindparam("starts_at", type_=UTCDateTime()), bindparam("ends_at", type_=UTCDateTime())
    )


def _kept_total(count, in_period: bool, kept=ChapterDay):
    """SQL: a sum over the chapter's `kept` days (`count`, of their columns) on the period's local days
    (the parameters `first_day` and `last_day`) or on all of them: one row a day at most, however
    long the list."""
    days = [kept.chapter_id == bindparam("chapter_id")]
    if in_period:
        days.append(
            kept.day.between(bindparam("first_day", type_=Date()), bindparam("last_day", type_=Date()))
        )
    return select(sum_or_zero(count)).where(*days)


def _counted(model, conditions) -> Select:
    """SQL: how many of `model`'s rows meet `conditions`, counted from the list's index."""
    return select(func.count()).select_from(model).where(*conditions)


# How many introductions (needs) are in each state (status) now, from the kept days: each is counted
# on the day it was made (posted) and on the day it entered the state it never leaves (completed,
# declined, expired or cancelled; fulfilled, closed or expired), so the pending (open) ones are those
# made and not yet out. With a period only the count of those made (posted) serves: a period filters
# by the day of making, not the day a state was entered.
INTRODUCTIONS_IN_STATE = {
    None: ChapterDay.intros_made,
    IntroState.PENDING: ChapterDay.intros_made - ChapterDay.intros_completed - ChapterDay.intros_closed,
    IntroState.COMPLETED: ChapterDay.intros_completed,
    IntroState.DECLINED: ChapterDay.intros_declined,
    IntroState.EXPIRED: ChapterDay.intros_expired,
    IntroState.CANCELLED: ChapterDay.intros_closed - ChapterDay.intros_declined - ChapterDay.intros_expired,
}
NEEDS_IN_STATUS = {
    None: ChapterDay.needs_posted,
    NeedStatus.OPEN: ChapterDay.needs_posted - ChapterDay.needs_finished,
    NeedStatus.FULFILLED: ChapterDay.needs_fulfilled,
    NeedStatus.EXPIRED: ChapterDay.needs_expired,
    NeedStatus.CLOSED: ChapterDay.needs_finished - ChapterDay.needs_fulfilled - ChapterDay.needs_expired,
}


def introduction_rows(
    chapter_id: int, *, status: IntroState | None, period: Period | None, page: int, per_page: int
):
    parameters = {"chapter_id": chapter_id, "status": status, **_period_parameters(period)}
    statement = _introductions_query(status, period is not None)
    return _rows(statement, parameters, page=page, per_page=per_page)


@functools.cache
def _introductions_query(status: IntroState | None, in_period: bool):
    """Built once for each state and whether a period filters, their values as parameters. The total
    comes from the kept days unless both a state and a period filter, then from the index."""
    conditions = [Introduction.chapter_id == bindparam("chapter_id")]
    if status is not None:
        conditions.append(Introduction.state == bindparam("status"))
    if in_period:
        conditions.append(_in_period(Introduction.created_at))
    page = _page_of(Introduction, *conditions)
    introducer, first, second = aliased(Member), aliased(Member), aliased(Member)
    strongest_outcome = (
        select(Outcome.kind)
        .where(Outcome.introduction_id == Introduction.id)
        .order_by(
            case(
                (Outcome.kind == OutcomeKind.BUSINESS_CLOSED, 0),
                (Outcome.kind == OutcomeKind.MET, 1),
                else_=2,
            ),
            Outcome.id,
        )
        .limit(1)
        .scalar_subquery()
    )
    business = (
        select(sum_or_zero(Outcome.amount))
        .where(Outcome.introduction_id == Introduction.id)
        .scalar_subquery()
    )
    statement = (
        select(
            Introduction.id,
            Introduction.state.label("status"),
            Introduction.created_at,
            Introduction.completed_at,
            Introduction.closed_at,
            hours_between(Introduction.created_at, Introduction.completed_at).label("hours_to_complete"),
            Introduction.introducer_id,
            introducer.display_name.label("introducer_name"),
            Introduction.first_id,
            first.display_name.label("first_name"),
            Introduction.second_id,
            # A guest is named only as "Guest": organizers count guests, never see who they are.
            func.coalesce(second.display_name, literal("Guest")).label("second_name"),
            case((Introduction.second_id.is_(None), literal("guest")), else_=literal("member")).label(
                "second_party"
            ),
            Introduction.need_id,
            strongest_outcome.label("outcome"),
            business.label("business_amount"),
        )
        .join(page, page.c.id == Introduction.id)
        .join(introducer, introducer.id == Introduction.introducer_id)
        .join(first, first.id == Introduction.first_id)
        .outerjoin(second, second.id == Introduction.second_id)
        .order_by(Introduction.created_at.desc(), Introduction.id.desc())
    )
    if status is not None and in_period:
        return _listed(statement, _counted(Introduction, conditions))
    return _listed(statement, _kept_total(INTRODUCTIONS_IN_STATE[status], in_period))


def need_rows(chapter_id: int, *, status: NeedStatus | None, page: int, per_page: int):
    parameters = {"chapter_id": chapter_id, "status": status}
    return _rows(_needs_query(status), parameters, page=page, per_page=per_page)


@functools.cache
def _needs_query(status: NeedStatus | None):
    """Built once for each status; the total comes from the kept days."""
    conditions = [Need.chapter_id == bindparam("chapter_id")]
    if status is not None:
        conditions.append(Need.status == bindparam("status"))
    page = _page_of(Need, *conditions)
    led_to = select(func.count()).where(Introduction.need_id == Need.id).scalar_subquery()
    statement = (
        select(
            Need.id,
            Need.title,
            Need.category,
            Need.status,
            Need.asker_id,
            Member.display_name.label("asker_name"),
            Need.created_at,
            Need.expires_at,
            Need.closed_at,
            led_to.label("introductions"),
        )
        .join(page, page.c.id == Need.id)
        .join(Member, Member.id == Need.asker_id)
        .order_by(Need.created_at.desc(), Need.id.desc())
    )
    return _listed(statement, _kept_total(NEEDS_IN_STATUS[status], in_period=False))


TRANSACTION_COLUMNS = (
    LedgerTransaction.id,
    LedgerTransaction.kind,
    LedgerTransaction.memo,
    LedgerTransaction.created_at,
    LedgerTransaction.caused_by_id,
    LedgerTransaction.subject_type,
    LedgerTransaction.subject_id,
    LedgerTransaction.reverses_id,
)
TRANSACTION_KEYS = tuple(column.key for column in TRANSACTION_COLUMNS)


def ledger_rows(chapter_id: int, *, period: Period | None, page: int, per_page: int):
    """Transactions, newest first, each with its entries and their members' names: one query."""
    parameters = {"chapter_id": chapter_id, **_period_parameters(period)}
    rows, total = _rows(_ledger_query(period is not None), parameters, page=page, per_page=per_page)
    return _transactions(rows), total


def _transactions(rows) -> list[dict]:
    """The rows (one per entry, each transaction's together) as a transaction each, with its entries."""
    transactions: dict[int, dict] = {}
    for row in rows:
        if row["id"] not in transactions:
            transactions[row["id"]] = {**{key: row[key] for key in TRANSACTION_KEYS}, "entries": []}
        transactions[row["id"]]["entries"].append(row)
    return list(transactions.values())


@functools.cache
def _ledger_query(in_period: bool):
    """Built once with a period and once without: a row per entry of the page's transactions, with its
    account's member and their name (none: the pool); the total sums the transactions kept per day
    (reports.transactions)."""
    conditions = [LedgerTransaction.chapter_id == bindparam("chapter_id")]
    if in_period:
        conditions.append(_in_period(LedgerTransaction.created_at))
    page = _page_of(LedgerTransaction, *conditions)
    statement = (
        select(
            *TRANSACTION_COLUMNS,
            LedgerEntry.account_id,
            LedgerAccount.member_id,
            Member.display_name.label("member_name"),
            LedgerEntry.amount,
        )
        .join(page, page.c.id == LedgerTransaction.id)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .outerjoin(Member, Member.id == LedgerAccount.member_id)
        .order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc(), LedgerEntry.id)
    )
    return _listed(statement, _kept_total(TransactionDay.transactions, in_period, kept=TransactionDay))


def chapter_rows(chapter_id: int):
    rows = db.session.execute(_chapter_query(), {"chapter_id": chapter_id}).mappings().all()
    return rows, len(rows)


@functools.cache
def _chapter_query():
    chapter = bindparam("chapter_id")
    members = count_where(current_members(chapter))
    return select(Chapter.slug, Chapter.name, Chapter.created_at, members.label("members")).where(
        Chapter.id == chapter
    )
