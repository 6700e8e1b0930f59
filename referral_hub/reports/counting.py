"""The figures the reports keep as things happen: each chapter's day (its local day, in its zone) and
each member's all-time tally, changed by the domain events in the same transaction, recounted from the
source tables to check them, and refiled when the chapter's zone changes.

Every change is one upsert that adds to the stored values (`x = x + excluded.x`), so concurrent
transactions never lose each other's counts: PostgreSQL serialises the row, SQLite the database.
Each handler writes its chapter's day row before any member's row, so two transactions lock the rows
they share in the same order and cannot deadlock on them.
"""

import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import date, datetime
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import (
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy import event as sqlalchemy_event

from ..accounts.models import Member
from ..chapters.models import Chapter, Membership
from ..clock import local_day
from ..database import add_to_kept, column_parameters, upsert_built_once
from ..extensions import db
from ..introductions.models import Consent, Introduction, IntroState, Outcome, OutcomeKind
from ..ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from ..needs.models import Need, NeedStatus
from .aggregates import QUARTER_HOUR_SECONDS, quarter_hour
from .models import ChapterDay, MemberFigures

DAY_COUNTS = tuple(column.name for column in ChapterDay.__table__.columns if not column.primary_key)
MEMBER_COUNTS = tuple(
    column.name
    for column in MemberFigures.__table__.columns
    if not column.primary_key and not column.name.startswith("last_") and column.name != "display_name"
)
MEMBER_LATEST = ("last_completed_at", "last_active_at")
# A member's new figures row takes the member's display name (reports.members.keep_name keeps it).
MEMBER_NAME = (
    (
        "display_name",
        select(Member.display_name).where(Member.id == bindparam("member_id")).scalar_subquery(),
    ),
)


def chapter_day(chapter_id: int, at: datetime) -> date:
    """The chapter's local day of `at`, by its zone read under a shared lock on the chapter's row.

    A zone change locks that row before it refiles the days: it waits for this transaction (and then
    recounts its event), or this one waits for it and reads the new zone. Either way no event is filed
    under a zone that is being replaced. (SQLite runs one writing transaction at a time.)
    """
    return local_day(at, _locked_zone(chapter_id))


# The zones read under their lock, by the session transaction or savepoint that read them: while it
# lasts, the lock does too, so it and the savepoints inside it need not read the zone again. A
# savepoint that rolls back gives up its lock and its zones with it; one that is released hands none
# up (its parent reads again).
_ZONES_READ: WeakKeyDictionary = WeakKeyDictionary()


def _innermost_transaction():
    session = db.session()
    return session.get_nested_transaction() or session.get_transaction()


def _read_in(transaction) -> Iterator[dict]:
    """The zones read by `transaction` and by each transaction around it."""
    while transaction is not None:
        yield _ZONES_READ.get(transaction, {})
        transaction = transaction.parent


def _locked_zone(chapter_id: int) -> str:
    for zones in _read_in(_innermost_transaction()):
        if chapter_id in zones:
            return zones[chapter_id]
    zone = db.session.scalar(_zone_query(), {"chapter_id": chapter_id})
    _ZONES_READ.setdefault(_innermost_transaction(), {})[chapter_id] = zone
    return zone


@functools.cache
def _zone_query():
    return select(Chapter.timezone).where(Chapter.id == bindparam("chapter_id")).with_for_update(read=True)


def chapter_zones(connection, chapter_ids: Collection[int] | None = None) -> dict[int, ZoneInfo]:
    """Each chapter's zone (or only those of `chapter_ids`), for filing quarter hours by local day."""
    chapters = select(Chapter.id, Chapter.timezone)
    if chapter_ids is not None:
        chapters = chapters.where(Chapter.id.in_(chapter_ids))
    return {chapter_id: ZoneInfo(zone) for chapter_id, zone in connection.execute(chapters)}


def day_of_quarter_hour(number: int, zone: ZoneInfo) -> date:
    """The local day of a UTC quarter hour (aggregates.quarter_hour): all its instants share one."""
    return datetime.fromtimestamp(number * QUARTER_HOUR_SECONDS, zone).date()


def add_to_day(chapter_id: int, at: datetime, **counts: int) -> None:
    """Add to the chapter's counts of the local day of `at`; with no counts, only take the day row's
    lock (`x = x + 0`)."""
    values = {"chapter_id": chapter_id, "day": chapter_day(chapter_id, at), **(counts or {"needs_posted": 0})}
    add_to_kept(ChapterDay.__table__, ("chapter_id", "day"), values)


def add_to_member(chapter_id: int, member_id: int, *, active_at: datetime, **figures) -> None:
    """Add to a member's counts in a chapter; `active_at` and a `last_completed_at` move forward only."""
    values = {"chapter_id": chapter_id, "member_id": member_id, "last_active_at": active_at, **figures}
    add_to_kept(
        MemberFigures.__table__,
        ("chapter_id", "member_id"),
        values,
        latest=MEMBER_LATEST,
        looked_up=MEMBER_NAME,
    )


# What the domain events change -----------------------------------------------------------------------


def on_need_posted(need) -> None:
    add_to_day(need.chapter_id, need.created_at, needs_posted=1)
    add_to_member(need.chapter_id, need.asker_id, active_at=need.created_at, needs_posted=1)


def on_need_finished(need) -> None:
    fulfilled = int(need.status is NeedStatus.FULFILLED)
    add_to_day(need.chapter_id, need.closed_at, needs_finished=1, needs_fulfilled=fulfilled)


def on_needs_expired(now: datetime, *, chapters: dict[int, int]) -> None:
    for chapter_id, count in chapters.items():
        add_to_day(chapter_id, now, needs_finished=count, needs_expired=count)


def on_introduction_made(intro) -> None:
    chapter_id, at = intro.chapter_id, intro.created_at
    add_to_day(chapter_id, at, intros_made=1, guest_intros_made=int(intro.is_guest))
    add_to_member(chapter_id, intro.introducer_id, active_at=at, intros_made=1)
    for party_id in (intro.first_id, intro.second_id):
        if party_id is not None:  # a guest has no figures
            add_to_member(chapter_id, party_id, active_at=None, intros_received=1)


def on_introduction_answered(consent) -> None:
    chapter_id = consent.introduction.chapter_id
    add_to_day(chapter_id, consent.answered_at)
    if consent.member_id is not None:  # a guest has no figures
        add_to_member(chapter_id, consent.member_id, active_at=consent.answered_at)


def on_introduction_completed(intro) -> None:
    add_to_day(
        intro.chapter_id,
        intro.completed_at,
        intros_completed=1,
        guest_intros_completed=int(intro.is_guest),
    )
    add_to_member(
        intro.chapter_id,
        intro.introducer_id,
        active_at=None,
        intros_completed=1,
        last_completed_at=intro.completed_at,
    )


def on_introduction_closed(intro) -> None:
    declined = int(intro.state is IntroState.DECLINED)
    add_to_day(intro.chapter_id, intro.closed_at, intros_closed=1, intros_declined=declined)


def on_introductions_expired(now: datetime, *, chapters: dict[int, int]) -> None:
    for chapter_id, count in chapters.items():
        add_to_day(chapter_id, now, intros_closed=count, intros_expired=count)


def on_outcome_reported(outcome) -> None:
    """A new outcome is an activity; business closed (new, or a meeting that turned into it) counts
    on the day the outcome was first reported, as the source tables date it."""
    intro = outcome.introduction
    at = outcome.created_at
    business = outcome.kind is OutcomeKind.BUSINESS_CLOSED
    amount = outcome.amount if business else 0
    add_to_day(intro.chapter_id, at, business_closed=int(business), business_amount=amount)
    add_to_member(intro.chapter_id, outcome.reported_by_id, active_at=at, business_received_amount=amount)
    if business:
        add_to_member(intro.chapter_id, intro.introducer_id, active_at=None, business_given_amount=amount)


def on_transaction_posted(transaction, *, legs) -> None:
    """The credits issued and spent on the transaction's day, and each member's kept balance moved by
    their leg (in member order, after the day row: see the module's note on locks)."""
    member_legs = sorted((holder, amount) for holder, amount in legs if holder is not None)
    issued = sum(amount for _member, amount in member_legs if amount > 0)
    spent = -sum(amount for _member, amount in member_legs if amount < 0)
    if issued or spent:
        add_to_day(
            transaction.chapter_id,
            transaction.created_at,
            credits_issued=issued,
            credits_spent=spent,
        )
    for member_id, amount in member_legs:
        add_to_member(transaction.chapter_id, member_id, active_at=None, balance=amount)


def on_membership_created(_mapper, connection, membership) -> None:
    """A new membership's figures row, all zeros, unless the member has one in the chapter: every
    membership has one, so that the members table sorted by a figure reads it from the figures'
    indexes alone (reports.members)."""
    key = {"chapter_id": membership.chapter_id, "member_id": membership.member_id}
    row = key | dict.fromkeys(MEMBER_COUNTS, 0) | {"display_name": membership.display_name}
    connection.execute(_zero_figures_statement(), row)


@upsert_built_once
def _zero_figures_statement(insert):
    figures = MemberFigures.__table__
    names = ("chapter_id", "member_id", *MEMBER_COUNTS, "display_name")
    return insert(figures).values(column_parameters(figures, names)).on_conflict_do_nothing()


def connect(events) -> None:
    """Subscribe to the domain events and to each new membership (create_app)."""
    if not sqlalchemy_event.contains(Membership, "after_insert", on_membership_created):
        sqlalchemy_event.listen(Membership, "after_insert", on_membership_created)
    events.need_posted.connect(on_need_posted)
    events.need_finished.connect(on_need_finished)
    events.needs_expired.connect(on_needs_expired)
    events.introduction_made.connect(on_introduction_made)
    events.introduction_answered.connect(on_introduction_answered)
    events.introduction_completed.connect(on_introduction_completed)
    events.introduction_closed.connect(on_introduction_closed)
    events.introductions_expired.connect(on_introductions_expired)
    events.outcome_reported.connect(on_outcome_reported)
    events.transaction_posted.connect(on_transaction_posted)
    events.chapter_zone_changed.connect(on_chapter_zone_changed)


# Recounting from the source tables -------------------------------------------------------------------


def _tally(statement: Iterable, keys: int, names: tuple[str, ...], into: dict) -> None:
    """Add each row's values (after `keys` key columns) to `into[key][name]`."""
    for row in statement:
        key = tuple(row[:keys])
        for name, value in zip(names, row[keys:], strict=True):
            if value is None:
                continue
            figures = into[key]
            if name in MEMBER_LATEST:
                figures[name] = value if figures.get(name) is None else max(figures[name], value)
            else:
                figures[name] = figures.get(name, 0) + int(value)


def recounted_days(connection, chapter_ids: Collection[int] | None = None) -> dict[tuple[int, date], dict]:
    """Every chapter day's counts (or only those of `chapter_ids`), from the source tables.

    The database groups each chapter's events by UTC quarter hour (aggregates.quarter_hour) and Python
    files each quarter hour under the chapter's local day, with the same zone data the events are
    filed with: exact, portable, and as many rows as busy quarter hours rather than events.
    """
    days: dict = defaultdict(dict)
    zones = chapter_zones(connection, chapter_ids)

    def by_day(chapter, at, *columns, join=(), where=()):
        """The rows (chapter id, local day, *columns), one per chapter and quarter hour of `at`."""
        quarter = quarter_hour(at)
        statement = select(chapter, quarter, *columns)
        for target, on in join:
            statement = statement.join(target, on)
        if chapter_ids is not None:
            statement = statement.where(chapter.in_(chapter_ids))
        for chapter_id, number, *values in connection.execute(
            statement.where(at.is_not(None), *where).group_by(chapter, quarter)
        ):
            yield chapter_id, day_of_quarter_hour(number, zones[chapter_id]), *values

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    _tally(by_day(Need.chapter_id, Need.created_at, func.count()), 2, ("needs_posted",), days)
    _tally(
        by_day(
            Need.chapter_id,
            Need.closed_at,
            func.count(),
            count_if(Need.status == NeedStatus.FULFILLED),
            count_if(Need.status == NeedStatus.EXPIRED),
            where=[Need.status != NeedStatus.OPEN],
        ),
        2,
        ("needs_finished", "needs_fulfilled", "needs_expired"),
        days,
    )
    guest = Introduction.guest_key.is_not(None)
    _tally(
        by_day(Introduction.chapter_id, Introduction.created_at, func.count(), count_if(guest)),
        2,
        ("intros_made", "guest_intros_made"),
        days,
    )
    _tally(
        by_day(Introduction.chapter_id, Introduction.completed_at, func.count(), count_if(guest)),
        2,
        ("intros_completed", "guest_intros_completed"),
        days,
    )
    closing = (IntroState.DECLINED, IntroState.EXPIRED, IntroState.CANCELLED)
    _tally(
        by_day(
            Introduction.chapter_id,
            Introduction.closed_at,
            func.count(),
            count_if(Introduction.state == IntroState.DECLINED),
            count_if(Introduction.state == IntroState.EXPIRED),
            where=[Introduction.state.in_(closing)],
        ),
        2,
        ("intros_closed", "intros_declined", "intros_expired"),
        days,
    )
    _tally(
        by_day(
            Introduction.chapter_id,
            Outcome.created_at,
            func.count(),
            func.sum(Outcome.amount),
            join=[(Introduction, Introduction.id == Outcome.introduction_id)],
            where=[Outcome.kind == OutcomeKind.BUSINESS_CLOSED],
        ),
        2,
        ("business_closed", "business_amount"),
        days,
    )
    _tally(
        by_day(
            LedgerTransaction.chapter_id,
            LedgerTransaction.created_at,
            func.sum(case((LedgerEntry.amount > 0, LedgerEntry.amount), else_=0)),
            func.sum(case((LedgerEntry.amount < 0, -LedgerEntry.amount), else_=0)),
            join=[
                (LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id),
                (LedgerAccount, LedgerAccount.id == LedgerEntry.account_id),
            ],
            where=[
                LedgerAccount.member_id.is_not(None),
                LedgerAccount.chapter_id == LedgerTransaction.chapter_id,
            ],
        ),
        2,
        ("credits_issued", "credits_spent"),
        days,
    )
    return days


def recounted_members(connection) -> dict[tuple[int, int], dict]:
    """Every member's all-time figures in each chapter, from the source tables; the balance is the sum
    of the member's ledger entries in the chapter (`ledger verify` holds the account's cached balance
    to it)."""
    members: dict = defaultdict(dict)
    intro = Introduction
    _tally(
        connection.execute(
            select(
                intro.chapter_id,
                intro.introducer_id,
                func.count(),
                func.count(intro.completed_at),
                func.max(intro.completed_at),
                func.max(intro.created_at),
            ).group_by(intro.chapter_id, intro.introducer_id)
        ),
        2,
        ("intros_made", "intros_completed", "last_completed_at", "last_active_at"),
        members,
    )
    parties = union_all(
        select(intro.chapter_id, intro.first_id.label("member_id")),
        select(intro.chapter_id, intro.second_id.label("member_id")).where(intro.second_id.is_not(None)),
    ).subquery()
    _tally(
        connection.execute(
            select(parties.c.chapter_id, parties.c.member_id, func.count()).group_by(
                parties.c.chapter_id, parties.c.member_id
            )
        ),
        2,
        ("intros_received",),
        members,
    )
    _tally(
        connection.execute(
            select(Need.chapter_id, Need.asker_id, func.count(), func.max(Need.created_at)).group_by(
                Need.chapter_id, Need.asker_id
            )
        ),
        2,
        ("needs_posted", "last_active_at"),
        members,
    )
    _tally(
        connection.execute(
            select(intro.chapter_id, Consent.member_id, func.max(Consent.answered_at))
            .join(intro, intro.id == Consent.introduction_id)
            .where(Consent.answered_at.is_not(None), Consent.member_id.is_not(None))
            .group_by(intro.chapter_id, Consent.member_id)
        ),
        2,
        ("last_active_at",),
        members,
    )
    business = case((Outcome.kind == OutcomeKind.BUSINESS_CLOSED, Outcome.amount), else_=literal(0))
    _tally(
        connection.execute(
            select(intro.chapter_id, Outcome.reported_by_id, func.sum(business), func.max(Outcome.created_at))
            .join(intro, intro.id == Outcome.introduction_id)
            .group_by(intro.chapter_id, Outcome.reported_by_id)
        ),
        2,
        ("business_received_amount", "last_active_at"),
        members,
    )
    _tally(
        connection.execute(
            select(intro.chapter_id, intro.introducer_id, func.sum(Outcome.amount))
            .join(intro, intro.id == Outcome.introduction_id)
            .where(Outcome.kind == OutcomeKind.BUSINESS_CLOSED)
            .group_by(intro.chapter_id, intro.introducer_id)
        ),
        2,
        ("business_given_amount",),
        members,
    )
    _tally(
        connection.execute(
            select(LedgerAccount.chapter_id, LedgerAccount.member_id, func.sum(LedgerEntry.amount))
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .where(LedgerAccount.member_id.is_not(None))
            .group_by(LedgerAccount.chapter_id, LedgerAccount.member_id)
        ),
        2,
        ("balance",),
        members,
    )
    return members


def _kept(connection, model, keys: tuple[str, ...]) -> dict:
    table = model.__table__
    return {
        tuple(row[key] for key in keys): {name: value for name, value in row.items() if name not in keys}
        for row in connection.execute(select(table)).mappings()
    }


def _normalised(figures: dict, names: tuple[str, ...]) -> dict:
    """A row's values with zeros for counts it lacks and None for times, so rows compare."""
    return {
        name: figures.get(name) if name in MEMBER_LATEST else int(figures.get(name) or 0) for name in names
    }


def differences(connection) -> list[str]:
    """Each kept figure that differs from its recount, as a line of text; empty when all match."""
    found = []
    for model, keys, recounted, names in (
        (ChapterDay, ("chapter_id", "day"), recounted_days(connection), DAY_COUNTS),
        (
            MemberFigures,
            ("chapter_id", "member_id"),
            recounted_members(connection),
            MEMBER_COUNTS + MEMBER_LATEST,
        ),
    ):
        kept = _kept(connection, model, keys)
        for key in sorted(set(kept) | set(recounted), key=str):
            have = _normalised(kept.get(key, {}), names)
            want = _normalised(recounted.get(key, {}), names)
            for name in names:
                if have[name] != want[name]:
                    where = ", ".join(f"{k} {v}" for k, v in zip(keys, key, strict=True))
                    found.append(
                        f"{model.__tablename__} ({where}): {name} is {have[name]}, "
                        f"the sources say {want[name]}"
                    )
    return found


def _insert(connection, model, keys: tuple[str, str], names: tuple[str, ...], recounted: dict) -> None:
    if recounted:
        connection.execute(
            insert(model.__table__),
            [
                dict(zip(keys, key, strict=True)) | _normalised(values, names)
                for key, values in recounted.items()
            ],
        )


def rebuild(connection) -> None:
    """Replace every kept figure with its recount (the backfill of existing databases, and tests'
    data written without the services); a membership with nothing to count gets its row of zeros."""
    days, members = recounted_days(connection), recounted_members(connection)
    connection.execute(delete(ChapterDay.__table__))
    connection.execute(delete(MemberFigures.__table__))
    _insert(connection, ChapterDay, ("chapter_id", "day"), DAY_COUNTS, days)
    _insert(connection, MemberFigures, ("chapter_id", "member_id"), MEMBER_COUNTS + MEMBER_LATEST, members)
    figures = MemberFigures.__table__
    kept = exists().where(
        figures.c.chapter_id == Membership.chapter_id, figures.c.member_id == Membership.member_id
    )
    without = select(Membership.chapter_id, Membership.member_id, *(literal(0) for _ in MEMBER_COUNTS))
    connection.execute(
        insert(figures).from_select(["chapter_id", "member_id", *MEMBER_COUNTS], without.where(~kept))
    )
    named = select(Member.display_name).where(Member.id == figures.c.member_id).scalar_subquery()
    connection.execute(update(figures).values(display_name=named))


def rebuild_days(connection, chapter_ids: Collection[int]) -> None:
    """Refile the chapters' kept days by their local days, as their zones now say (members' figures
    have no days: they stay)."""
    connection.execute(delete(ChapterDay.__table__).where(ChapterDay.chapter_id.in_(chapter_ids)))
    _insert(
        connection, ChapterDay, ("chapter_id", "day"), DAY_COUNTS, recounted_days(connection, chapter_ids)
    )


def on_chapter_zone_changed(chapter) -> None:
    for zones in _read_in(_innermost_transaction()):
        zones.pop(chapter.id, None)  # the events that follow in this transaction read the new zone
    rebuild_days(db.session.connection(), [chapter.id])
