"""Dead letters: the messages the outbox gave up on, listed for an operator and put back in the queue."""

from datetime import datetime

from sqlalchemy import select, update

from ..clock import utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from .models import OutboxMessage, OutboxStatus


def dead_letters(*, limit: int = 100) -> list[OutboxMessage]:
    """The dead messages, the most recently queued first."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.DEAD)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def _requeue(*conditions, now: datetime):
    return db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD, *conditions)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, locked_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def retry(message_id: int, *, now: datetime | None = None) -> None:
    """Put one dead message back in the queue, due now with its attempts reset; it keeps its Message-ID."""
    if _requeue(OutboxMessage.id == message_id, now=now or utcnow()) == 1:
        return
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"No outbox message has the id {message_id}.")
    raise Conflict(
        f"Message {message_id} is {message.status.value}, not dead: only dead letters are retried."
    )


def retry_all(*, now: datetime | None = None) -> int:
    """Put every dead message back in the queue; returns how many."""
    return _requeue(now=now or utcnow())
