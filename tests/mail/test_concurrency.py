"""Two workers draining the same outbox at once never send one message twice."""

import threading
from collections import Counter

from sqlalchemy import select

from referral_hub.extensions import db
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from referral_hub.mail.services import drain

from .conftest import write


class MeetingTransport:
    """Holds its first send until the other worker also holds a claim, so both claims overlap."""

    def __init__(self, barrier: threading.Barrier, sent: list[str], lock: threading.Lock):
        self.barrier, self.sent, self.lock = barrier, sent, lock
        self.met = False

    def send(self, email) -> None:
        if not self.met:
            self.met = True
            self.barrier.wait(timeout=10)
        threading.Event().wait(0.002)
        with self.lock:
            self.sent.append(email["Message-ID"])

    def close(self) -> None:
        pass


def test_two_workers_claiming_at_the_same_time_send_each_message_once(app, committed):
    message_ids = [write(to=f"member{i}@example.com").message_id for i in range(40)]
    db.session.commit()
    barrier, sent, lock = threading.Barrier(2), [], threading.Lock()
    transports = [MeetingTransport(barrier, sent, lock) for _ in range(2)]
    reports, errors = [], []

    def worker(transport):
        try:
            with app.app_context():
                reports.append(drain(transport=transport, batch_size=4))
        except Exception as error:  # reported to the test thread below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(transport,)) for transport in transports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert not barrier.broken  # both workers held a claim at the same moment
    assert Counter(sent) == Counter(message_ids)
    assert sum(report.sent for report in reports) == 40
    db.session.expire_all()
    statuses = db.session.scalars(select(OutboxMessage.status))
    assert set(statuses) == {OutboxStatus.SENT}
