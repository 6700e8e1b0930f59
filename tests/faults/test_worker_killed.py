"""A worker killed with SIGKILL mid-batch: another takes its messages once the lease lapses, losing none."""

import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from referral_hub.extensions import db
from referral_hub.mail.models import OutboxStatus
from tests.conftest import free_port
from tests.factories import OutboxMessageFactory

from .conftest import Mailbox, smtp_server, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.live]

MESSAGES = 300
KILL_AT = 20  # the worker claims 50 at a time, so the kill lands in its first batch
LEASE_SECONDS = 15.0
DATA_SECONDS = 0.05  # the server's time to take a message: paces the workers


def when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def test_messages_of_a_killed_worker_go_out_after_its_lease_and_only_the_unrecorded_one_twice(
    live_db, processes
):
    with live_db.app.app_context():
        message_ids = {message.message_id for message in OutboxMessageFactory.create_batch(MESSAGES)}
        db.session.commit()

    def kill_worker_a(accepted: int) -> None:
        # Killed after the server took the message and before it hears 250: the worst moment, the
        # one message that A cannot record as sent although it was delivered.
        if accepted == KILL_AT:
            os.kill(worker_a.pid, signal.SIGKILL)

    smtp_port = free_port()
    with smtp_server(Mailbox(delay=DATA_SECONDS, on_accept=kill_worker_a), smtp_port) as mailbox:
        a_started = time.time()
        worker_a = processes.worker("worker-a", smtp_port, OUTBOX_LEASE_SECONDS=LEASE_SECONDS)
        assert worker_a.wait(timeout=60) == -signal.SIGKILL, processes.log("worker-a")
        from_a = mailbox.snapshot()
        outbox = live_db.outbox()

        sent_by_a = {row.message_id for row in outbox if row.status is OutboxStatus.SENT}
        held_by_a = {row.message_id: row.locked_until for row in outbox if row.locked_until is not None}
        assert len(from_a) == KILL_AT
        # What A had in flight at the kill: accepted by the server, never recorded by A.
        in_flight = {message_id for message_id, _ in from_a} - sent_by_a
        assert in_flight == {from_a[-1][0]}
        assert sent_by_a == {message_id for message_id, _ in from_a[:-1]}
        assert in_flight <= held_by_a.keys()
        leases = set(held_by_a.values())
        assert len(leases) == 1, leases  # one claim: A's batch
        lease_end = leases.pop()
        # The lease A took is the configured one: it claimed after it started and before its first send.
        tolerance = timedelta(milliseconds=50)
        lease = timedelta(seconds=LEASE_SECONDS)
        assert when(a_started) + lease - tolerance <= lease_end <= when(from_a[0][1]) + lease + tolerance, (
            f"worker A leased its batch until {lease_end:%H:%M:%S}, not for the configured {LEASE_SECONDS}s"
        )
        assert datetime.now(UTC) < lease_end - timedelta(seconds=3)  # B starts well inside A's lease

        worker_b = processes.worker("worker-b", smtp_port, OUTBOX_LEASE_SECONDS=LEASE_SECONDS)
        left = (lease_end - datetime.now(UTC)).total_seconds()
        wait_until(lambda: live_db.pending() == 0, timeout=left + 90, what="worker B emptied the outbox")
        assert processes.stop(worker_b) == 0
        from_b = mailbox.snapshot()[len(from_a) :]

    assert {row.status for row in live_db.outbox()} == {OutboxStatus.SENT}
    received = mailbox.received()
    assert set(received) == message_ids  # none lost
    duplicates = {message_id for message_id, times in received.items() if times > 1}
    assert duplicates == in_flight
    assert max(received.values()) == 2
    # B sent every message A held, and none of them before A's lease lapsed ...
    taken_over = [(message_id, at) for message_id, at in from_b if message_id in held_by_a]
    assert {message_id for message_id, _ in taken_over} == held_by_a.keys()
    assert min(when(at) for _, at in taken_over) >= lease_end
    # ... though it was sending the messages nobody held meanwhile: it skipped A's, it did not idle.
    sent_by_b_during_lease = [at for message_id, at in from_b if when(at) < lease_end]
    assert sent_by_b_during_lease
    assert "Traceback" not in processes.log("worker-b")
    print(
        f"\nA: {len(from_a)} accepted, {len(sent_by_a)} recorded sent, {len(held_by_a)} held at the kill; "
        f"B: {len(sent_by_b_during_lease)} sent during A's lease, A's first taken over "
        f"{(min(when(at) for _, at in taken_over) - lease_end).total_seconds():.2f}s after it lapsed; "
        f"{len(duplicates)} duplicate(s): {sorted(duplicates)}"
    )
