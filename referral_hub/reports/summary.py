"""A chapter's summary figures for a period: members, needs, introductions, business closed, credits."""

import functools
from datetime import datetime

from sqlalchemy import BigInteger, Date, bindparam, case, cast, func, select

from ..chapters.models import Membership, current_members
from ..clock import utcnow
from ..database import UTCDateTime
from ..extensions import db
from .activities import ANSWER_WINDOW, RECENT, activities
from .aggregates import sum_or_zero, within
from .models import ChapterDay, CompletionDuration, CompletionHours, MemberFigures
from .periods import EARLIEST, Period

# The period as the statements built once take it (`_parameters`).
CHAPTER = bindparam("chapter_id")
FIRST_DAY, LAST_DAY = bindparam("first_day", type_=Date()), bindparam("last_day", type_=Date())
STARTS_AT, ENDS_AT = bindparam("starts_at", type_=UTCDateTime()), bindparam("ends_at", type_=UTCDateTime())
RECENT_SINCE = bindparam("recent_since", type_=UTCDateTime())
# For a period that ended before today: the earlier of its start and RECENT_SINCE, and the earliest an
# introduction answered since then can have been made (`_member_totals`).
ACTIVE_SINCE = bindparam("active_since", type_=UTCDateTime())
ANSWERABLE_SINCE = bindparam("answerable_since", type_=UTCDateTime())


def _parameters(chapter_id: int, period: Period) -> dict:
    """A period since the beginning starts on EARLIEST's day: no kept day is older."""
    return {
        "chapter_id": chapter_id,
        "first_day": period.start or EARLIEST.date(),
        "last_day": period.end,
        "starts_at": period.starts_at,
        "ends_at": period.ends_at,
        "recent_since": period.last_days(RECENT.days).starts_at,
    }


def summary(chapter_id: int, period: Period, *, now: datetime | None = None) -> dict:
    """The chapter's figures for a period: three queries, over its days and its current members."""
    parameters = _parameters(chapter_id, period)
    totals = db.session.execute(_day_totals(), parameters).one()._mapping
    days = {name: int(value) for name, value in totals.items()}
    completed, resolved = days["intros_completed"], days["intros_completed"] + days["intros_declined"]
    resolved += days["intros_expired"]
    return {
        "from": period.start,
        "to": period.end,
        "members": _member_totals(period, parameters, now or utcnow()),
        "needs": {
            "posted": days["needs_posted"],
            "open": days["needs_posted_by_end"] - days["needs_finished_by_end"],
            "fulfilled": days["needs_fulfilled"],
            "expired": days["needs_expired"],
        },
        "introductions": {
            "made": days["intros_made"],
            "completed": completed,
            "declined": days["intros_declined"],
            "expired": days["intros_expired"],
            "pending": days["intros_made_by_end"]
            - days["intros_completed_by_end"]
            - days["intros_closed_by_end"],
            "acceptance_rate": completed / resolved if resolved else None,
            "median_hours_to_complete": db.session.scalar(_median_hours_to_complete(), parameters),
            # Of those made and completed, the ones to guests (people outside the chapter).
            "guest_made": days["guest_intros_made"],
            "guest_completed": days["guest_intros_completed"],
        },
        "business_closed": {"count": days["business_closed"], "amount": days["business_amount"]},
        "credits": {
            "issued": days["credits_issued"],
            "spent": days["credits_spent"],
            "balance_sum": days["credits_issued_by_end"] - days["credits_spent_by_end"],
        },
    }


IN_PERIOD = (
    "needs_posted",
    "needs_fulfilled",
    "needs_expired",
    "intros_made",
    "intros_completed",
    "intros_declined",
    "intros_expired",
    "guest_intros_made",
    "guest_intros_completed",
    "business_closed",
    "business_amount",
    "credits_issued",
    "credits_spent",
)
BY_END = (
    "needs_posted",
    "needs_finished",
    "intros_made",
    "intros_completed",
    "intros_closed",
    "credits_issued",
    "credits_spent",
)


DAY_COLUMNS = ChapterDay.__table__.c


@functools.cache
def _day_totals():
    """The chapter's day counts summed over the period, and (`<name>_by_end`) over every day up to its
    end: one query over at most the chapter's days, however many events they hold. Built once."""
    in_period = ChapterDay.day >= FIRST_DAY
    return select(
        *(sum_or_zero(case((in_period, DAY_COLUMNS[name]), else_=0)).label(name) for name in IN_PERIOD),
        *(sum_or_zero(DAY_COLUMNS[name]).label(f"{name}_by_end") for name in BY_END),
    ).where(ChapterDay.chapter_id == CHAPTER, ChapterDay.day <= LAST_DAY)


