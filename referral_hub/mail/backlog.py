"""The outbox as an operator watches it: messages in each status, and how late the due ones are."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from .models import OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class Backlog:
    """What an operator watches in the outbox: messages in each status, and how long the most
    overdue pending message has been due (0 when none is: the workers keep up)."""

    by_status: dict[OutboxStatus, int]
    oldest_due_seconds: float


def at(*, now: datetime) -> Backlog:
    """One aggregate query over the due index (status, next_attempt_at)."""
    rows = db.session.execute(
        select(
            OutboxMessage.status,
            func.count(),
            func.min(OutboxMessage.next_attempt_at).filter(OutboxMessage.next_attempt_at <= now),
        ).group_by(OutboxMessage.status)
    ).all()
    by_status = dict.fromkeys(OutboxStatus, 0) | {status: count for status, count, _due in rows}
    oldest_due = next((due for status, _count, due in rows if status == OutboxStatus.PENDING), None)
    waited = (now - oldest_due).total_seconds() if oldest_due else 0.0
    return Backlog(by_status, max(waited, 0.0))
