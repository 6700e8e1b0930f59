"""Each current member's figures and status, as of now: a page of them, or the dashboard's short lists."""

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, exists, func, literal, null, or_, select, union_all, update
from sqlalchemy.orm import aliased

from ..accounts.models import Member
from ..chapters.models import Membership, current_members
from ..database import UTCDateTime, counted_rows
from ..extensions import db
from .activities import RECENT
from .models import FIGURE_SORTS, MemberFigures, give_ratio
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


def differences(connection) -> list[str]:
    """Each membership or member's figures whose kept display name (chapters.services.keep_name,
    `keep_name`) is not its member's, and each membership with no figures row
    (counting.on_membership_created), as a line of text; empty when all is well."""
    found = []
    for model in (Membership, MemberFigures):
        wrong = connection.execute(
            select(model.chapter_id, model.member_id, model.display_name, Member.display_name)
            .join(Member, Member.id == model.member_id)
            .where(or_(model.display_name.is_(None), model.display_name != Member.display_name))
            .order_by(model.chapter_id, model.member_id)
        )
        found += [
            f"{model.__tablename__} (chapter_id {chapter}, member_id {member}): display_name is {kept!r}, "
            f"the member's is {name!r}"
            for chapter, member, kept, name in wrong
        ]
    without = connection.execute(
        select(Membership.chapter_id, Membership.member_id)
        .where(~exists().where(_figures_of_membership()))
        .order_by(Membership.chapter_id, Membership.member_id)
    )
    return found + [
        f"memberships (chapter_id {chapter}, member_id {member}): no report_member_figures row"
        for chapter, member in without
    ]


def keep_name(member: Member) -> None:
    """The member's figures in each chapter take the member's display name, as it now is
    (events.member_renamed)."""
    db.session.execute(_keep_name_statement(), {"member": member.id, "name": member.display_name})


@functools.cache
def _keep_name_statement():
    """Found through the member's memberships: the figures' key starts with the chapter."""
    figures = MemberFigures.__table__
    chapters = select(Membership.chapter_id).where(Membership.member_id == bindparam("member"))
    return (
        update(figures)
        .where(figures.c.chapter_id.in_(chapters), figures.c.member_id == bindparam("member"))
        .values(display_name=bindparam("name"))
    )


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


def _figures_of_membership():
    """The join of a membership to its member's kept figures in the chapter."""
    return and_(
        MemberFigures.chapter_id == Membership.chapter_id, MemberFigures.member_id == Membership.member_id
    )


def _member_columns() -> dict:
    """Each member figure as a column expression over the current memberships and their kept figures
    (reports.counting; all time, as of now)."""

    def kept(name: str):
        return func.coalesce(getattr(MemberFigures, name), 0)

    return {
        "member_id": Membership.member_id,
        "display_name": Membership.display_name,
        "joined_at": Membership.joined_at,
        "intros_made": kept("intros_made"),
        "intros_completed": kept("intros_completed"),
        "intros_received": kept("intros_received"),
        "needs_posted": kept("needs_posted"),
        "business_given_amount": kept("business_given_amount"),
        "business_received_amount": kept("business_received_amount"),
        "balance": kept("balance"),
        "give_ratio": give_ratio(MemberFigures),
        "last_active_at": MemberFigures.last_active_at,
        "status": _status(),
    }


def _sort_key(columns: dict, sort: str):
    if sort == "status":
        return case(*((columns["status"] == name, rank) for name, rank in STATUS_ORDER.items()))
    if sort == "display_name":
        return func.lower(columns["display_name"])
    return columns[sort]


def _member_figures():
    """The statement of one row per current member with every figure, and its columns by name; the
    chapter and `since` are parameters (`_parameters`)."""
    columns = _member_columns()
    statement = select(*(column.label(name) for name, column in columns.items()))
    statement = statement.outerjoin(MemberFigures, _figures_of_membership())
    return statement.where(current_members(bindparam("chapter_id"))), columns


def _ordered(columns: dict, sort: str, order: str) -> list:
    key = _sort_key(columns, sort)
    key = key.desc() if order == "desc" else key.asc()
    return [key.nulls_last(), func.lower(columns["display_name"]), columns["member_id"]]