def _member_totals(period: Period, parameters: dict, now: datetime) -> dict:
    """Current members, the new ones, the active and the dormant: one query over current members, of
    two statements built once.

    A period that ends after now (today's) reads each member's kept latest activity; a period that
    ended earlier needs the latest activity before its end, read from the source tables.
    """
    if period.ends_at > now:
        statement = _member_totals_query()
    else:
        # Both windows end where the period ends, so each member's latest activity before then
        # answers both questions: active in the period, and active in the 90 days up to its end.
        statement = _member_totals_before_query()
        active_since = min(period.starts_at, parameters["recent_since"])
        parameters = {
            **parameters,
            "active_since": active_since,
            "answerable_since": active_since - ANSWER_WINDOW,
        }
    row = db.session.execute(statement, parameters).one()
    return {name: int(value) for name, value in row._mapping.items()}


@functools.cache
def _member_totals_query():
    return _member_totals_over(
        select(MemberFigures.member_id, MemberFigures.last_active_at.label("at")).where(
            MemberFigures.chapter_id == CHAPTER
        )
    )


@functools.cache
def _member_totals_before_query():
    events = activities(CHAPTER, starts_at=ACTIVE_SINCE, ends_at=ENDS_AT, answerable_since=ANSWERABLE_SINCE)
    return _member_totals_over(
        select(events.c.member_id, func.max(events.c.at).label("at")).group_by(events.c.member_id)
    )


def _member_totals_over(latest_activity):
    """The member totals, given each member's latest activity as rows (member_id, at)."""
    latest = latest_activity.subquery()
    return (
        select(
            func.count().label("total"),
            sum_or_zero(case((within(Membership.joined_at, STARTS_AT, ENDS_AT), 1), else_=0)).label("new"),
            sum_or_zero(case((latest.c.at >= STARTS_AT, 1), else_=0)).label("active"),
            sum_or_zero(case((latest.c.at >= RECENT_SINCE, 0), else_=1)).label("dormant"),
        )
        .select_from(Membership)
        .outerjoin(latest, latest.c.member_id == Membership.member_id)
        .where(current_members(CHAPTER))
    )


@functools.cache
def _median_hours_to_complete():
    """Medians do not add up over days, but counts do: the period's completions per whole number of
    hours (summed over its days) say which one or two whole hours hold the middle, and only the kept
    durations of those hours completed in the period are read and ranked. One query, the same value
    as ranking every duration of the period. Built once."""
    counted = select(
        CompletionHours.whole_hours, func.sum(CompletionHours.completions).label("completions")
    ).where(
        CompletionHours.chapter_id == CHAPTER,
        CompletionHours.day <= LAST_DAY,
        CompletionHours.day >= FIRST_DAY,
    )
    counted = counted.group_by(CompletionHours.whole_hours).subquery()
    running = select(
        counted.c.whole_hours,
        counted.c.completions,
        cast(func.sum(counted.c.completions).over(order_by=counted.c.whole_hours), BigInteger).label("upto"),
        cast(func.sum(counted.c.completions).over(), BigInteger).label("size"),
    ).subquery()
    # The median is the mean of the values at these positions (1-based; the same one when odd).
    first, last = (running.c.size + 1) // 2, (running.c.size + 2) // 2
    before = running.c.upto - running.c.completions
    middle = (
        select(
            func.min(running.c.whole_hours).label("lowest"),
            func.max(running.c.whole_hours).label("highest"),
            func.min(before).label("before"),
            func.min(first).label("first"),
            func.min(last).label("last"),
        )
        .where(running.c.upto >= first, before < last)
        .cte("middle")
    )
    kept = CompletionDuration
    ranked = (
        select(
            kept.hours.label("value"),
            (func.row_number().over(order_by=kept.hours) + middle.c.before).label("position"),
            middle.c.first,
            middle.c.last,
        )
        .join(middle, kept.whole_hours.between(middle.c.lowest, middle.c.highest))
        .where(kept.chapter_id == CHAPTER, within(kept.completed_at, STARTS_AT, ENDS_AT))
        .subquery()
    )
    return select(func.avg(ranked.c.value)).where(ranked.c.position.between(ranked.c.first, ranked.c.last))
