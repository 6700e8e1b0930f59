"""Periods of the chapter's local days, the weeks or months that cover them, and its activity per period."""

import functools
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, Integer, and_, bindparam, cast, literal, select, union_all

from ..clock import local_day, start_of_local_day, utcnow
from ..extensions import db
from .aggregates import sum_or_zero
from .models import ChapterDay

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
WEEK, MONTH = "week", "month"


@dataclass(frozen=True)
class Period:
    """Whole days of the chapter's zone (an IANA name) from `start` to `end`, both included; no `start`
    means since the beginning. A day runs from one local midnight to the next: 23 or 25 hours on the
    days daylight saving time starts or ends."""

    start: date | None
    end: date
    zone: str

    @property
    def starts_at(self) -> datetime:
        return start_of_local_day(self.start, self.zone) if self.start else EARLIEST

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period."""
        return start_of_local_day(self.end + timedelta(days=1), self.zone)

    def last_days(self, count: int) -> "Period":
        """The `count` days that end where this period ends."""
        return Period(self.end - timedelta(days=count - 1), self.end, self.zone)

    @classmethod
    def of(
        cls,
        start: date | None = None,
        end: date | None = None,
        *,
        zone: str,
        now: datetime | None = None,
    ) -> "Period":
        """From `start` to `end`, by default today in `zone`."""
        return cls(start, end or local_day(now or utcnow(), zone), zone)


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


# Activity per period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRow:
    period_start: date
    period_end: date
    needs_posted: int
    introductions_made: int
    introductions_completed: int
    business_closed: int
    business_amount: int


def activity_rows(chapter_id: int, timeline: Timeline, *, page: int, per_page: int):
    """A row per period on the page: one query over the chapter's kept days (reports.counting)."""
    window = timeline.window(page, per_page)
    if not window:
        return [], timeline.count
    parameters = {"chapter_id": chapter_id}
    for number, (first, last) in enumerate(window):
        parameters[f"first_day_{number}"], parameters[f"last_day_{number}"] = first, last
    figures = db.session.execute(_activity_query(len(window)), parameters).all()
    rows = [
        ActivityRow(first, last, *(int(count) for count in counts))
        for (first, last), (_number, *counts) in zip(window, figures, strict=True)
    ]
    return rows, timeline.count


@functools.cache
def _activity_query(count: int):
    """Built once for each number of periods on a page (a page holds at most a hundred), the chapter and
    each period's first and last day (`first_day_<n>`, `last_day_<n>`) as parameters."""
    periods = union_all(
        *(
            select(
                cast(literal(number), Integer).label("number"),
                bindparam(f"first_day_{number}", type_=Date()).label("first_day"),
                bindparam(f"last_day_{number}", type_=Date()).label("last_day"),
            )
            for number in range(count)
        )
    ).subquery("periods")
    in_period = and_(
        ChapterDay.chapter_id == bindparam("chapter_id"),
        ChapterDay.day >= periods.c.first_day,
        ChapterDay.day <= periods.c.last_day,
    )
    return (
        select(
            periods.c.number,
            sum_or_zero(ChapterDay.needs_posted).label("needs_posted"),
            sum_or_zero(ChapterDay.intros_made).label("introductions_made"),
            sum_or_zero(ChapterDay.intros_completed).label("introductions_completed"),
            sum_or_zero(ChapterDay.business_closed).label("business_closed"),
            sum_or_zero(ChapterDay.business_amount).label("business_amount"),
        )
        .select_from(periods)
        .outerjoin(ChapterDay, in_period)
        .group_by(periods.c.number)
        .order_by(periods.c.number)
    )
