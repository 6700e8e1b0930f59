"""Each current member's figures and status, as of now: a page of them, or the dashboard's three views."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, and_, case, cast, func, or_, select

from ..accounts.models import Member
from ..chapters.models import Membership
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


def _recent_since(zone: str, now: datetime | None) -> datetime:
    """When the 90 days up to today begin, as a summary up to today counts them: today and the 89 days
    before it, the chapter's local days."""
    return Period.of(zone=zone, now=now).last_days(RECENT.days).starts_at


def _status(since: datetime):
    """green, amber or red (see the package's definitions), counting from `since` (_recent_since)."""
    return case(
        (MemberFigures.last_completed_at >= since, "green"),
        (MemberFigures.last_active_at >= since, "amber"),
        else_="red",
    )


def _member_columns(since: datetime) -> tuple[dict, list]:
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
        "status": _status(since),
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


def _member_figures(chapter_id: int, since: datetime):
    """The statement of one row per current member with every figure, and its columns by name."""
    columns, joins = _member_columns(since)
    statement = select(*(column.label(name) for name, column in columns.items())).join(
        Member, Member.id == Membership.member_id
    )
    for target, on in joins:
        statement = statement.outerjoin(target, on)
    return statement.where(current_members(chapter_id)), columns


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
    """One page of member rows and the number of rows in all pages: two queries. `zone` is the
    chapter's: a status counts its days."""
    statement, columns = _member_figures(chapter_id, _recent_since(zone, now))
    total = db.session.scalar(select(func.count()).where(current_members(chapter_id)))
    rows = db.session.execute(
        statement.order_by(*_ordered(columns, query.sort, query.order))
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    ).all()
    return rows, total


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
    statement, _columns = _member_figures(chapter_id, _recent_since(zone, now))
    figures = statement.subquery("member_figures")
    columns = {column.name: column for column in figures.c}
    red = figures.c.status == "red"
    ranked = select(
        figures,
        func.row_number().over(order_by=_ordered(columns, query.sort, query.order)).label("page_rank"),
        func.row_number().over(order_by=_ordered(columns, "giving_and_asking", "desc")).label("active_rank"),
        func.row_number()
        .over(partition_by=red, order_by=_ordered(columns, "last_active_at", "asc"))
        .label("red_rank"),
        func.count().over().label("total"),
        func.sum(case((red, 1), else_=0)).over().label("red_total"),
    ).subquery("ranked")
    first = (query.page - 1) * query.per_page
    on_page = ranked.c.page_rank.between(first + 1, first + query.per_page)
    shown_dormant = and_(ranked.c.status == "red", ranked.c.red_rank <= dormant)
    rows = db.session.execute(
        select(ranked).where(or_(on_page, ranked.c.active_rank <= most_active, shown_dormant))
    ).all()
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
