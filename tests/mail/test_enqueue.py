"""enqueue(): a message row in the caller's transaction, rendered from templates/mail/<name>/."""

from datetime import timedelta
from email import message_from_bytes, policy

from sqlalchemy import func, select

from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from referral_hub.mail.services import absolute_url, as_email, drain
from referral_hub.mail.transports import TemporaryFailure

from .conftest import Recorder, write


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_enqueue_renders_subject_text_and_html_from_the_templates():
    message = write(to="ada@example.com", name="Ada <b>&</b>", link="http://localhost/news/7?a=1&b=2")

    assert message.template == "outbox_test"
    assert message.to_address == "ada@example.com"
    assert message.subject == "News for Ada <b>&</b>"
    assert "Hello Ada <b>&</b>," in message.body_text
    assert "http://localhost/news/7?a=1&b=2" in message.body_text
    assert "Hello Ada &lt;b&gt;&amp;&lt;/b&gt;," in message.body_html
    assert 'href="http://localhost/news/7?a=1&amp;b=2"' in message.body_html
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 0
    assert message.next_attempt_at <= utcnow()


def test_enqueued_message_disappears_when_the_callers_transaction_rolls_back():
    write()
    assert outbox_count() == 1
    db.session.rollback()
    assert outbox_count() == 0


def test_a_line_break_in_the_subject_cannot_add_a_header():
    message = write(name="Ada\r\nBcc: everyone@example.com")
    assert message.subject == "News for Ada Bcc: everyone@example.com"
    sent = message_from_bytes(bytes(as_email(message)), policy=policy.default)
    assert sent["Bcc"] is None
    assert sent["Subject"] == "News for Ada Bcc: everyone@example.com"


def test_message_id_is_fixed_at_enqueue_and_unique():
    first, second = write(), write()
    assert first.message_id.startswith("<") and first.message_id.endswith("@referral-hub.local>")
    assert first.message_id != second.message_id
    assert as_email(first)["Message-ID"] == first.message_id


def test_every_attempt_carries_the_message_id_chosen_at_enqueue(clock):
    message_id = write(to="ada@example.com").message_id
    db.session.commit()
    transport = Recorder({"ada@example.com": [TemporaryFailure("451 try later")]})

    drain(transport=transport)
    clock.advance(timedelta(hours=2))
    drain(transport=transport)

    assert [email["Message-ID"] for email in transport.tried] == [message_id, message_id]
    assert [email["Message-ID"] for email in transport.sent] == [message_id]


def test_email_has_the_text_and_html_bodies_and_the_sender(app):
    email = as_email(write(to="ada@example.com"))
    assert email["From"] == app.config["MAIL_FROM"]
    assert email["To"] == "ada@example.com"
    assert email["Subject"] == "News for Ada"
    assert "See what is new: http://localhost/news/1" in email.get_body(("plain",)).get_content()
    assert '<a href="http://localhost/news/1">' in email.get_body(("html",)).get_content()


def test_absolute_url_starts_with_base_url_outside_a_request(app, monkeypatch):
    """CLI commands (digests, expiry notices) write emails with no request to take a host from."""
    monkeypatch.setitem(app.config, "BASE_URL", "https://hub.example.org")
    assert absolute_url("mail.show", name="abc", page=2) == "https://hub.example.org/dev/mail/abc?page=2"


def test_absolute_url_ignores_the_host_a_request_came_in_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://hub.example.org")
    with app.test_request_context("/", base_url="http://attacker.example:8080"):
        assert absolute_url("http.healthz") == "https://hub.example.org/healthz"
