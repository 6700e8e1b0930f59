"""The organize pages' figures (overview, members section), gathered from the report services."""

from dataclasses import dataclass
from datetime import datetime

from ...clock import utcnow
from ...database import Page
from ...reports.members import MEMBER_SORTS, MemberQuery, member_rows, standouts
from ...reports.periods import MONTH, WEEK, Period, Timeline, activity_rows
from ...reports.summary import summary
from . import charts

DASHBOARD_DAYS = 90
MEMBERS_PER_PAGE = 25
CHART_MEMBERS = 15
DORMANT_SHOWN = 20
INTERVALS = (WEEK, MONTH)
# Names read in ascending order first; figures are more telling largest first.
ASCENDING_FIRST = {"display_name", "joined_at", "last_active_at", "status"}


@dataclass(frozen=True)
class View:
    """The dashboard's own query parameters; anything unexpected falls back to the default."""

    sort: str = "status"
    order: str = "asc"
    page: int = 1
    interval: str = WEEK

    @classmethod
    def from_args(cls, args) -> "View":
        sort = args.get("sort", cls.sort)
        order = args.get("order", "")
        page = args.get("page", "1")
        interval = args.get("interval", cls.interval)
        return cls(
            sort=sort if sort in MEMBER_SORTS else cls.sort,
            order=order if order in ("asc", "desc") else cls.order,
            page=int(page) if page.isdigit() and 0 < int(page) <= 100_000 else 1,
            interval=interval if interval in INTERVALS else cls.interval,
        )

    def table_args(self) -> dict:
        """The query arguments that keep the members table as it is (its sort, order and page) in a
        link that moves another list of the page; the defaults are left out."""
        kept = {"sort": self.sort, "order": self.order, "page": self.page}
        return {name: value for name, value in kept.items() if value != getattr(View, name)}

    def next_order(self, column: str) -> str:
        """The order a click on a column's heading asks for: the other way if it is the current sort."""
        if column == self.sort:
            return "desc" if self.order == "asc" else "asc"
        return "asc" if column in ASCENDING_FIRST else "desc"


@dataclass(frozen=True)
class Overview:
    """The organize page's overview: the period's figures, the charts and the dormant members."""

    view: View
    period: Period
    summary: dict
    activity: list
    activity_chart: charts.Chart
    giving: list
    giving_chart: charts.Chart
    dormant: list
    dormant_total: int


@dataclass(frozen=True)
class MemberTable:
    """The members section's table: every member's figures and status, sorted and paged."""

    view: View
    members: list
    members_pager: Page
    members_total: int


def overview(chapter_id: int, args, *, zone: str, now: datetime | None = None) -> Overview:
    """The overview's figures in a fixed number of queries, whatever the chapter's size; its days are
    those of the chapter's zone."""
    now = now or utcnow()
    view = View.from_args(args)
    period = Period.of(zone=zone, now=now).last_days(DASHBOARD_DAYS)
    timeline = Timeline.covering(view.interval, None, period.end)
    activity, _ = activity_rows(chapter_id, timeline, page=1, per_page=timeline.count)
    members = standouts(chapter_id, most_active=CHART_MEMBERS, dormant=DORMANT_SHOWN, zone=zone, now=now)
    return Overview(
        view=view,
        period=period,
        summary=summary(chapter_id, period),
        activity=activity,
        activity_chart=charts.activity_chart(activity, view.interval),
        giving=members.most_active,
        giving_chart=charts.giving_chart(members.most_active),
        dormant=members.dormant,
        dormant_total=members.dormant_total,
    )


def member_table(chapter_id: int, args, *, zone: str, now: datetime | None = None) -> MemberTable:
    """One page of the members' figures, in one query; a status counts the days of the chapter's zone."""
    view = View.from_args(args)
    query = MemberQuery(sort=view.sort, order=view.order, page=view.page, per_page=MEMBERS_PER_PAGE)
    members, total = member_rows(chapter_id, query, zone=zone, now=now)
    return MemberTable(
        view=view,
        members=members,
        members_pager=Page(
            [],
            page=view.page,
            per_page=MEMBERS_PER_PAGE,
            has_next=view.page * MEMBERS_PER_PAGE < total,
            total=max(total, 1),
        ),
        members_total=total,
    )
