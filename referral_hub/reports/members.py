"""Each current member's figures and status, as of now: a page of them, or the dashboard's three views."""

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, and_, bindparam, case, cast, func, or_, select

from ..accounts.models import Member
from ..chapters.models import Membership
from ..database import UTCDateTime, counted_rows, paged
from ..extensions import db
from ..ledger.models import LedgerAccount
from .activities import RECENT, current_members
from .models import MemberFigures
from .periods import Period

STATUS_ORDER = {"red": 0, "amber": 1, "green": 2}
MEMBER_SORTS = (
    "display_name",
    "joined_at",
    "intros_made",
    "intros_completed",
    "intros_received",
    "needs_posted",
    "business_given_amount",
    "business_received_amount",
    "balance",
    "give_ratio",
    "last_active_at",
    "status",
)


@dataclass(frozen=True)
class MemberQuery:
    sort: str = "display_name"
    order: str = "asc"
    page: int = 1
    per_page: int = 50


# One row per current member ---------------------------------------------------------------------------


def _parameters(chapter_id: int, zone: str, now: datetime | None) -> dict:
    """The chapter and, for the status, the start of the last 90 days: the same 90 days as a summary
    up to today (today and the 89 days before it, the chapter's local days)."""
    return {"chapter_id": chapter_id, "since": Period.of(zone=zone, now=now).last_days(RECENT.days).starts_at}


def _status():
    """green, amber or red (see the package's definitions), from the parameter `since`."""
    since = bindparam("since", type_=UTCDateTime())
    return case(
        (MemberFigures.last_completed_at >= since, "green"),
        (MemberFigures.last_active_at >= since, "amber"),
        else_="red",
    )


def _member_columns() -> tuple[dict, list]:
    """Each member figure as a column expression over the current memberships (all time, as of now),
    and the joins the expressions read: the kept figures (reports.counting) and the ledger account."""

    def kept(name: str):
        return func.coalesce(getattr(MemberFigures, name), 0)

    completed, posted = kept("intros_completed"), kept("needs_posted")
    columns = {
        "member_id": Membership.member_id,
        "display_name": Member.display_name,
        "joined_at": Membership.joined_at,
        "intros_made": kept("intros_made"),
        "intros_completed": completed,
        "intros_received": kept("intros_received"),
        "needs_posted": posted,
        "business_given_amount": kept("business_given_amount"),
        "business_received_amount": kept("business_received_amount"),
        "balance": func.coalesce(LedgerAccount.balance, 0),
        "give_ratio": case(
            (completed + posted > 0, cast(completed, Float) / (completed + posted)), else_=None
        ),
        "last_active_at": MemberFigures.last_active_at,
        "status": _status(),
    }
    figures = and_(
        MemberFigures.chapter_id == Membership.chapter_id, MemberFigures.member_id == Membership.member_id
    )
    account = and_(
        LedgerAccount.chapter_id == Membership.chapter_id, LedgerAccount.member_id == Membership.member_id
    )
    return columns, [(MemberFigures, figures), (LedgerAccount, account)]


def _sort_key(columns: dict, sort: str):
    if sort == "giving_and_asking":  # the dashboard's chart: the members who do the most of either
        return columns["intros_completed"] + columns["needs_posted"]
    if sort == "status":
        return case(*((columns["status"] == name, rank) for name, rank in STATUS_ORDER.items()))
    if sort == "display_name":
        return func.lower(columns["display_name"])
    return columns[sort]


def _member_figures():
    """The statement of one row per current member with every figure, and its columns by name; the
    chapter and `since` are parameters (`_parameters`)."""
    columns, joins = _member_columns()
    statement = select(*(column.label(name) for name, column in columns.items())).join(
        Member, Member.id == Membership.member_id
    )
    for target, on in joins:
        statement = statement.outerjoin(target, on)
    return statement.where(current_members(bindparam("chapter_id"))), columns


def _ordered(columns: dict, sort: str, order: str) -> list:
    key = _sort_key(columns, sort)
    key = key.desc() if order == "desc" else key.asc()
    return [key.nulls_last(), func.lower(columns["display_name"]), columns["member_id"]]


def member_rows(
    chapter_id: int,
    query: MemberQuery = MemberQuery(),  # noqa: B008
    *,
    zone: str = "UTC",
    now: datetime | None = None,
):
    """One page of member rows and the number of rows in all pages: one query. `zone` is the
    chapter's: a status counts its days."""
    return counted_rows(
        _member_rows_query(query.sort, query.order),
        _parameters(chapter_id, zone, now),
        limit=query.per_page,
        offset=(query.page - 1) * query.per_page,
    )


@functools.cache
def _member_rows_query(sort: str, order: str):
    """Built once for each sort and order."""
    statement, columns = _member_figures()
    return paged(statement.order_by(*_ordered(columns, sort, order)), counted=True)


@dataclass(frozen=True)
class MemberViews:
    """The dashboard's three views of the member figures."""

    page: list  # the members table's page
    total: int
    most_active: list  # who gives or asks the most
    dormant: list  # status red, longest inactive first
    dormant_total: int


def member_views(
    chapter_id: int,
    query: MemberQuery,
    *,
    most_active: int,
    dormant: int,
    zone: str = "UTC",
    now: datetime | None = None,
) -> MemberViews:
    """Three views of the members from one aggregation: one query, window functions rank each view."""
    first = (query.page - 1) * query.per_page
    parameters = _parameters(chapter_id, zone, now) | {
        "first": first + 1,
        "last": first + query.per_page,
        "most_active": most_active,
        "dormant": dormant,
    }
    rows = db.session.execute(_member_views_query(query.sort, query.order), parameters).all()
    # Each row says where it stands in each view; a member may stand in several.
    return MemberViews(
        page=sorted(
            (row for row in rows if first < row.page_rank <= first + query.per_page),
            key=lambda r: r.page_rank,
        ),
        total=rows[0].total if rows else 0,
        most_active=sorted(
            (row for row in rows if row.active_rank <= most_active), key=lambda r: r.active_rank
        ),
        dormant=sorted(
            (row for row in rows if row.status == "red" and row.red_rank <= dormant), key=lambda r: r.red_rank
        ),
        dormant_total=rows[0].red_total if rows else 0,
    )


@functools.cache
def _member_views_query(sort: str, order: str):
    """Built once for each sort and order of the table; its page and the views' sizes are parameters."""
    statement, _columns = _member_figures()
    figures = statement.subquery("member_figures")
    columns = {column.name: column for column in figures.c}
    red = figures.c.status == "red"
    ranked = select(
        figures,
        func.row_number().over(order_by=_ordered(columns, sort, order)).label("page_rank"),
        func.row_number().over(order_by=_ordered(columns, "giving_and_asking", "desc")).label("active_rank"),
        func.row_number()
        .over(partition_by=red, order_by=_ordered(columns, "last_active_at", "asc"))
        .label("red_rank"),
        func.count().over().label("total"),
        func.sum(case((red, 1), else_=0)).over().label("red_total"),
    ).subquery("ranked")
    on_page = ranked.c.page_rank.between(bindparam("first"), bindparam("last"))
    shown_dormant = and_(ranked.c.status == "red", ranked.c.red_rank <= bindparam("dormant"))
    return select(ranked).where(or_(on_page, ranked.c.active_rank <= bindparam("most_active"), shown_dormant))
