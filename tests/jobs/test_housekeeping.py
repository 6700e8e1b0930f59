"""The housekeeping job: sent mail and dead letters past their keeping, and old job runs, deleted."""

from datetime import timedelta

from sqlalchemy import select

from referral_hub.extensions import db
from referral_hub.jobs import history, runs
from referral_hub.jobs.models import JobRun
from referral_hub.jobs.schedule import JOBS
from referral_hub.mail import services as mail
from referral_hub.mail.models import OutboxAttachment, OutboxMessage, OutboxStatus
from tests.factories import JobRunFactory, OutboxAttachmentFactory, OutboxMessageFactory

from .conftest import NOW


def remaining(column):
    return set(db.session.scalars(select(column).execution_options(populate_existing=True)))


def test_sent_mail_goes_after_30_days_dead_letters_after_90_and_pending_mail_stays():
    day = timedelta(days=1)
    OutboxMessageFactory(status=OutboxStatus.SENT, sent_at=NOW - 31 * day, created_at=NOW - 31 * day)
    recent_sent = OutboxMessageFactory(status=OutboxStatus.SENT, sent_at=NOW - 29 * day)
    old_dead = OutboxMessageFactory(status=OutboxStatus.DEAD, created_at=NOW - 91 * day)
    recent_dead = OutboxMessageFactory(status=OutboxStatus.DEAD, created_at=NOW - 60 * day)
    old_pending = OutboxMessageFactory(created_at=NOW - 200 * day)
    OutboxAttachmentFactory(message_id=old_dead.id)
    db.session.flush()
    assert mail.prune(NOW) == 2
    assert remaining(OutboxMessage.id) == {recent_sent.id, recent_dead.id, old_pending.id}
    assert remaining(OutboxAttachment.message_id) == set(), "the dead letter's image went too"


def test_job_runs_older_than_90_days_go_but_each_jobs_last_success_and_a_running_one_stay():
    long_ago = NOW - timedelta(days=120)
    JobRunFactory(started_at=long_ago)  # an older success of the same job: goes
    last_success = JobRunFactory(started_at=long_ago + timedelta(hours=1))
    JobRunFactory(failed=True, started_at=long_ago + timedelta(hours=2))
    stuck = JobRunFactory(running=True, started_at=long_ago + timedelta(hours=3))
    other_job = JobRunFactory(job="digest", started_at=long_ago)
    recent = JobRunFactory(job="reminders", started_at=NOW - timedelta(days=10))
    recent_failure = JobRunFactory(job="reminders", failed=True, started_at=NOW - timedelta(days=89))
    db.session.flush()
    assert history.prune_runs(NOW) == 2
    assert remaining(JobRun.id) == {last_success.id, stuck.id, other_job.id, recent.id, recent_failure.id}


def test_the_worker_runs_housekeeping_once_a_day_and_records_its_counts():
    OutboxMessageFactory(status=OutboxStatus.SENT, sent_at=NOW - timedelta(days=40))
    db.session.flush()
    claimed = runs.claim(JOBS["housekeeping"], "2026-12-02", now=NOW)
    result = runs.run(JOBS["housekeeping"], "2026-12-02", claimed, now=NOW)
    assert result.counts == {"mail_deleted": 1, "runs_deleted": 0}
    assert JOBS["housekeeping"].schedule.runnable(NOW) == "2026-12-02"
