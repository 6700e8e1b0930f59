"""The organizer dashboard's figures: the report services' aggregates, gathered for one page."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ...clock import utcnow
from ...database import Page
from ...reports.members import MEMBER_SORTS, MemberQuery, member_views
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

    def next_order(self, column: str) -> str:
        """The order a click on a column's heading asks for: the other way if it is the current sort."""
        if column == self.sort:
            return "desc" if self.order == "asc" else "asc"
        return "asc" if column in ASCENDING_FIRST else "desc"


@dataclass(frozen=True)
class Dashboard:
    view: View
    period: Period
    summary: dict
    activity: list
    activity_chart: charts.Chart
    giving: list
    giving_chart: charts.Chart
    members: list
    members_pager: Page
    members_total: int
    dormant: list
    dormant_total: int

    @property
    def anyone_gave_or_asked(self) -> bool:
        return any(row.intros_completed or row.needs_posted for row in self.giving)


def build(chapter_id: int, args, *, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard in a fixed number of queries (five), whatever the chapter's size."""
    now = now or utcnow()
    view = View.from_args(args)
    period = Period.of(now.date() - timedelta(days=DASHBOARD_DAYS - 1), now=now)
    timeline = Timeline.covering(view.interval, None, now.date())
    activity, _ = activity_rows(chapter_id, timeline, page=1, per_page=timeline.count)
    members = member_views(
        chapter_id,
        MemberQuery(sort=view.sort, order=view.order, page=view.page, per_page=MEMBERS_PER_PAGE),
        most_active=CHART_MEMBERS,
        dormant=DORMANT_SHOWN,
        now=now,
    )
    return Dashboard(
        view=view,
        period=period,
        summary=summary(chapter_id, period),
        activity=activity,
        activity_chart=charts.activity_chart(activity, view.interval),
        giving=members.most_active,
        giving_chart=charts.giving_chart(members.most_active),
        members=members.page,
        members_pager=Page(
            [],
            page=view.page,
            per_page=MEMBERS_PER_PAGE,
            has_next=view.page * MEMBERS_PER_PAGE < members.total,
            total=max(members.total, 1),
        ),
        members_total=members.total,
        dormant=members.dormant,
        dormant_total=members.dormant_total,
    )
