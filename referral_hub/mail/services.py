"""The outbox: enqueue in the caller's transaction; claim, send, retry and dead-letter."""

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, render_template
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import selectinload

from ..clock import utcnow
from ..extensions import db
from ..i18n import speaking
from .models import OutboxAttachment, OutboxMessage, OutboxStatus
from .transports import PermanentFailure, TemporaryFailure, transport_for

log = logging.getLogger("referral_hub.mail")

# With the one-hour cap on backoff, 30 attempts keep retrying a temporary failure for about a day.
MAX_ATTEMPTS = 30
# A killed worker's mail waits this long; a live worker renews the lease of a batch it is still sending.
LEASE = timedelta(seconds=60)
# Sent mail is kept this long (to look into what went out, or a late bounce), then deleted: its bodies
# carry names and contact details, guests' among them. Dead letters stay longer, to be looked at and
# retried (`outbox dead`, `outbox retry`).
SENT_KEPT = timedelta(days=30)
DEAD_KEPT = timedelta(days=90)


def absolute_url(endpoint: str, **values) -> str:
    """A link for an email: BASE_URL plus the route's path.

    Emails are also written by CLI commands, where `url_for` has no request to build on.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


@dataclass(frozen=True)
class InlineImage:
    """An image for an email's HTML, which shows it as `cid:{content_id}`."""

    content_id: str  # unique within the message, without the angle brackets of its header
    content_type: str
    data: bytes

    @property
    def src(self) -> str:
        return f"cid:{self.content_id}"


def one_click_unsubscribe(url: str) -> dict[str, str]:
    """The headers (RFC 8058) that let a mail client unsubscribe with a POST to `url`, no cookie needed."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def enqueue(
    template: str,
    *,
    to: str,
    language: str | None = None,
    timezone: str | None = None,
    inline_images: Iterable[InlineImage] = (),
    headers: dict[str, str] | None = None,
    **context,
) -> OutboxMessage:
    """Render `templates/mail/<template>/` in the recipient's language and time zone, and add the
    message, with the images its HTML shows inline, to the caller's transaction (with `headers`:
    extra headers, such as List-Unsubscribe). The caller's flush inserts it, with whatever else the
    service adds: a service that sends several emails inserts them in one statement."""
    context.setdefault("base_url", current_app.config["BASE_URL"])
    with speaking(language, timezone):
        subject = render_template(f"mail/{template}/subject.txt", **context)
        message = OutboxMessage(
            template=template,
            to_address=to,
            # One line, whatever the template or its context holds: a line break would start a new header.
            subject=" ".join(subject.split())[:250],
            body_text=render_template(f"mail/{template}/body.txt", **context),
            body_html=render_template(f"mail/{template}/body.html", **context),
            message_id=make_msgid(domain="referral-hub.local"),
            inline_images=[
                OutboxAttachment(
                    content_id=image.content_id, content_type=image.content_type, data=image.data
                )
                for image in inline_images
            ],
            headers=headers or None,
        )
    db.session.add(message)
    return message


def prune(now: datetime) -> int:
    """Delete the mail sent more than SENT_KEPT ago and the dead letters written more than DEAD_KEPT ago
    (their images with them); return how many messages went."""
    result = db.session.execute(
        delete(OutboxMessage)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.SENT) & (OutboxMessage.sent_at < now - SENT_KEPT),
                (OutboxMessage.status == OutboxStatus.DEAD) & (OutboxMessage.created_at < now - DEAD_KEPT),
            )
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def drop_inline_images(content_id_prefix: str) -> None:
    """Take the images whose content id starts with the prefix out of every message not sent yet
    (a photo its member removed); their HTML then shows the image's alt text."""
    unsent = select(OutboxMessage.id).where(OutboxMessage.status != OutboxStatus.SENT)
    db.session.execute(
        delete(OutboxAttachment)
        .where(
            OutboxAttachment.message_id.in_(unsent),
            OutboxAttachment.content_id.startswith(content_id_prefix, autoescape=True),
        )
        .execution_options(synchronize_session=False)
    )


def as_email(message: OutboxMessage) -> EmailMessage:
    """The email as it goes out; raises ValueError when a header cannot be written."""
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    if message.inline_images:
        # multipart/alternative: the text, then multipart/related holding the HTML and its images.
        html = email.get_body(preferencelist=("html",))
        for image in message.inline_images:
            maintype, subtype = image.content_type.split("/", 1)
            html.add_related(
                image.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.content_id}>",
                disposition="inline",
            )
    return email


def lease() -> timedelta:
    """How long a claim holds a message: past it, another worker may take the message."""
    return timedelta(seconds=current_app.config.get("OUTBOX_LEASE_SECONDS", LEASE.total_seconds()))


