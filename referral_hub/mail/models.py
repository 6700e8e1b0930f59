"""OutboxMessage: an email written in the same transaction as the change that causes it, with the
images its HTML shows inline (OutboxAttachment)."""

import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(60))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(250))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Fixed at enqueue so that a resend after a lost acknowledgement is recognisably the same mail.
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "outbox_status"),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    next_attempt_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # A worker's claim; when it lapses (the worker died) another worker may take the message.
    locked_until = mapped_column(UTCDateTime, nullable=True)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # Extra headers for this message (JSON object of name to value), such as List-Unsubscribe.
    headers: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    inline_images: Mapped[list["OutboxAttachment"]] = relationship(
        order_by="OutboxAttachment.content_id", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )


class OutboxAttachment(db.Model):
    """An image the message's HTML shows as `cid:<content_id>`: sent as a related part, so that it
    needs no signed-in request (a member's photo URL answers only fellow members)."""

    __tablename__ = "outbox_attachments"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), primary_key=True
    )
    content_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (CheckConstraint("substr(content_type, 1, 6) = 'image/'", name="inline_image"),)
