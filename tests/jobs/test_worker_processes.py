"""`flask worker` as real processes on a committed database, with a real SMTP server: the first cycle
expires, refunds and sends the digest; two workers side by side do it once; a failing job is retried
while the mail goes on."""

import sys
import time
from collections import Counter

import pytest
import time_machine
from sqlalchemy import func, select

from referral_hub.extensions import db
from referral_hub.introductions.models import Introduction, IntroState
from referral_hub.jobs.models import JobRun, RunOutcome
from referral_hub.jobs.schedule import JOBS
from referral_hub.ledger import verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from tests.conftest import free_port
from tests.factories import OutboxMessageFactory
from tests.faults.conftest import Mailbox, smtp_server, wait_until

from .conftest import NOW, chapter_at_work

pytestmark = pytest.mark.live

WORKER = [sys.executable, "-m", "tests.jobs.flask_at", NOW.isoformat()]


def seed(database):
    with time_machine.travel(NOW, tick=True), database.app.app_context():
        work = chapter_at_work(NOW)
        db.session.commit()
        return work


def runs(database) -> dict[str, JobRun]:
    with database.app.app_context():
        rows = {row.job: row for row in db.session.scalars(select(JobRun))}
        db.session.expunge_all()
        return rows


def done(database, *jobs: str) -> bool:
    finished = runs(database)
    return all(job in finished and finished[job].outcome is RunOutcome.SUCCEEDED for job in jobs)


def digests(database) -> list[OutboxMessage]:
    return [row for row in database.outbox() if row.template == "digest"]


def assert_the_chapter_was_worked_once(database, work, mailbox):
    with database.app.app_context():
        assert db.session.get(Introduction, work.introduction_id).state is IntroState.EXPIRED
        refunds = db.session.scalar(
            select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.kind == Kind.REFUND)
        )
        assert refunds == 1
        assert verify.verify().ok
    [digest] = digests(database)
    assert digest.to_address == work.reader_email and digest.status is OutboxStatus.SENT
    assert all(row.status is OutboxStatus.SENT for row in database.outbox())
    received = mailbox.received()
    assert received[digest.message_id] == 1 and set(received.values()) == {1}, "each message sent once"
    finished = runs(database)
    assert {job: (row.period, row.attempts) for job, row in finished.items()} == {
        "expire": ("2026-12-02T10", 1),
        "digest": ("2026-12-02T10:30", 1),
        "outcome_prompts": ("2026-12-02", 1),
        "reminders": ("2026-12-02T10", 1),
        "guest_retention": ("2026-12-02", 1),
        "housekeeping": ("2026-12-02", 1),
    }


def test_a_worker_started_on_a_chapter_at_work_expires_refunds_and_sends_the_digest_in_its_first_cycle(
    live_db, processes
):
    work = seed(live_db)
    port = free_port()
    with smtp_server(Mailbox(), port) as mailbox:
        worker = processes.start("worker", [*WORKER, "worker", "--poll", "0.2"], port)
        wait_until(lambda: done(live_db, "expire", "digest"), timeout=60, what="the first cycle ran the jobs")
        wait_until(lambda: live_db.pending() == 0, timeout=30, what="the mail went out")
        status = processes.start("status", [*WORKER, "jobs", "status"], port)
        assert status.wait(timeout=60) == 0, processes.log("status")
        assert processes.stop(worker) == 0, processes.log("worker")
    log = processes.log("worker")
    assert "worker: stopped" in log and "Traceback" not in log
    assert "expire          ok" in processes.log("status") and "digest          ok" in processes.log("status")
    assert_the_chapter_was_worked_once(live_db, work, mailbox)
    print("\n" + processes.log("status"))


@pytest.mark.slow
def test_two_workers_side_by_side_do_the_work_once(live_db, processes):
    work = seed(live_db)
    port = free_port()
    with smtp_server(Mailbox(delay=0.05), port) as mailbox:
        workers = [processes.start(name, [*WORKER, "worker", "--poll", "0.1"], port) for name in ("a", "b")]
        wait_until(lambda: done(live_db, "expire", "digest"), timeout=60, what="the jobs ran")
        wait_until(lambda: live_db.pending() == 0, timeout=30, what="the mail went out")
        time.sleep(1)  # both workers go on cycling: nothing runs twice
        for name, worker in zip(("a", "b"), workers, strict=True):
            assert processes.stop(worker) == 0, processes.log(name)
    assert_the_chapter_was_worked_once(live_db, work, mailbox)
    holders = Counter(row.holder for row in runs(live_db).values())
    assert sum(holders.values()) == len(JOBS)  # one run of each job, whoever ran it


@pytest.mark.slow
def test_a_failing_job_is_retried_each_cycle_shows_in_status_and_the_mail_goes_on(live_db, processes):
    seed(live_db)
    port = free_port()
    with smtp_server(Mailbox(), port) as mailbox:
        command = [*WORKER, "--flaky", "worker", "--poll", "0.2"]
        worker = processes.start("worker", command, port, JOBS_RETRY_SECONDS=0)

        def retried() -> bool:
            flaky = runs(live_db).get("flaky")
            return flaky is not None and flaky.attempts >= 3

        wait_until(retried, timeout=60, what="the failing job was tried three times")
        with time_machine.travel(NOW, tick=True), live_db.app.app_context():
            meanwhile = OutboxMessageFactory().message_id
            db.session.commit()
        wait_until(lambda: meanwhile in mailbox.received(), timeout=30, what="mail queued meanwhile went out")
        status = processes.start("status", [*WORKER, "--flaky", "jobs", "status"], port)
        assert status.wait(timeout=60) == 1, processes.log("status")
        assert processes.stop(worker) == 0, processes.log("worker")
    flaky = runs(live_db)["flaky"]
    assert flaky.outcome is RunOutcome.FAILED and "the flaky job broke" in flaky.error
    assert done(live_db, "expire", "digest")
    assert "flaky           FAILING" in processes.log("status")
    assert "needs attention: flaky" in processes.log("status")