def claim(limit: int, *, now: datetime | None = None) -> list[OutboxMessage]:
    """Lease up to `limit` due messages until now + lease(); the caller commits the lease."""
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
    # One statement decides the claim: on PostgreSQL the subquery skips rows that another worker is
    # claiming right now; on SQLite the UPDATE holds the only write lock while it runs.
    claimed = db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due))
        .values(locked_until=now + lease())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .options(selectinload(OutboxMessage.inline_images))
            .execution_options(populate_existing=True)
        )
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: base·2^(n-1), capped at an hour, plus up to half again."""
    base = current_app.config.get("OUTBOX_RETRY_BASE_SECONDS", 30)
    delay = min(base * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=delay * (1 + random.random() / 2))  # noqa: S311 - jitter, not crypto


@dataclass(frozen=True)
class Delivery:
    """A claimed message as the worker holds it after the claim commits: no database reads needed."""

    outbox_id: int
    lease: datetime
    attempts: int
    email: EmailMessage | None
    unsendable: PermanentFailure | None

    @classmethod
    def of(cls, message: OutboxMessage) -> "Delivery":
        try:
            email, unsendable = as_email(message), None
        except ValueError as error:  # retrying cannot fix a header that cannot be written
            email, unsendable = None, PermanentFailure(f"cannot write the email: {error}")
        return cls(message.id, message.locked_until, message.attempts, email, unsendable)

    def send(self, transport) -> Exception | None:
        """Hand the email to the transport; the failure, if any, decides what happens next."""
        if self.unsendable:
            return self.unsendable
        try:
            transport.send(self.email)
        except (TemporaryFailure, PermanentFailure) as failure:
            return failure
        except Exception as error:
            # An unforeseen error must not wedge the message: it counts as an attempt, so at worst
            # the message ends dead-lettered instead of coming back forever.
            log.exception("mail %s: unexpected error from the transport", self.outbox_id)
            return TemporaryFailure(f"{type(error).__name__}: {error}")
        return None


def _record(delivery: Delivery, *, error: Exception | None, now: datetime) -> OutboxStatus | None:
    """Write the outcome of one attempt, if this worker still holds the lease; returns the new status."""
    attempts = delivery.attempts + 1
    max_attempts = current_app.config.get("OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS)
    if error is None:
        outcome = {"status": OutboxStatus.SENT, "sent_at": now, "last_error": ""}
    elif isinstance(error, PermanentFailure) or attempts >= max_attempts:
        outcome = {"status": OutboxStatus.DEAD, "last_error": str(error)[:500]}
    else:
        outcome = {"next_attempt_at": now + retry_delay(attempts), "last_error": str(error)[:500]}
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == delivery.outbox_id,
            # The lease is this worker's claim ticket: every outcome clears it and another worker's
            # claim writes a later one, so a worker that overstayed its lease changes nothing.
            OutboxMessage.locked_until == delivery.lease,
        )
        .values(attempts=attempts, locked_until=None, **outcome)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        log.warning("mail %s: the lease lapsed before the attempt was recorded", delivery.outbox_id)
        return None
    status = outcome.get("status", OutboxStatus.PENDING)
    if status is OutboxStatus.SENT:
        # The images were needed only to send: a member's photo is not kept in every email they were in.
        db.session.execute(delete(OutboxAttachment).where(OutboxAttachment.message_id == delivery.outbox_id))
    if status is OutboxStatus.DEAD:
        log.warning("mail %s dead-lettered after %s attempts: %s", delivery.outbox_id, attempts, error)
    elif error is not None:
        log.info("mail %s will be retried: %s", delivery.outbox_id, error)
    return status


def _renew(deliveries: list[Delivery], *, now: datetime) -> list[Delivery]:
    """Hold the rest of a batch for another lease; returns the deliveries this worker still holds
    (claimed together, they share one lease, and one lapsed while the worker stalled is gone)."""
    until = now + lease()
    held = db.session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([delivery.outbox_id for delivery in deliveries]),
            OutboxMessage.locked_until == deliveries[0].lease,
        )
        .values(locked_until=until)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    return [replace(delivery, lease=until) for delivery in deliveries if delivery.outbox_id in held]


def _release(deliveries: list[Delivery]) -> None:
    """Give back claimed messages this worker will not send, so they need not wait for the lease."""
    for delivery in deliveries:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == delivery.outbox_id, OutboxMessage.locked_until == delivery.lease)
            .values(locked_until=None)
            .execution_options(synchronize_session=False)
        )


@dataclass
class DrainReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def count(self, status: OutboxStatus | None) -> None:
        if status is OutboxStatus.SENT:
            self.sent += 1
        elif status is OutboxStatus.DEAD:
            self.dead += 1
        elif status is OutboxStatus.PENDING:
            self.retrying += 1


def drain(*, batch_size: int = 50, transport=None, should_stop=lambda: False) -> DrainReport:
    """Send every message that is due, committing each outcome, until none is due or `should_stop()`."""
    transport = transport or transport_for()
    report = DrainReport()
    held = lease()
    try:
        while not should_stop():
            deliveries = [Delivery.of(message) for message in claim(batch_size)]
            # Commit the lease before sending. This also ends the read: SQLite refuses to turn a read
            # that another writer has overtaken into a write.
            db.session.commit()
            if not deliveries:
                break
            while deliveries:
                if should_stop():
                    _release(deliveries)
                    db.session.commit()
                    break
                # Send only well inside the lease (past it, another worker may take the message too):
                # renew it for the rest of the batch once half of it is gone.
                if utcnow() >= deliveries[0].lease - held / 2:
                    deliveries = _renew(deliveries, now=utcnow())
                    db.session.commit()
                    continue
                delivery, deliveries = deliveries[0], deliveries[1:]
                error = delivery.send(transport)
                report.count(_record(delivery, error=error, now=utcnow()))
                db.session.commit()
    finally:
        transport.close()
    return report


def send_due(*, should_stop=lambda: False) -> None:
    """One look at the outbox for a worker: drain it, logging what happened; a failure (a database
    blip) is logged and left for the next look instead of ending the worker."""
    try:
        report = drain(should_stop=should_stop)
        if report.sent or report.retrying or report.dead:
            log.info("outbox: %s sent, %s retrying, %s dead", report.sent, report.retrying, report.dead)
    except Exception:
        db.session.rollback()
        log.exception("outbox drain failed; trying again")
    finally:
        db.session.remove()


def run_worker(*, poll_seconds: float = 1.0, should_stop=lambda: False) -> None:
    """Drain, then look again every `poll_seconds`, until `should_stop()` says so."""
    while not should_stop():
        send_due(should_stop=should_stop)
        time.sleep(poll_seconds)
