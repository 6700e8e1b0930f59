"""The API's paged lists of a chapter's introductions, needs and ledger transactions, and the chapter."""

import functools

from sqlalchemy import bindparam, case, func, literal, select
from sqlalchemy.orm import aliased, selectinload

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..database import UTCDateTime, counted_rows, paged
from ..extensions import db
from ..introductions.models import Introduction, Outcome, OutcomeKind
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..needs.models import Need
from .activities import current_members
from .aggregates import count_where, hours_between, sum_or_zero, within
from .periods import Period


def _rows(statement, parameters: dict, *, page: int, per_page: int):
    """A page of a counted `paged` statement's rows and how many rows match, in one query."""
    return counted_rows(statement, parameters, limit=per_page, offset=(page - 1) * per_page)


def _period_parameters(period: Period | None) -> dict:
    return {} if period is None else {"starts_at": period.starts_at, "ends_at": period.ends_at}


def _in_period(column):
    """SQL: `column` falls in the period given as the parameters `starts_at` and `ends_at`."""
    return within(
        column, bindparam("starts_at", type_=UTCDateTime()), bindparam("ends_at", type_=UTCDateTime())
    )


def introduction_rows(
    chapter_id: int, *, status: str | None, period: Period | None, page: int, per_page: int
):
    parameters = {"chapter_id": chapter_id, "status": status, **_period_parameters(period)}
    statement = _introductions_query(status is not None, period is not None)
    return _rows(statement, parameters, page=page, per_page=per_page)


@functools.cache
def _introductions_query(by_status: bool, in_period: bool):
    """Built once for each combination of filters, their values as parameters."""
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
        .join(introducer, introducer.id == Introduction.introducer_id)
        .join(first, first.id == Introduction.first_id)
        .outerjoin(second, second.id == Introduction.second_id)
        .where(Introduction.chapter_id == bindparam("chapter_id"))
        .order_by(Introduction.created_at.desc(), Introduction.id.desc())
    )
    if by_status:
        statement = statement.where(Introduction.state == bindparam("status"))
    if in_period:
        statement = statement.where(_in_period(Introduction.created_at))
    return paged(statement, counted=True)


def need_rows(chapter_id: int, *, status: str | None, page: int, per_page: int):
    parameters = {"chapter_id": chapter_id, "status": status}
    return _rows(_needs_query(status is not None), parameters, page=page, per_page=per_page)


@functools.cache
def _needs_query(by_status: bool):
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
        .join(Member, Member.id == Need.asker_id)
        .where(Need.chapter_id == bindparam("chapter_id"))
        .order_by(Need.created_at.desc(), Need.id.desc())
    )
    if by_status:
        statement = statement.where(Need.status == bindparam("status"))
    return paged(statement, counted=True)


def ledger_rows(chapter_id: int, *, period: Period | None, page: int, per_page: int):
    """Transactions, newest first, with their entries and the entries' members: two queries."""
    parameters = {"chapter_id": chapter_id, **_period_parameters(period)}
    rows, total = _rows(_ledger_query(period is not None), parameters, page=page, per_page=per_page)
    return [row[0] for row in rows], total


@functools.cache
def _ledger_query(in_period: bool):
    statement = (
        select(LedgerTransaction)
        .where(LedgerTransaction.chapter_id == bindparam("chapter_id"))
        .options(
            selectinload(LedgerTransaction.entries)
            .joinedload(LedgerEntry.account)
            .joinedload(LedgerAccount.member)
        )
        .order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
    )
    if in_period:
        statement = statement.where(_in_period(LedgerTransaction.created_at))
    return paged(statement, counted=True)


def chapter_rows(chapter_id: int):
    members = count_where(current_members(chapter_id))
    rows = db.session.execute(
        select(Chapter.slug, Chapter.name, Chapter.created_at, members.label("members")).where(
            Chapter.id == chapter_id
        )
    ).all()
    return rows, len(rows)
