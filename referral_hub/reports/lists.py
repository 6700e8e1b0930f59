"""The API's paged lists of a chapter's introductions, needs and ledger transactions, and the chapter."""

import functools

from sqlalchemy import Date, Select, bindparam, case, func, literal, select
from sqlalchemy.orm import aliased, selectinload

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..database import UTCDateTime, paged
from ..extensions import db
from ..introductions.models import Introduction, Outcome, OutcomeKind
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..needs.models import Need
from .activities import current_members
from .aggregates import count_where, hours_between, sum_or_zero, within
from .models import ChapterDay
from .periods import EARLIEST, Period


def _rows(statement, count, parameters: dict, *, page: int, per_page: int):
    """A page of a list's rows and how many rows the list holds: two queries. The page is found first
    through the list's index and only its rows are joined to the rest; the count reads no join."""
    run = {**parameters, "limit": per_page, "offset": (page - 1) * per_page}
    return db.session.execute(statement, run).all(), db.session.scalar(count, parameters)


def _page_of(model, *conditions):
    """SQL: the ids of one page of `model`'s rows that meet `conditions`, newest first, LIMIT and OFFSET
    as parameters: read in the order of an index on (chapter_id[, status], created_at, id)."""
    ids = select(model.id).where(*conditions).order_by(model.created_at.desc(), model.id.desc())
    return paged(ids).subquery("page")


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


def _kept_total(column, in_period: bool):
    """SQL: the sum of one of the chapter's kept day counts, over the period's local days (the parameters
    `first_day` and `last_day`) or over all its days: at most one row a day, however long the list."""
    days = (ChapterDay.chapter_id == bindparam("chapter_id"),)
    if in_period:
        days += (
            ChapterDay.day.between(bindparam("first_day", type_=Date()), bindparam("last_day", type_=Date())),
        )
    return select(sum_or_zero(column)).where(*days)


def _counted(model, conditions) -> Select:
    return select(func.count()).select_from(model).where(*conditions)


def introduction_rows(
    chapter_id: int, *, status: str | None, period: Period | None, page: int, per_page: int
):
    parameters = {"chapter_id": chapter_id, "status": status, **_period_parameters(period)}
    statement, count = _introductions_query(status is not None, period is not None)
    return _rows(statement, count, parameters, page=page, per_page=per_page)


@functools.cache
def _introductions_query(by_status: bool, in_period: bool):
    """The page's statement and the count's, built once for each combination of filters, their values
    as parameters. Without a status the count is the kept introductions made on the period's days."""
    conditions = [Introduction.chapter_id == bindparam("chapter_id")]
    if by_status:
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
    if by_status:
        return statement, _counted(Introduction, conditions)
    return statement, _kept_total(ChapterDay.intros_made, in_period)


def need_rows(chapter_id: int, *, status: str | None, page: int, per_page: int):
    parameters = {"chapter_id": chapter_id, "status": status}
    statement, count = _needs_query(status is not None)
    return _rows(statement, count, parameters, page=page, per_page=per_page)


@functools.cache
def _needs_query(by_status: bool):
    """The page's statement and the count's; without a status the count is the kept needs posted."""
    conditions = [Need.chapter_id == bindparam("chapter_id")]
    if by_status:
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
    if by_status:
        return statement, _counted(Need, conditions)
    return statement, _kept_total(ChapterDay.needs_posted, in_period=False)


def ledger_rows(chapter_id: int, *, period: Period | None, page: int, per_page: int):
    """Transactions, newest first, with their entries and the entries' members (one query more)."""
    parameters = {"chapter_id": chapter_id, **_period_parameters(period)}
    statement, count = _ledger_query(period is not None)
    rows, total = _rows(statement, count, parameters, page=page, per_page=per_page)
    return [row[0] for row in rows], total


@functools.cache
def _ledger_query(in_period: bool):
    conditions = [LedgerTransaction.chapter_id == bindparam("chapter_id")]
    if in_period:
        conditions.append(_in_period(LedgerTransaction.created_at))
    page = _page_of(LedgerTransaction, *conditions)
    statement = (
        select(LedgerTransaction)
        .join(page, page.c.id == LedgerTransaction.id)
        .options(
            selectinload(LedgerTransaction.entries)
            .joinedload(LedgerEntry.account)
            .joinedload(LedgerAccount.member)
        )
        .order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
    )
    return statement, _counted(LedgerTransaction, conditions)


def chapter_rows(chapter_id: int):
    members = count_where(current_members(chapter_id))
    rows = db.session.execute(
        select(Chapter.slug, Chapter.name, Chapter.created_at, members.label("members")).where(
            Chapter.id == chapter_id
        )
    ).all()
    return rows, len(rows)
