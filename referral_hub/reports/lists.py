"""The API's paged lists of a chapter's introductions, needs and ledger transactions, and the chapter."""

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import aliased, selectinload

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..extensions import db
from ..introductions.models import Introduction, Outcome, OutcomeKind
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..needs.models import Need
from .activities import current_members
from .aggregates import count_where, hours_between, sum_or_zero, within
from .periods import Period


def _page(statement, *, filters, order_by, page: int, per_page: int):
    """A page of the statement's rows (with `filters`) and how many rows match: two queries."""
    total = db.session.scalar(select(func.count()).where(*filters))
    rows = db.session.execute(
        statement.where(*filters).order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return rows, total


def introduction_rows(
    chapter_id: int, *, status: str | None, period: Period | None, page: int, per_page: int
):
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
    )
    filters = [Introduction.chapter_id == chapter_id]
    if status is not None:
        filters.append(Introduction.state == status)
    if period is not None:
        filters.append(within(Introduction.created_at, period.starts_at, period.ends_at))
    order = (Introduction.created_at.desc(), Introduction.id.desc())
    return _page(statement, filters=filters, order_by=order, page=page, per_page=per_page)


def need_rows(chapter_id: int, *, status: str | None, page: int, per_page: int):
    led_to = select(func.count()).where(Introduction.need_id == Need.id).scalar_subquery()
    statement = select(
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
    ).join(Member, Member.id == Need.asker_id)
    filters = [Need.chapter_id == chapter_id]
    if status is not None:
        filters.append(Need.status == status)
    return _page(
        statement,
        filters=filters,
        order_by=(Need.created_at.desc(), Need.id.desc()),
        page=page,
        per_page=per_page,
    )


def ledger_rows(chapter_id: int, *, period: Period | None, page: int, per_page: int):
    """Transactions, newest first, with their entries and the entries' members: three queries."""
    filters = [LedgerTransaction.chapter_id == chapter_id]
    if period is not None:
        filters.append(within(LedgerTransaction.created_at, period.starts_at, period.ends_at))
    statement = select(LedgerTransaction).options(
        selectinload(LedgerTransaction.entries)
        .joinedload(LedgerEntry.account)
        .joinedload(LedgerAccount.member)
    )
    order = (LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
    rows, total = _page(statement, filters=filters, order_by=order, page=page, per_page=per_page)
    return [transaction for (transaction,) in rows], total


def chapter_rows(chapter_id: int):
    members = count_where(current_members(chapter_id))
    rows = db.session.execute(
        select(Chapter.slug, Chapter.name, Chapter.created_at, members.label("members")).where(
            Chapter.id == chapter_id
        )
    ).all()
    return rows, len(rows)
