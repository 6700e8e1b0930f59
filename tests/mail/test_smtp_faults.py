"""Against a real SMTP server that answers 4xx, 5xx and drops connections, no message is lost."""

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from referral_hub.extensions import db
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from referral_hub.mail.services import drain

from .conftest import pending, write

MAX_ATTEMPTS = 4


def write_a_mixed_outbox() -> None:
    for i in range(12):
        write(to=f"member{i}@example.com")
    for address in ("nobody@example.com", "gone@example.com"):  # 550 at RCPT
        write(to=address)
    for address in ("flaky1@example.com", "flaky2@example.com"):  # connection dropped twice, then fine
        write(to=address)
    write(to="busy@example.com")  # 451 at RCPT every time


def script_faults(server) -> None:
    server.busy_data_replies = 5
    server.refused |= {"nobody@example.com", "gone@example.com"}
    server.drops.update({"flaky1@example.com": 2, "flaky2@example.com": 2})
    server.always_busy.add("busy@example.com")


def assert_each_message_sent_once_or_dead(server) -> dict[str, OutboxMessage]:
    db.session.expire_all()
    messages = list(db.session.scalars(select(OutboxMessage)))
    assert pending() == []
    received = Counter(server.received_ids())
    for message in messages:
        if message.status is OutboxStatus.SENT:
            assert received[message.message_id] == 1, message.to_address
        else:
            assert message.status is OutboxStatus.DEAD
            assert message.last_error
            assert received[message.message_id] == 0, message.to_address
    assert set(received) <= {m.message_id for m in messages}
    assert sum(received.values()) == sum(m.status is OutboxStatus.SENT for m in messages)
    return {message.to_address: message for message in messages}


def test_every_message_ends_sent_once_or_dead_lettered_through_smtp_faults(
    app, smtp_server, clock, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS)
    server = smtp_server.serve()
    script_faults(server)
    write_a_mixed_outbox()
    db.session.commit()

    drains = 0
    while pending() and drains < 20:
        drain(batch_size=5)
        drains += 1
        clock.advance(timedelta(hours=2))  # past the longest backoff

    by_address = assert_each_message_sent_once_or_dead(server)
    assert drains <= MAX_ATTEMPTS
    assert len(server.received) == 14
    for address in ("nobody@example.com", "gone@example.com"):
        assert by_address[address].status is OutboxStatus.DEAD
        assert by_address[address].attempts == 1
        assert by_address[address].last_error.startswith("550")
    assert by_address["busy@example.com"].status is OutboxStatus.DEAD
    assert by_address["busy@example.com"].attempts == MAX_ATTEMPTS
    assert by_address["busy@example.com"].last_error.startswith("451")
    for address in ("flaky1@example.com", "flaky2@example.com"):
        assert by_address[address].status is OutboxStatus.SENT
        assert by_address[address].attempts == 3
    assert sum(message.attempts == 2 for message in by_address.values()) >= 5  # the five 451s to DATA


def test_two_concurrent_workers_through_smtp_faults_send_each_message_once(
    app, smtp_server, committed, monkeypatch
):
    """Threads with their own sessions drain committed rows at once; the real clock, a 0.05 s backoff."""
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS)
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_BASE_SECONDS", 0.05)
    server = smtp_server.serve()
    script_faults(server)
    write_a_mixed_outbox()
    db.session.commit()
    errors = []

    def worker():
        try:
            with app.app_context():
                for _round in range(100):
                    drain(batch_size=3)
                    if not pending():
                        return
                    db.session.rollback()  # end the read: SQLite cannot turn an overtaken read into a write
                    threading.Event().wait(0.05)
        except Exception as error:  # reported to the test thread below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    assert_each_message_sent_once_or_dead(server)
    assert len(server.received) == 14
