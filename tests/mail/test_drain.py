"""drain() and claim(): due messages go out once; failures retry with backoff or end dead-lettered."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_hub.extensions import db
from referral_hub.mail import services
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from referral_hub.mail.services import LEASE, MAX_ATTEMPTS, claim, drain, retry_delay
from referral_hub.mail.transports import PermanentFailure, TemporaryFailure

from .conftest import Recorder, pending, write


def fresh(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


def test_drain_sends_every_due_message_once_and_marks_it_sent(clock):
    messages = [write(to=f"member{i}@example.com") for i in range(3)]
    transport = Recorder()

    report = drain(transport=transport, batch_size=2)

    assert (report.sent, report.retrying, report.dead) == (3, 0, 0)
    assert sorted(email["Message-ID"] for email in transport.sent) == sorted(m.message_id for m in messages)
    for message in map(fresh, messages):
        assert message.status is OutboxStatus.SENT
        assert message.attempts == 1
        assert message.sent_at == clock.now
        assert message.locked_until is None
    assert transport.closed
    assert drain(transport=Recorder()).sent == 0


def test_message_not_yet_due_waits(clock):
    message = write()
    message.next_attempt_at = clock.now + timedelta(minutes=5)
    db.session.commit()

    assert drain(transport=Recorder()).sent == 0
    clock.advance(timedelta(minutes=5))
    assert drain(transport=Recorder()).sent == 1


def test_temporary_failure_is_retried_later_with_exponential_backoff(app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_BASE_SECONDS", 10)
    message = write(to="ada@example.com")
    transport = Recorder({"ada@example.com": TemporaryFailure("451 4.3.0 try later")})
    delays = []
    for _attempt in range(3):
        report = drain(transport=transport)
        assert report.retrying == 1
        message = fresh(message)
        delays.append((message.next_attempt_at - clock.now).total_seconds())
        assert drain(transport=transport).retrying == 0  # not due again yet
        clock.advance(message.next_attempt_at - clock.now)

    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 3
    assert message.last_error == "451 4.3.0 try later"
    for attempt, delay in enumerate(delays, start=1):
        assert 10 * 2 ** (attempt - 1) <= delay <= 1.5 * 10 * 2 ** (attempt - 1)


def test_retry_delay_doubles_with_jitter_and_is_capped_at_an_hour(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_BASE_SECONDS", 30)
    first = [retry_delay(1).total_seconds() for _ in range(200)]
    assert all(30 <= delay <= 45 for delay in first)
    assert len(set(first)) > 100  # jitter spreads workers that failed together
    assert all(240 <= retry_delay(4).total_seconds() <= 360 for _ in range(50))
    assert all(3600 <= retry_delay(30).total_seconds() <= 5400 for _ in range(50))


def test_permanent_failure_is_dead_lettered_at_once_with_its_error(clock):
    refused = write(to="nobody@example.com")
    delivered = write(to="ada@example.com")
    transport = Recorder({"nobody@example.com": PermanentFailure("550 5.1.1 no such user")})

    report = drain(transport=transport)

    assert (report.sent, report.retrying, report.dead) == (1, 0, 1)
    refused, delivered = fresh(refused), fresh(delivered)
    assert refused.status is OutboxStatus.DEAD
    assert refused.attempts == 1
    assert refused.last_error == "550 5.1.1 no such user"
    assert delivered.status is OutboxStatus.SENT
    clock.advance(timedelta(days=1))
    assert drain(transport=transport).dead == 0  # a dead letter is never tried again


def test_message_past_the_attempt_limit_is_dead_lettered(clock):
    message = write(to="ada@example.com")
    transport = Recorder({"ada@example.com": TemporaryFailure("451 mailbox busy")})

    outcomes = []
    for _attempt in range(MAX_ATTEMPTS + 2):
        report = drain(transport=transport)
        outcomes.append((report.retrying, report.dead))
        clock.advance(timedelta(hours=2))

    assert outcomes == [(1, 0)] * (MAX_ATTEMPTS - 1) + [(0, 1)] + [(0, 0)] * 2
    message = fresh(message)
    assert message.status is OutboxStatus.DEAD
    assert message.attempts == MAX_ATTEMPTS
    assert message.last_error == "451 mailbox busy"


def test_attempt_limit_comes_from_config(app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    message = write(to="ada@example.com")
    transport = Recorder({"ada@example.com": TemporaryFailure("451 later")})
    assert drain(transport=transport).retrying == 1
    clock.advance(timedelta(hours=2))
    assert drain(transport=transport).dead == 1
    assert fresh(message).attempts == 2


def test_unexpected_transport_error_counts_as_an_attempt_and_others_still_go(clock):
    broken = write(to="broken@example.com")
    write(to="ada@example.com")
    transport = Recorder({"broken@example.com": RuntimeError("bug in a transport")})

    report = drain(transport=transport)

    assert (report.sent, report.retrying) == (1, 1)
    broken = fresh(broken)
    assert broken.status is OutboxStatus.PENDING
    assert broken.attempts == 1
    assert broken.last_error == "RuntimeError: bug in a transport"
    assert broken.locked_until is None


def test_message_whose_headers_cannot_be_written_is_dead_lettered_without_blocking_others(clock):
    unwritable = write(to="ada@example.com\r\nBcc: everyone@example.com")
    write(to="grace@example.com")
    transport = Recorder()

    report = drain(transport=transport)

    assert (report.sent, report.dead) == (1, 1)
    assert [email["To"] for email in transport.sent] == ["grace@example.com"]
    unwritable = fresh(unwritable)
    assert unwritable.status is OutboxStatus.DEAD
    assert unwritable.last_error.startswith("cannot write the email:")


def test_claim_leases_due_messages_in_order_and_not_twice(clock):
    later = write(to="later@example.com")
    first = write(to="first@example.com")
    later.next_attempt_at = clock.now - timedelta(seconds=1)
    first.next_attempt_at = clock.now - timedelta(seconds=2)
    db.session.commit()

    claimed = claim(10, now=clock.now)
    db.session.commit()

    assert [m.to_address for m in claimed] == ["first@example.com", "later@example.com"]
    assert all(m.locked_until == clock.now + LEASE for m in claimed)
    assert claim(10, now=clock.now) == []


def test_claim_takes_at_most_the_limit(clock):
    for i in range(5):
        write(to=f"member{i}@example.com")
    assert len(claim(2, now=clock.now)) == 2
    assert len(claim(10, now=clock.now)) == 3


def test_message_of_a_worker_that_died_is_claimed_again_after_the_lease_not_before(clock):
    message = write()
    db.session.commit()
    claim(10, now=clock.now)  # a worker claims the message, then dies before sending it
    db.session.commit()
    transport = Recorder()

    clock.advance(LEASE - timedelta(seconds=1))
    assert drain(transport=transport).sent == 0
    assert claim(10, now=clock.now) == []

    clock.advance(timedelta(seconds=1))
    assert drain(transport=transport).sent == 1
    assert [email["Message-ID"] for email in transport.sent] == [message.message_id]
    assert fresh(message).status is OutboxStatus.SENT


def test_worker_stalled_past_its_lease_cannot_overwrite_the_claim_of_the_worker_that_took_over(clock):
    message = write(to="ada@example.com")
    db.session.commit()
    taken_over = []

    class StallingTransport(Recorder):
        def send(self, email):
            # This worker stalls longer than its lease; meanwhile another worker claims the message.
            clock.advance(LEASE + timedelta(seconds=1))
            taken_over.extend(claim(10, now=clock.now))
            db.session.commit()
            raise TemporaryFailure("451 try later")

    stalled = drain(transport=StallingTransport())

    assert (stalled.sent, stalled.retrying, stalled.dead) == (0, 0, 0)
    assert [m.id for m in taken_over] == [message.id]
    message = fresh(message)
    # Still the new worker's: had the stalled one released it, a third worker could send it too.
    assert message.locked_until == clock.now + LEASE
    assert message.attempts == 0
    assert message.last_error == ""
    assert claim(10, now=clock.now) == []


def test_outcome_recorded_by_the_worker_that_took_over_stands(clock):
    message = write(to="ada@example.com")
    db.session.commit()
    taker = Recorder()

    class StallingTransport(Recorder):
        def send(self, email):
            clock.advance(LEASE + timedelta(seconds=1))
            assert drain(transport=taker).sent == 1
            raise PermanentFailure("550 no such user")

    drain(transport=StallingTransport())

    message = fresh(message)
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 1
    assert [email["Message-ID"] for email in taker.sent] == [message.message_id]


def test_worker_never_sends_a_message_whose_lease_is_half_gone(clock):
    for i in range(3):
        write(to=f"member{i}@example.com")
    db.session.commit()
    lease_left = []

    class SlowTransport(Recorder):
        def send(self, email):
            lease = db.session.scalar(
                select(OutboxMessage.locked_until).where(OutboxMessage.message_id == email["Message-ID"])
            )
            lease_left.append(lease - clock.now)
            super().send(email)
            clock.advance(LEASE * 0.6)  # each send takes more than half a lease

    transport = SlowTransport()
    report = drain(transport=transport, batch_size=3)

    assert report.sent == 3
    assert len({email["Message-ID"] for email in transport.sent}) == 3
    assert all(left > LEASE / 2 for left in lease_left)


def test_stopping_mid_batch_gives_the_rest_back_at_once(clock):
    for i in range(4):
        write(to=f"member{i}@example.com")
    transport = Recorder()

    report = drain(transport=transport, batch_size=4, should_stop=lambda: len(transport.sent) >= 1)

    assert report.sent == 1
    assert transport.closed
    rest = pending()
    assert len(rest) == 3
    assert all(message.locked_until is None for message in rest)
    assert len(claim(10, now=clock.now)) == 3


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_drain_uses_the_configured_transport(app, clock, monkeypatch, tmp_path, kind):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", kind)
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    message = write()

    assert drain().sent == 1

    if kind == "memory":
        assert [email["Message-ID"] for email in app.extensions["mail_memory"]] == [message.message_id]
    else:
        assert len(list(tmp_path.glob("*.eml"))) == 1


def test_unknown_transport_name_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "pigeon")
    with pytest.raises(ValueError, match="file, smtp or memory"):
        services.transport_for()


def test_a_killed_workers_mail_waits_at_most_a_minute_by_default(app):
    assert services.lease() == timedelta(seconds=60)


def test_worker_renews_the_lease_of_a_batch_it_is_still_sending_instead_of_giving_it_back(
    clock, count_queries
):
    for i in range(4):
        write(to=f"member{i}@example.com")
    db.session.commit()
    taken_by_others = []

    class SlowTransport(Recorder):
        def send(self, email):
            super().send(email)
            clock.advance(LEASE * 0.4)  # the batch takes longer than its first lease
            taken_by_others.extend(claim(10, now=clock.now))  # another worker looks for due mail
            db.session.commit()

    transport = SlowTransport()
    with count_queries() as log:
        report = drain(transport=transport, batch_size=4)

    assert report.sent == 4
    assert taken_by_others == []
    # This worker claimed once for the whole batch (then found nothing more due): no message was
    # given back and claimed again. The other claims are the other worker's looks, one per send.
    claims = [
        q
        for q in log.queries
        if q.lstrip().startswith("UPDATE outbox_messages") and "next_attempt_at <=" in q
    ]
    assert len(claims) == 2 + len(transport.sent)
