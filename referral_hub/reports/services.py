"""The reports' figures, each a fixed number of SQL aggregates whatever the chapter's size.

Definitions (the OpenAPI descriptions repeat them for the API's users):

- An *activity* of a member in a chapter: posting a need, making an introduction, answering an
  introduction (accept or decline), reporting an outcome. Joining is not an activity.
- *active* in a period: at least one activity in it. *dormant*: a current member with no activity
  in the 90 days up to the end of the period (status red).
- Status, as of now: *green* made an introduction that completed in the last 90 days; *amber* not
  green but active in the last 90 days; *red* no activity in the last 90 days.
- *give_ratio*: giving / (giving + asking), giving = introductions the member made that completed,
  asking = needs posted; null when both are zero. 1 only gives, 0 only asks.
- *acceptance_rate*: of the introductions resolved in the period (completed, declined or expired),
  the share that completed; null when none resolved.
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.functions import FunctionElement

from ..accounts.models import Member
from ..chapters.models import POLICY_SETTINGS, Chapter, Membership, MembershipStatus
from ..clock import utcnow
from ..database import UTCDateTime
from ..extensions import db
from ..introductions.models import Consent, Introduction, IntroState, Outcome, OutcomeKind
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..needs.models import Need, NeedStatus

RECENT = timedelta(days=90)
# The longest an introduction can wait for answers: the policy's upper bound for intro_expiry_days.
ANSWER_WINDOW = timedelta(days=POLICY_SETTINGS["intro_expiry_days"][2])
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
WEEK, MONTH = "week", "month"
STATUS_ORDER = {"red": 0, "amber": 1, "green": 2}


# Dates and periods -------------------------------------------------------------------------------


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `start` to `end`, both included; no `start` means since the beginning."""

    start: date | None
    end: date

    @property
    def starts_at(self) -> datetime:
        return start_of(self.start) if self.start else EARLIEST

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period."""
        return start_of(self.end) + timedelta(days=1)

    @classmethod
    def of(
        cls, start: date | None = None, end: date | None = None, *, now: datetime | None = None
    ) -> "Period":
        return cls(start, end or (now or utcnow()).date())


def period_start(day: date, interval: str) -> date:
    return day - timedelta(days=day.weekday()) if interval == WEEK else day.replace(day=1)


def shift(start: date, interval: str, count: int) -> date:
    if interval == WEEK:
        return start + timedelta(weeks=count)
    months = start.year * 12 + start.month - 1 + count
    return date(months // 12, months % 12 + 1, 1)


def periods_between(first: date, last: date, interval: str) -> int:
    if interval == WEEK:
        return (last - first).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


# Small SQL pieces -----------------------------------------------------------------------------------


class hours_between(FunctionElement):  # noqa: N801 - reads as the SQL function it stands for
    """Hours from the first timestamp to the second, as a float, on PostgreSQL and SQLite."""

    type = Float()
    inherit_cache = True


@compiles(hours_between)
def _hours_between(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


def _count(*conditions):
    return select(func.count()).where(*conditions).scalar_subquery()


def _within(column, starts_at: datetime, ends_at: datetime):
    return and_(column >= starts_at, column < ends_at)


def _sum(expression):
    return func.coalesce(func.sum(expression), 0)


def _median(values):
    """The median of a subquery's single column `value`, with window functions (SQLite has no median)."""
    ranked = select(
        values.c.value,
        func.row_number().over(order_by=values.c.value).label("position"),
        func.count().over().label("size"),
    ).subquery()
    middle = ranked.c.position.in_([(ranked.c.size + 1) // 2, (ranked.c.size + 2) // 2])
    return select(func.avg(ranked.c.value)).where(middle).scalar_subquery()


def chapter_outcomes(chapter_id: int):
    """The chapter's outcomes with their introducers, once for every use in a statement (a CTE)."""
    return (
        select(
            Outcome.reported_by_id,
            Outcome.kind,
            Outcome.amount,
            Outcome.created_at,
            Introduction.introducer_id,
        )
        .join(Introduction, Introduction.id == Outcome.introduction_id)
        .where(Introduction.chapter_id == chapter_id)
        .cte("chapter_outcomes")
    )


def activities(
    chapter_id: int, *, starts_at: datetime | None = None, ends_at: datetime | None = None, outcomes=None
):
    """Every activity in the chapter as rows (member_id, at), optionally within [starts_at, ends_at).

    `outcomes`: the statement's `chapter_outcomes`, to read them once; by default they are read here.
    """
    outcomes = outcomes if outcomes is not None else chapter_outcomes(chapter_id)

    def part(member, at, *conditions):
        window = [_within(at, starts_at, ends_at)] if starts_at is not None else []
        return select(member.label("member_id"), at.label("at")).where(*conditions, *window)

    in_chapter = Introduction.chapter_id == chapter_id
    answerable = [in_chapter]
    if starts_at is not None:
        # An answer comes before its introduction expires, so it is from an introduction made at
        # most ANSWER_WINDOW earlier: this reads those introductions' consents, not all of them.
        answerable.append(_within(Introduction.created_at, starts_at - ANSWER_WINDOW, ends_at))
    return union_all(
        part(Need.asker_id, Need.created_at, Need.chapter_id == chapter_id),
        part(Introduction.introducer_id, Introduction.created_at, in_chapter),
        part(Consent.member_id, Consent.answered_at, Consent.introduction_id == Introduction.id, *answerable),
        part(outcomes.c.reported_by_id, outcomes.c.created_at),
    ).subquery("activities")


def _current_members(chapter_id: int):
    return and_(Membership.chapter_id == chapter_id, Membership.status == MembershipStatus.ACTIVE)


# Summary ----------------------------------------------------------------------------------------------


def summary(chapter_id: int, period: Period) -> dict:
    """The chapter's figures for a period: five aggregate queries."""
    starts_at, ends_at = period.starts_at, period.ends_at
    return {
        "from": period.start,
        "to": period.end,
        "members": _member_totals(chapter_id, starts_at, ends_at),
        "needs": _need_totals(chapter_id, starts_at, ends_at),
        "introductions": _introduction_totals(chapter_id, starts_at, ends_at),
        "business_closed": _business_totals(chapter_id, starts_at, ends_at),
        "credits": _credit_totals(chapter_id, starts_at, ends_at),
    }


def _member_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    # Both windows end where the period ends, so each member's latest activity before then answers
    # both questions: active in the period, and active in the 90 days up to its end. It is joined,
    # not tested with `IN (…)`, which could make the database re-read the set for every member.
    events = activities(chapter_id, starts_at=min(starts_at, ends_at - RECENT), ends_at=ends_at)
    latest = (
        select(events.c.member_id, func.max(events.c.at).label("at")).group_by(events.c.member_id).subquery()
    )
    row = db.session.execute(
        select(
            func.count().label("total"),
            _sum(case((_within(Membership.joined_at, starts_at, ends_at), 1), else_=0)).label("new"),
            _sum(case((latest.c.at >= starts_at, 1), else_=0)).label("active"),
            _sum(case((latest.c.at >= ends_at - RECENT, 0), else_=1)).label("dormant"),
        )
        .select_from(Membership)
        .outerjoin(latest, latest.c.member_id == Membership.member_id)
        .where(_current_members(chapter_id))
    ).one()
    return row._asdict()


def _need_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    chapter = Need.chapter_id == chapter_id

    def finished(status: NeedStatus):
        return _count(chapter, Need.status == status, _within(Need.closed_at, starts_at, ends_at))

    # Open at the end of the period: posted by then, and not yet finished by then.
    finished_by_end = _count(chapter, Need.status != NeedStatus.OPEN, Need.closed_at < ends_at)
    row = db.session.execute(
        select(
            _count(chapter, _within(Need.created_at, starts_at, ends_at)).label("posted"),
            (_count(chapter, Need.created_at < ends_at) - finished_by_end).label("open"),
            finished(NeedStatus.FULFILLED).label("fulfilled"),
            finished(NeedStatus.EXPIRED).label("expired"),
        )
    ).one()
    return row._asdict()


def _introduction_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    chapter = Introduction.chapter_id == chapter_id
    completed_in = _within(Introduction.completed_at, starts_at, ends_at)

    def closed(*states: IntroState, since: datetime = starts_at):
        return _count(
            chapter, Introduction.state.in_(states), _within(Introduction.closed_at, since, ends_at)
        )

    completed = _count(chapter, completed_in)
    resolved = completed + closed(IntroState.DECLINED, IntroState.EXPIRED)
    # Pending at the end of the period: made by then and neither completed nor closed by then.
    pending = (
        _count(chapter, Introduction.created_at < ends_at)
        - _count(chapter, Introduction.completed_at < ends_at)
        - closed(IntroState.DECLINED, IntroState.EXPIRED, IntroState.CANCELLED, since=EARLIEST)
    )
    durations = (
        select(hours_between(Introduction.created_at, Introduction.completed_at).label("value"))
        .where(chapter, completed_in)
        .subquery()
    )
    row = db.session.execute(
        select(
            _count(chapter, _within(Introduction.created_at, starts_at, ends_at)).label("made"),
            completed.label("completed"),
            closed(IntroState.DECLINED).label("declined"),
            closed(IntroState.EXPIRED).label("expired"),
            pending.label("pending"),
            case((resolved > 0, cast(completed, Float) / resolved), else_=None).label("acceptance_rate"),
            _median(durations).label("median_hours_to_complete"),
        )
    ).one()
    return row._asdict()


def _business_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    row = db.session.execute(
        select(func.count().label("count"), _sum(Outcome.amount).label("amount"))
        .join(Introduction, Introduction.id == Outcome.introduction_id)
        .where(
            Introduction.chapter_id == chapter_id,
            Outcome.kind == OutcomeKind.BUSINESS_CLOSED,
            _within(Outcome.created_at, starts_at, ends_at),
        )
    ).one()
    return row._asdict()


def _credit_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    """Credits into and out of member accounts in the period, and what they held at its end: one query.

    The ledger is append-only, so what happened up to the end of the period is everything less what
    was recorded after it, and the balances then are today's cached balances less what moved since.
    Counting from the beginning that way reads each account's entries instead of every transaction's.
    """

    def moved(*window):
        entries = (
            select(LedgerEntry.amount)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.chapter_id == chapter_id, LedgerAccount.member_id.is_not(None))
        )
        if window:
            entries = entries.join(
                LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id
            ).where(LedgerTransaction.chapter_id == chapter_id, *window)
        entries = entries.subquery()
        return {
            "issued": select(_sum(case((entries.c.amount > 0, entries.c.amount), else_=0))).scalar_subquery(),
            "spent": select(_sum(case((entries.c.amount < 0, -entries.c.amount), else_=0))).scalar_subquery(),
        }

    after = moved(LedgerTransaction.created_at >= ends_at)
    if starts_at <= EARLIEST:
        everything = moved()
        during = {key: everything[key] - after[key] for key in ("issued", "spent")}
    else:
        during = moved(_within(LedgerTransaction.created_at, starts_at, ends_at))
    held_now = select(_sum(LedgerAccount.balance)).where(
        LedgerAccount.chapter_id == chapter_id, LedgerAccount.member_id.is_not(None)
    )
    row = db.session.execute(
        select(
            during["issued"].label("issued"),
            during["spent"].label("spent"),
            (held_now.scalar_subquery() - after["issued"] + after["spent"]).label("balance_sum"),
        )
    ).one()
    return row._asdict()


# Members ------------------------------------------------------------------------------------------------


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


def _member_columns(chapter_id: int, now: datetime) -> dict:
    """Each member figure as a column expression over the current memberships (all time, as of now)."""
    chapter = Introduction.chapter_id == chapter_id
    made = (
        select(
            Introduction.introducer_id.label("member_id"),
            func.count().label("made"),
            func.count(Introduction.completed_at).label("completed"),
            func.max(Introduction.completed_at).label("last_completed_at"),
        )
        .where(chapter)
        .group_by(Introduction.introducer_id)
        .subquery("made")
    )
    parties = union_all(
        select(Introduction.first_id.label("member_id")).where(chapter),
        select(Introduction.second_id.label("member_id")).where(chapter),
    ).subquery()
    received = (
        select(parties.c.member_id, func.count().label("received"))
        .group_by(parties.c.member_id)
        .subquery("received")
    )
    asked = (
        select(Need.asker_id.label("member_id"), func.count().label("posted"))
        .where(Need.chapter_id == chapter_id)
        .group_by(Need.asker_id)
        .subquery("asked")
    )
    outcomes = chapter_outcomes(chapter_id)
    business = select(outcomes).where(outcomes.c.kind == OutcomeKind.BUSINESS_CLOSED).subquery()
    given = (
        select(business.c.introducer_id.label("member_id"), func.sum(business.c.amount).label("amount"))
        .group_by(business.c.introducer_id)
        .subquery("given")
    )
    got = (
        select(business.c.reported_by_id.label("member_id"), func.sum(business.c.amount).label("amount"))
        .group_by(business.c.reported_by_id)
        .subquery("got")
    )
    events = activities(chapter_id, outcomes=outcomes)
    last_active = (
        select(events.c.member_id, func.max(events.c.at).label("at"))
        .group_by(events.c.member_id)
        .subquery("last_active")
    )
    completed = func.coalesce(made.c.completed, 0)
    posted = func.coalesce(asked.c.posted, 0)
    # The same 90 days as a summary up to today: today and the 89 days before it, whole UTC days.
    since = Period.of(now=now).ends_at - RECENT
    status = case(
        (made.c.last_completed_at >= since, "green"), (last_active.c.at >= since, "amber"), else_="red"
    )
    columns = {
        "member_id": Membership.member_id,
        "display_name": Member.display_name,
        "joined_at": Membership.joined_at,
        "intros_made": func.coalesce(made.c.made, 0),
        "intros_completed": completed,
        "intros_received": func.coalesce(received.c.received, 0),
        "needs_posted": posted,
        "business_given_amount": func.coalesce(given.c.amount, 0),
        "business_received_amount": func.coalesce(got.c.amount, 0),
        "balance": func.coalesce(LedgerAccount.balance, 0),
        "give_ratio": case(
            (completed + posted > 0, cast(completed, Float) / (completed + posted)), else_=None
        ),
        "last_active_at": last_active.c.at,
        "status": status,
    }
    joins = [
        (made, made.c.member_id == Membership.member_id),
        (received, received.c.member_id == Membership.member_id),
        (asked, asked.c.member_id == Membership.member_id),
        (given, given.c.member_id == Membership.member_id),
        (got, got.c.member_id == Membership.member_id),
        (last_active, last_active.c.member_id == Membership.member_id),
        (
            LedgerAccount,
            and_(
                LedgerAccount.chapter_id == Membership.chapter_id,
                LedgerAccount.member_id == Membership.member_id,
            ),
        ),
    ]
    return columns, joins


def _sort_key(columns: dict, sort: str):
    if sort == "giving_and_asking":  # the dashboard's chart: the members who do the most of either
        return columns["intros_completed"] + columns["needs_posted"]
    if sort == "status":
        return case(*((columns["status"] == name, rank) for name, rank in STATUS_ORDER.items()))
    if sort == "display_name":
        return func.lower(columns["display_name"])
    return columns[sort]


def _member_figures(chapter_id: int, now: datetime):
    """The statement of one row per current member with every figure, and its columns by name."""
    columns, joins = _member_columns(chapter_id, now)
    statement = select(*(column.label(name) for name, column in columns.items())).join(
        Member, Member.id == Membership.member_id
    )
    for target, on in joins:
        statement = statement.outerjoin(target, on)
    return statement.where(_current_members(chapter_id)), columns


def _ordered(columns: dict, sort: str, order: str) -> list:
    key = _sort_key(columns, sort)
    key = key.desc() if order == "desc" else key.asc()
    return [key.nulls_last(), func.lower(columns["display_name"]), columns["member_id"]]


def member_rows(chapter_id: int, query: MemberQuery = MemberQuery(), *, now: datetime | None = None):  # noqa: B008
    """One page of member rows and the number of rows in all pages: two queries."""
    statement, columns = _member_figures(chapter_id, now or utcnow())
    total = db.session.scalar(select(func.count()).where(_current_members(chapter_id)))
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
    now: datetime | None = None,
) -> MemberViews:
    """Three views of the members from one aggregation: one query, window functions rank each view."""
    statement, _columns = _member_figures(chapter_id, now or utcnow())
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


