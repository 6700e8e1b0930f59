"""The ledger's transactions counted per chapter (local) day as they are posted, so the API's ledger list
reads a period's total from its days; recounted from the transactions to check them, refiled when the
chapter's zone changes."""

from collections import Counter
from collections.abc import Collection

from sqlalchemy import delete, func, insert, select

from ..database import add_to_kept
from ..extensions import db
from ..ledger.models import LedgerTransaction
from .aggregates import quarter_hour
from .counting import chapter_day, chapter_zones, day_of_quarter_hour
from .models import TransactionDay


def on_transaction_posted(transaction, *, legs) -> None:
    """Count the transaction on its chapter's day, after the day figures (counting.py) took that day's
    lock, so two postings lock the rows they share in the same order."""
    day = chapter_day(transaction.chapter_id, transaction.created_at)
    values = {"chapter_id": transaction.chapter_id, "day": day, "transactions": 1}
    add_to_kept(TransactionDay.__table__, ("chapter_id", "day"), values)


def on_chapter_zone_changed(chapter) -> None:
    rebuild_days(db.session.connection(), [chapter.id])


def connect(events) -> None:
    """Subscribe to the domain events (create_app), after reports.counting."""
    events.transaction_posted.connect(on_transaction_posted)
    events.chapter_zone_changed.connect(on_chapter_zone_changed)


def _recounted(connection, chapter_ids: Collection[int] | None = None) -> Counter:
    """{(chapter, local day): transactions}, from the transactions: grouped by UTC quarter hour in the
    database and filed under the chapter's local day here, as reports.counting does."""
    zones = chapter_zones(connection, chapter_ids)
    quarter = quarter_hour(LedgerTransaction.created_at)
    statement = select(LedgerTransaction.chapter_id, quarter, func.count()).group_by(
        LedgerTransaction.chapter_id, quarter
    )
    if chapter_ids is not None:
        statement = statement.where(LedgerTransaction.chapter_id.in_(chapter_ids))
    counts = Counter()
    for chapter, number, count in connection.execute(statement):
        counts[chapter, day_of_quarter_hour(number, zones[chapter])] += count
    return counts


def _insert(connection, counts: Counter) -> None:
    if counts:
        connection.execute(
            insert(TransactionDay.__table__),
            [
                {"chapter_id": chapter, "day": day, "transactions": count}
                for (chapter, day), count in counts.items()
            ],
        )


def differences(connection) -> list[str]:
    """Each kept count that differs from the transactions, as a line of text; empty when all match."""
    kept = TransactionDay.__table__.c
    have = Counter(
        {
            (chapter, day): count
            for chapter, day, count in connection.execute(
                select(kept.chapter_id, kept.day, kept.transactions)
            )
            if count
        }
    )
    want = _recounted(connection)
    return [
        f"report_transaction_days (chapter_id {chapter}, day {day}): transactions is {have[chapter, day]}, "
        f"the sources say {want[chapter, day]}"
        for chapter, day in sorted(set(have) | set(want), key=str)
        if have[chapter, day] != want[chapter, day]
    ]


def rebuild(connection) -> None:
    """Replace the kept counts with their recount (the migration's backfill, and data written without
    the services)."""
    connection.execute(delete(TransactionDay.__table__))
    _insert(connection, _recounted(connection))


def rebuild_days(connection, chapter_ids: Collection[int]) -> None:
    """Refile the chapters' counts under their local days, as their zones now say."""
    connection.execute(delete(TransactionDay.__table__).where(TransactionDay.chapter_id.in_(chapter_ids)))
    _insert(connection, _recounted(connection, chapter_ids))
