"""A chapter's summary figures for a period: members, needs, introductions, business closed, credits."""

from datetime import datetime

from sqlalchemy import Float, case, cast, func, select

from ..chapters.models import Membership
from ..extensions import db
from ..introductions.models import Introduction, IntroState, Outcome, OutcomeKind
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..needs.models import Need, NeedStatus
from .activities import RECENT, activities, current_members
from .aggregates import count_where, hours_between, median, sum_or_zero, within
from .periods import EARLIEST, Period


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
            sum_or_zero(case((within(Membership.joined_at, starts_at, ends_at), 1), else_=0)).label("new"),
            sum_or_zero(case((latest.c.at >= starts_at, 1), else_=0)).label("active"),
            sum_or_zero(case((latest.c.at >= ends_at - RECENT, 0), else_=1)).label("dormant"),
        )
        .select_from(Membership)
        .outerjoin(latest, latest.c.member_id == Membership.member_id)
        .where(current_members(chapter_id))
    ).one()
    return row._asdict()


def _need_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    chapter = Need.chapter_id == chapter_id

    def finished(status: NeedStatus):
        return count_where(chapter, Need.status == status, within(Need.closed_at, starts_at, ends_at))

    # Open at the end of the period: posted by then, and not yet finished by then.
    finished_by_end = count_where(chapter, Need.status != NeedStatus.OPEN, Need.closed_at < ends_at)
    row = db.session.execute(
        select(
            count_where(chapter, within(Need.created_at, starts_at, ends_at)).label("posted"),
            (count_where(chapter, Need.created_at < ends_at) - finished_by_end).label("open"),
            finished(NeedStatus.FULFILLED).label("fulfilled"),
            finished(NeedStatus.EXPIRED).label("expired"),
        )
    ).one()
    return row._asdict()


def _introduction_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    chapter = Introduction.chapter_id == chapter_id
    completed_in = within(Introduction.completed_at, starts_at, ends_at)

    def closed(*states: IntroState, since: datetime = starts_at):
        return count_where(
            chapter, Introduction.state.in_(states), within(Introduction.closed_at, since, ends_at)
        )

    completed = count_where(chapter, completed_in)
    resolved = completed + closed(IntroState.DECLINED, IntroState.EXPIRED)
    # Pending at the end of the period: made by then and neither completed nor closed by then.
    pending = (
        count_where(chapter, Introduction.created_at < ends_at)
        - count_where(chapter, Introduction.completed_at < ends_at)
        - closed(IntroState.DECLINED, IntroState.EXPIRED, IntroState.CANCELLED, since=EARLIEST)
    )
    durations = (
        select(hours_between(Introduction.created_at, Introduction.completed_at).label("value"))
        .where(chapter, completed_in)
        .subquery()
    )
    row = db.session.execute(
        select(
            count_where(chapter, within(Introduction.created_at, starts_at, ends_at)).label("made"),
            completed.label("completed"),
            closed(IntroState.DECLINED).label("declined"),
            closed(IntroState.EXPIRED).label("expired"),
            pending.label("pending"),
            case((resolved > 0, cast(completed, Float) / resolved), else_=None).label("acceptance_rate"),
            median(durations).label("median_hours_to_complete"),
        )
    ).one()
    return row._asdict()


def _business_totals(chapter_id: int, starts_at: datetime, ends_at: datetime) -> dict:
    row = db.session.execute(
        select(func.count().label("count"), sum_or_zero(Outcome.amount).label("amount"))
        .join(Introduction, Introduction.id == Outcome.introduction_id)
        .where(
            Introduction.chapter_id == chapter_id,
            Outcome.kind == OutcomeKind.BUSINESS_CLOSED,
            within(Outcome.created_at, starts_at, ends_at),
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
            "issued": select(
                sum_or_zero(case((entries.c.amount > 0, entries.c.amount), else_=0))
            ).scalar_subquery(),
            "spent": select(
                sum_or_zero(case((entries.c.amount < 0, -entries.c.amount), else_=0))
            ).scalar_subquery(),
        }

    after = moved(LedgerTransaction.created_at >= ends_at)
    if starts_at <= EARLIEST:
        everything = moved()
        during = {key: everything[key] - after[key] for key in ("issued", "spent")}
    else:
        during = moved(within(LedgerTransaction.created_at, starts_at, ends_at))
    held_now = select(sum_or_zero(LedgerAccount.balance)).where(
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