# Lists --------------------------------------------------------------------------------------------------


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
        select(_sum(Outcome.amount)).where(Outcome.introduction_id == Introduction.id).scalar_subquery()
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
            second.display_name.label("second_name"),
            Introduction.need_id,
            strongest_outcome.label("outcome"),
            business.label("business_amount"),
        )
        .join(introducer, introducer.id == Introduction.introducer_id)
        .join(first, first.id == Introduction.first_id)
        .join(second, second.id == Introduction.second_id)
    )
    filters = [Introduction.chapter_id == chapter_id]
    if status is not None:
        filters.append(Introduction.state == status)
    if period is not None:
        filters.append(_within(Introduction.created_at, period.starts_at, period.ends_at))
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
        filters.append(_within(LedgerTransaction.created_at, period.starts_at, period.ends_at))
    statement = select(LedgerTransaction).options(
        selectinload(LedgerTransaction.entries)
        .joinedload(LedgerEntry.account)
        .joinedload(LedgerAccount.member)
    )
    order = (LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
    rows, total = _page(statement, filters=filters, order_by=order, page=page, per_page=per_page)
    return [transaction for (transaction,) in rows], total


# Activity per period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """The weeks or months that cover a period, a page of them at a time."""

    interval: str
    first: date  # start of the first period
    count: int

    @classmethod
    def covering(
        cls, interval: str, start: date | None, end: date, *, default_periods: int = 12
    ) -> "Timeline":
        last = period_start(end, interval)
        first = period_start(start, interval) if start else shift(last, interval, 1 - default_periods)
        return cls(interval, first, max(periods_between(first, last, interval), 0))

    def pages(self, per_page: int) -> int:
        return math.ceil(self.count / per_page)

    def window(self, page: int, per_page: int) -> list[tuple[date, date]]:
        """(first day, last day) of each period on the page, in order."""
        begin = min((page - 1) * per_page, self.count)
        stop = min(begin + per_page, self.count)
        starts = [shift(self.first, self.interval, n) for n in range(begin, stop + 1)]
        return [
            (start, following - timedelta(days=1))
            for start, following in zip(starts, starts[1:], strict=False)
        ]


def activity_rows(chapter_id: int, timeline: Timeline, *, page: int, per_page: int):
    """A row per period on the page: one query, however many periods and events."""
    window = timeline.window(page, per_page)
    if not window:
        return [], timeline.count
    periods = union_all(
        *(
            select(
                cast(literal(number), Integer).label("number"),
                literal(start_of(first), UTCDateTime).label("starts_at"),
                literal(start_of(last) + timedelta(days=1), UTCDateTime).label("ends_at"),
            )
            for number, (first, last) in enumerate(window)
        )
    ).subquery("periods")
    starts_at, ends_at = start_of(window[0][0]), start_of(window[-1][1]) + timedelta(days=1)
    chapter_intros = Introduction.chapter_id == chapter_id

    def events(kind: str, at, amount, *conditions):
        return select(literal(kind).label("kind"), at.label("at"), amount.label("amount")).where(
            *conditions, _within(at, starts_at, ends_at)
        )

    zero = cast(literal(0), Integer)
    happened = union_all(
        events("need", Need.created_at, zero, Need.chapter_id == chapter_id),
        events("made", Introduction.created_at, zero, chapter_intros),
        events("completed", Introduction.completed_at, zero, chapter_intros),
        events(
            "business",
            Outcome.created_at,
            Outcome.amount,
            Outcome.introduction_id == Introduction.id,
            chapter_intros,
            Outcome.kind == OutcomeKind.BUSINESS_CLOSED,
        ),
    ).subquery("happened")

    def tally(kind: str, value=1):
        return _sum(case((happened.c.kind == kind, value), else_=0))

    figures = db.session.execute(
        select(
            periods.c.number,
            tally("need").label("needs_posted"),
            tally("made").label("introductions_made"),
            tally("completed").label("introductions_completed"),
            tally("business").label("business_closed"),
            tally("business", happened.c.amount).label("business_amount"),
        )
        .select_from(periods)
        .outerjoin(happened, and_(happened.c.at >= periods.c.starts_at, happened.c.at < periods.c.ends_at))
        .group_by(periods.c.number)
        .order_by(periods.c.number)
    ).all()
    rows = [
        ActivityRow(first, last, *counts)
        for (first, last), (_number, *counts) in zip(window, figures, strict=True)
    ]
    return rows, timeline.count


@dataclass(frozen=True)
class ActivityRow:
    period_start: date
    period_end: date
    needs_posted: int
    introductions_made: int
    introductions_completed: int
    business_closed: int
    business_amount: int


# Chapters -----------------------------------------------------------------------------------------------


def chapter_rows(chapter_id: int):
    members = _count(_current_members(chapter_id))
    rows = db.session.execute(
        select(Chapter.slug, Chapter.name, Chapter.created_at, members.label("members")).where(
            Chapter.id == chapter_id
        )
    ).all()
    return rows, len(rows)
