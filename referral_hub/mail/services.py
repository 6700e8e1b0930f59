"""The outbox: enqueue in the caller's transaction; claim, send, retry and dead-letter."""

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, render_template, url_for
from sqlalchemy import or_, select, update

from ..clock import utcnow
from ..extensions import db
from .models import OutboxMessage, OutboxStatus
from .transports import PermanentFailure, TemporaryFailure, transport_for

log = logging.getLogger("referral_hub.mail")

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


def absolute_url(endpoint: str, **values) -> str:
    """A link for an email: BASE_URL plus the route's path (emails have no request to go by)."""
    return current_app.config["BASE_URL"] + url_for(endpoint, _external=False, **values)


def enqueue(template: str, *, to: str, **context) -> OutboxMessage:
    """Render `templates/mail/<template>/` and add the message to the caller's transaction."""
    context.setdefault("base_url", current_app.config["BASE_URL"])
    subject = render_template(f"mail/{template}/subject.txt", **context).strip()
    message = OutboxMessage(
        template=template,
        to_address=to,
        subject=" ".join(subject.split())[:250],
        body_text=render_template(f"mail/{template}/body.txt", **context),
        body_html=render_template(f"mail/{template}/body.html", **context),
        message_id=make_msgid(domain="referral-hub.local"),
    )
    db.session.add(message)
    db.session.flush()
    return message


def as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


def claim(limit: int, *, now=None) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to this worker and commit the lease."""
    now = now or utcnow()
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    claimed = []
    for message_id in ids:
        # The conditional update is what makes the claim exclusive on SQLite, where
        # FOR UPDATE SKIP LOCKED does not exist.
        result = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
            )
            .values(locked_until=now + LEASE)
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()
    if not claimed:
        return []
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        )
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: base·2^(n-1), capped at an hour, plus up to half again."""
    base = current_app.config.get("OUTBOX_RETRY_BASE_SECONDS", 30)
    delay = min(base * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=delay * (1 + random.random() / 2))  # noqa: S311 - jitter, not crypto


def _record(message: OutboxMessage, *, error: Exception | None, now) -> None:
    message.attempts += 1
    message.locked_until = None
    if error is None:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = ""
    elif isinstance(error, PermanentFailure) or message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.DEAD
        message.last_error = str(error)[:500]
        log.warning("mail %s dead-lettered after %s attempts: %s", message.id, message.attempts, error)
    else:
        message.next_attempt_at = now + retry_delay(message.attempts)
        message.last_error = str(error)[:500]
        log.info("mail %s will be retried: %s", message.id, error)


@dataclass
class DrainReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0


def drain(*, batch_size: int = 50, transport=None) -> DrainReport:
    """Send every message that is due now, then return what happened."""
    transport = transport or transport_for()
    report = DrainReport()
    try:
        while batch := claim(batch_size):
            for message in batch:
                error = None
                try:
                    transport.send(as_email(message))
                except (TemporaryFailure, PermanentFailure) as failure:
                    error = failure
                now = utcnow()
                _record(message, error=error, now=now)
                db.session.commit()
                if error is None:
                    report.sent += 1
                elif message.status is OutboxStatus.DEAD:
                    report.dead += 1
                else:
                    report.retrying += 1
    finally:
        transport.close()
    return report


def run_worker(*, poll_seconds: float = 1.0, should_stop=lambda: False) -> None:
    """Drain, then look again every `poll_seconds`, until `should_stop()` says so."""
    while not should_stop():
        try:
            report = drain()
            if report.sent or report.retrying or report.dead:
                log.info("outbox: %s sent, %s retrying, %s dead", report.sent, report.retrying, report.dead)
        except Exception:  # keep the worker alive through a database blip; log it loudly
            db.session.rollback()
            log.exception("outbox drain failed; trying again")
        finally:
            db.session.remove()
        time.sleep(poll_seconds)