def member_rows(
    chapter_id: int,
    query: MemberQuery = MemberQuery(),  # noqa: B008
    *,
    zone: str,
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


def _of_status(name: str):
    """The condition for a status (`_status`) on the kept figures' own columns, which the database can
    estimate: a member with no figures is red."""
    since = bindparam("since", type_=UTCDateTime())
    completed, active = MemberFigures.last_completed_at, MemberFigures.last_active_at

    def before(column):
        return or_(column.is_(None), column < since)

    return {
        "green": completed >= since,
        "amber": and_(active >= since, before(completed)),
        "red": and_(before(active), before(completed)),
    }[name]


def _by_status(statement, order: str):
    """The rows up to the end of the page in status order: the members of each status in name order,
    found by walking the memberships' name index, one status after the other, each read only while the
    ones before it do not fill the page."""
    wanted = bindparam("limit") + bindparam("offset")
    statuses = sorted(STATUS_ORDER, key=STATUS_ORDER.get, reverse=order == "desc")
    parts = []
    for name in statuses:
        part = statement.where(_of_status(name))
        if parts:
            before = sum(select(func.count()).select_from(earlier).scalar_subquery() for earlier in parts)
            part = part.where(before < wanted)
        parts.append(
            part.order_by(func.lower(Membership.display_name), Membership.member_id)
            .limit(wanted)
            .cte(f"{name}_members")
        )
    return union_all(*(select(part) for part in parts)).subquery("by_status")


def _by_figure(sort: str, order: str):
    """The members who may be on the page when sorted by a kept figure: of the current members with a
    figure and of those with none (a null time or ratio), those up to the end of the page in the page's
    order, each read in order from the figure's index and cut there. Every membership has its figures
    row (counting.on_membership_created)."""
    wanted = bindparam("limit") + bindparam("offset")
    value = FIGURE_SORTS[sort]
    by_name = [func.lower(MemberFigures.display_name), MemberFigures.member_id]
    kept = (
        select(MemberFigures.member_id)
        .join(Membership, _figures_of_membership())
        .where(MemberFigures.chapter_id == bindparam("chapter_id"), current_members(bindparam("chapter_id")))
    )
    valued = kept.where(value.is_not(None)).order_by(value.desc() if order == "desc" else value, *by_name)
    # Ordered by the (null) figure too, which the database cannot tell from the index alone.
    unvalued = kept.where(value.is_(None)).order_by(value, *by_name)
    return union_all(*(select(part.limit(wanted).subquery()) for part in (valued, unvalued)))


@functools.cache
def _member_rows_query(sort: str, order: str):
    """Built once for each sort and order. The total is counted from the memberships alone, so the
    database keeps only the page's rows while it sorts. Sorted by name, or by status and then name, the
    page is found through the memberships' name index: only the rows up to its end are read, however
    many members the chapter has; sorted by a kept figure (the balance included), the page is found
    among the few members `_by_figure` reads through the figures' indexes."""
    statement, columns = _member_figures()
    total = select(func.count()).where(current_members(bindparam("chapter_id"))).scalar_subquery()
    if sort == "status":
        rows = _by_status(statement, order)
        statement, columns = select(rows), {column.name: column for column in rows.c}
    if sort in FIGURE_SORTS:
        statement = statement.where(Membership.member_id.in_(_by_figure(sort, order)))
    return (
        statement.add_columns(total.label("total"))
        .order_by(*_ordered(columns, sort, order))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@dataclass(frozen=True)
class Standouts:
    """The dashboard's two short lists of members, ranked by the database."""

    most_active: list  # who gave or asked the most (never nobody: both counts zero)
    dormant: list  # status red, longest inactive first; those never active last, by name
    dormant_total: int  # every red member, listed or not


def standouts(
    chapter_id: int, *, most_active: int, dormant: int, zone: str, now: datetime | None = None
) -> Standouts:
    """The most active and the longest dormant members, in one query that reads the rows it shows
    through the kept figures' indexes, however many members the chapter has."""
    parameters = _parameters(chapter_id, zone, now) | {
        "most_active": most_active,
        "last_active_place": max(most_active - 1, 0),
        "dormant": dormant,
        "last_dormant_place": max(dormant - 1, 0),
    }
    rows = db.session.execute(_standouts_query(), parameters).all()

    def ranked(view: str) -> list:
        return sorted((row for row in rows if row.view == view), key=lambda row: row.position)

    return Standouts(
        most_active=ranked("active"),
        dormant=(ranked("dormant") + ranked("never"))[:dormant],
        dormant_total=next(row.position for row in rows if row.view == "dormant_total"),
    )


@functools.cache
def _standouts_query():
    """Three lists, each cut by its own LIMIT: the most active, the red members with a last activity
    (longest ago first), and, only when those are fewer than shown, the red members never active (by
    name); and a row that counts the red members: the current ones less those active, or whose
    introduction completed, in the last 90 days (found from `since` in the index of the last
    activity, which also holds the last completion). Each list first finds the value of its
    last shown row by walking an index of the kept figures from one end (the sum of giving and
    asking, the last activity), then reads and orders only the rows up to that value, ties included.
    Built once; the sizes are parameters."""
    statement, columns = _member_figures()
    since = bindparam("since", type_=UTCDateTime())
    red = columns["status"] == "red"
    name_order = [func.lower(columns["display_name"]), columns["member_id"]]

    def giving_and_asking(figures):
        return figures.intros_completed + figures.needs_posted

    def quiet(figures):
        """Red, with a last activity."""
        return and_(
            figures.last_active_at < since,
            or_(figures.last_completed_at < since, figures.last_completed_at.is_(None)),
        )

    def last_shown(value, descending: bool, condition, place: str):
        """`value` (of the kept figures) of the row at `place` (0-based) when the current members'
        figures that meet `condition` are ordered by it."""
        kept = aliased(MemberFigures)
        on = and_(kept.chapter_id == Membership.chapter_id, kept.member_id == Membership.member_id)
        return (
            select(value(kept))
            .select_from(Membership)
            .join(kept, on)
            .where(current_members(bindparam("chapter_id")), condition(kept))
            .order_by(value(kept).desc() if descending else value(kept).asc())
            .limit(1)
            .offset(bindparam(place))
            .scalar_subquery()
        )

    def listed(view: str, condition, order: list, limit: str):
        return (
            statement.add_columns(
                literal(view).label("view"), func.row_number().over(order_by=order).label("position")
            )
            .where(condition)
            .order_by(*order)
            .limit(bindparam(limit))
        )

    def gave_or_asked(figures):
        return giving_and_asking(figures) > 0

    least_active = last_shown(giving_and_asking, True, gave_or_asked, "last_active_place")
    active = listed(
        "active",
        # The chart leaves out who neither gave nor asked: the least shown has given or asked once.
        giving_and_asking(MemberFigures) >= func.coalesce(least_active, 1),
        [giving_and_asking(MemberFigures).desc(), *name_order],
        "most_active",
    )
    latest_quiet = last_shown(lambda figures: figures.last_active_at, False, quiet, "last_dormant_place")
    dated = listed(
        "dormant",
        and_(quiet(MemberFigures), MemberFigures.last_active_at <= func.coalesce(latest_quiet, since)),
        [MemberFigures.last_active_at.asc(), *name_order],
        "dormant",
    ).cte("dormant_dated")
    # Read only when the dated ones do not fill the list: a one-time filter before any row.
    short = select(func.count()).select_from(dated).scalar_subquery() < bindparam("dormant")
    never = listed("never", and_(red, MemberFigures.last_active_at.is_(None), short), name_order, "dormant")
    current = select(func.count()).where(current_members(bindparam("chapter_id"))).scalar_subquery()
    not_red = (
        select(func.count())
        .select_from(Membership)
        .join(MemberFigures, _figures_of_membership())
        .where(
            current_members(bindparam("chapter_id")),
            or_(MemberFigures.last_active_at >= since, MemberFigures.last_completed_at >= since),
        )
        .scalar_subquery()
    )
    counted = select(
        *(null().label(column.name) for column in statement.selected_columns),
        literal("dormant_total").label("view"),
        (current - not_red).label("position"),
    )
    return union_all(select(active.subquery()), select(dated), select(never.subquery()), counted)
