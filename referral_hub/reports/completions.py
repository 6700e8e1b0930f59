"""How long introductions took to complete, kept as they complete: each one's duration, and per chapter
(local) day the count at each whole number of hours, so a period's median reads the durations near its
middle only. Recounted from the introductions to check them; refiled when the chapter's zone changes.
"""

from collections import Counter
from collections.abc import Collection

from sqlalchemy import Integer, delete, func, insert, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..database import add_to_kept
from ..extensions import db
from ..introductions.models import Introduction
from .aggregates import hours_between, quarter_hour
from .counting import chapter_day, chapter_zones, day_of_quarter_hour
from .models import CompletionDuration, CompletionHours

LISTED = 20  # differences shown by `differences`, per kind


class whole_hours(FunctionElement):  # noqa: N801 - reads as the SQL function it stands for
    """A number of hours without its fraction (towards zero, as SQLite's CAST does), computed by the
    database."""

    type = Integer()
    name = "whole_hours"
    inherit_cache = True


@compiles(whole_hours)
def _whole_hours(element, compiler, **kw):
    return f"CAST(trunc({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(whole_hours, "sqlite")
def _whole_hours_sqlite(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


def _durations():
    """Every completed introduction's chapter, completion, hours and whole hours, from the source."""
    hours = hours_between(Introduction.created_at, Introduction.completed_at)
    return select(
        Introduction.id.label("introduction_id"),
        Introduction.chapter_id,
        Introduction.completed_at,
        hours.label("hours"),
        whole_hours(hours).label("whole_hours"),
    ).where(Introduction.completed_at.is_not(None))


COLUMNS = ("introduction_id", "chapter_id", "completed_at", "hours", "whole_hours")


def on_introduction_completed(intro) -> None:
    """Keep the duration the database computes from the (flushed) introduction, and count it on its
    chapter's day after the day figures (counting.py) took that day's lock."""
    table = CompletionDuration.__table__
    hours = db.session.execute(
        insert(table)
        .from_select(COLUMNS, _durations().where(Introduction.id == intro.id))
        .returning(table.c.whole_hours)
    ).scalar_one()
    values = {
        "chapter_id": intro.chapter_id,
        "day": chapter_day(intro.chapter_id, intro.completed_at),
        "whole_hours": hours,
        "completions": 1,
    }
    add_to_kept(CompletionHours.__table__, ("chapter_id", "day", "whole_hours"), values)


def on_chapter_zone_changed(chapter) -> None:
    rebuild_hours(db.session.connection(), [chapter.id])


def connect(events) -> None:
    """Subscribe to the domain events (create_app), after reports.counting."""
    events.introduction_completed.connect(on_introduction_completed)
    events.chapter_zone_changed.connect(on_chapter_zone_changed)


def _recounted_hours(connection, chapter_ids: Collection[int] | None = None) -> Counter:
    """{(chapter, local day, whole hours): completions}, from the introductions: grouped by UTC quarter
    hour in the database and filed under the chapter's local day here, as reports.counting does."""
    zones = chapter_zones(connection, chapter_ids)
    durations = _durations()
    if chapter_ids is not None:
        durations = durations.where(Introduction.chapter_id.in_(chapter_ids))
    durations = durations.subquery()
    quarter = quarter_hour(durations.c.completed_at)
    rows = connection.execute(
        select(durations.c.chapter_id, quarter, durations.c.whole_hours, func.count()).group_by(
            durations.c.chapter_id, quarter, durations.c.whole_hours
        )
    )
    counts = Counter()
    for chapter, number, hours, count in rows:
        counts[chapter, day_of_quarter_hour(number, zones[chapter]), hours] += count
    return counts


def _insert_hours(connection, counts: Counter) -> None:
    if counts:
        connection.execute(
            insert(CompletionHours.__table__),
            [
                {"chapter_id": chapter, "day": day, "whole_hours": hours, "completions": count}
                for (chapter, day, hours), count in counts.items()
            ],
        )


def differences(connection) -> list[str]:
    """Each kept count, and the first LISTED kept durations, that differ from the introductions, as a
    line of text; empty when all match."""
    found = []
    kept = CompletionDuration.__table__.c
    source = _durations().subquery()
    wrong = connection.execute(
        select(*(source.c[name] for name in COLUMNS))
        .outerjoin(CompletionDuration, kept.introduction_id == source.c.introduction_id)
        .where(kept.introduction_id.is_(None) | or_(*(kept[name] != source.c[name] for name in COLUMNS[1:])))
        .limit(LISTED)
    )
    found += [
        f"report_completion_durations (introduction {row[0]}): kept otherwise or not at all; "
        f"the sources say {dict(row._mapping)}"
        for row in wrong
    ]
    extra = connection.execute(
        select(kept.introduction_id)
        .outerjoin(source, source.c.introduction_id == kept.introduction_id)
        .where(source.c.introduction_id.is_(None))
        .limit(LISTED)
    )
    found += [
        f"report_completion_durations (introduction {number}): kept, but it has not completed"
        for (number,) in extra
    ]
    counted = CompletionHours.__table__.c
    have = Counter(
        {
            (chapter, on, hours): count
            for chapter, on, hours, count in connection.execute(
                select(counted.chapter_id, counted.day, counted.whole_hours, counted.completions)
            )
            if count
        }
    )
    want = _recounted_hours(connection)
    for key in sorted(set(have) | set(want), key=str):
        if have[key] != want[key]:
            chapter, day, hours = key
            found.append(
                f"report_completion_hours (chapter_id {chapter}, day {day}, whole_hours {hours}): "
                f"completions is {have[key]}, the sources say {want[key]}"
            )
    return found


def rebuild(connection) -> None:
    """Replace the kept durations and counts with their recount (the migration's backfill, and data
    written without the services)."""
    connection.execute(delete(CompletionHours.__table__))
    connection.execute(delete(CompletionDuration.__table__))
    connection.execute(insert(CompletionDuration.__table__).from_select(COLUMNS, _durations()))
    _insert_hours(connection, _recounted_hours(connection))


def rebuild_hours(connection, chapter_ids: Collection[int]) -> None:
    """Refile the chapters' counts by whole hour under their local days, as their zones now say (the
    durations themselves have no day: they stay)."""
    connection.execute(delete(CompletionHours.__table__).where(CompletionHours.chapter_id.in_(chapter_ids)))
    _insert_hours(connection, _recounted_hours(connection, chapter_ids))
