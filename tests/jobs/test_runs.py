"""Running jobs: once per (job, period), takeover of failed runs and lapsed leases, failures undone."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral_hub.extensions import db
from referral_hub.introductions.models import Introduction, IntroState
from referral_hub.jobs import runs
from referral_hub.jobs.models import JobRun, RunOutcome
from referral_hub.jobs.schedule import JOBS, Job
from referral_hub.ledger import queries, verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from referral_hub.relationships.models import IntroRequest, RequestState
from tests.conftest import mail_to

from .conftest import NOW, chapter_at_work

EXPIRE = JOBS["expire"]


def run_row(job: str, period: str) -> JobRun:
    return db.session.scalar(
        select(JobRun)
        .where(JobRun.job == job, JobRun.period == period)
        .execution_options(populate_existing=True)
    )


def digests_to(address: str):
    return [message for message in mail_to(address) if message.template == "digest"]


def test_the_first_cycle_expires_refunds_and_queues_the_digest_and_the_second_does_nothing(app):
    work = chapter_at_work()
    results = runs.run_due(now=NOW)
    assert [(r.job, r.period, r.outcome) for r in results] == [
        ("expire", "2026-12-02T10", RunOutcome.SUCCEEDED),
        ("digest", "2026-12-02T10:30", RunOutcome.SUCCEEDED),
        ("outcome_prompts", "2026-12-02", RunOutcome.SUCCEEDED),
        ("reminders", "2026-12-02T10", RunOutcome.SUCCEEDED),
        ("guest_retention", "2026-12-02", RunOutcome.SUCCEEDED),
        ("housekeeping", "2026-12-02", RunOutcome.SUCCEEDED),
    ]
    assert results[0].counts == {
        "introductions": 1,
        "needs": 0,
        "requests_introduced": 0,
        "requests_refunded": 1,
    }
    assert db.session.get(Introduction, work.introduction_id).state is IntroState.EXPIRED
    request = db.session.get(IntroRequest, work.request_id)
    assert request.state is RequestState.EXPIRED
    refund = db.session.scalar(
        select(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == f"intro_request:{request.id}:refund"
        )
    )
    assert refund.kind is Kind.REFUND and queries.balance(request.chapter, request.asker) == 1
    assert len(digests_to(work.reader_email)) == 1
    assert verify.verify(request.chapter).ok

    assert runs.run_due(now=NOW + timedelta(minutes=10)) == []
    later = runs.run_due(now=NOW + timedelta(minutes=20))
    assert [(r.job, r.period, r.counts) for r in later] == [("digest", "2026-12-02T10:45", {"digests": 0})]
    assert len(digests_to(work.reader_email)) == 1
    row = run_row("expire", "2026-12-02T10")
    assert (row.outcome, row.attempts, row.finished_at >= row.started_at) == (RunOutcome.SUCCEEDED, 1, True)
    assert row.holder == runs.worker_name() and row.counts["introductions"] == 1


def test_the_next_hour_runs_the_hourly_jobs_again_but_sends_no_second_digest(app):
    work = chapter_at_work()
    runs.run_due(now=NOW)
    results = runs.run_due(now=NOW + timedelta(hours=1))
    assert [(r.job, r.period) for r in results] == [
        ("expire", "2026-12-02T11"),
        ("digest", "2026-12-02T11:30"),
        ("reminders", "2026-12-02T11"),
    ]
    assert results[1].counts == {"digests": 0} and len(digests_to(work.reader_email)) == 1


def test_a_second_claim_of_the_same_period_is_refused():
    assert runs.claim(EXPIRE, "2026-12-02T10", now=NOW) is not None
    assert runs.claim(EXPIRE, "2026-12-02T10", now=NOW + timedelta(seconds=1)) is None


def test_a_running_claim_whose_lease_lapsed_is_taken_over_and_one_whose_lease_is_live_is_not(app):
    first = runs.claim(EXPIRE, "2026-12-02T10", now=NOW)
    lease = timedelta(seconds=app.config["JOBS_LEASE_SECONDS"])
    assert runs.claim(EXPIRE, "2026-12-02T10", now=NOW + lease - timedelta(seconds=1)) is None
    assert runs.claim(EXPIRE, "2026-12-02T10", now=NOW + lease) is None, "the lease holds to its last moment"
    second = runs.claim(EXPIRE, "2026-12-02T10", now=NOW + lease + timedelta(seconds=1))
    assert (second.run_id, second.attempts) == (first.run_id, 2)
    row = run_row("expire", "2026-12-02T10")
    assert (row.outcome, row.attempts, row.lease_until) == (
        RunOutcome.RUNNING,
        2,
        NOW + 2 * lease + timedelta(seconds=1),
    )


def test_a_worker_whose_run_was_taken_over_records_nothing_and_keeps_none_of_its_work(app):
    work = chapter_at_work()
    stale = runs.claim(EXPIRE, "2026-12-02T10", now=NOW)
    lease = timedelta(seconds=app.config["JOBS_LEASE_SECONDS"])
    runs.claim(EXPIRE, "2026-12-02T10", now=NOW + lease + timedelta(seconds=1))
    result = runs.run(EXPIRE, "2026-12-02T10", stale, now=NOW)
    assert result.outcome is RunOutcome.FAILED and "taken over" in result.error
    assert (
        db.session.get(Introduction, work.introduction_id, populate_existing=True).state is IntroState.PENDING
    )
    assert run_row("expire", "2026-12-02T10").outcome is RunOutcome.RUNNING, "the new holder's run stands"


def test_a_job_that_raises_is_recorded_failed_and_leaves_none_of_its_work(flaky):
    work = chapter_at_work()
    claimed = runs.claim(flaky, "2026-12-02T10", now=NOW)
    result = runs.run(flaky, "2026-12-02T10", claimed, now=NOW)
    assert result.outcome is RunOutcome.FAILED
    row = run_row("flaky", "2026-12-02T10")
    assert row.outcome is RunOutcome.FAILED and row.finished_at is not None
    assert "Broken: the flaky job broke" in row.error
    assert (
        db.session.get(Introduction, work.introduction_id, populate_existing=True).state is IntroState.PENDING
    )


def test_a_failed_run_is_retried_in_a_later_cycle_while_the_other_jobs_run(app, flaky, monkeypatch):
    chapter_at_work()
    monkeypatch.setitem(app.config, "JOBS_RETRY_SECONDS", 30)
    first = runs.run_due(now=NOW)
    assert [(r.job, r.outcome) for r in first] == [
        ("expire", RunOutcome.SUCCEEDED),
        ("digest", RunOutcome.SUCCEEDED),
        ("outcome_prompts", RunOutcome.SUCCEEDED),
        ("reminders", RunOutcome.SUCCEEDED),
        ("guest_retention", RunOutcome.SUCCEEDED),
        ("housekeeping", RunOutcome.SUCCEEDED),
        ("flaky", RunOutcome.FAILED),
    ]
    assert runs.run_due(now=NOW + timedelta(seconds=10)) == [], "not before the retry delay"
    again = runs.run_due(now=NOW + timedelta(seconds=40))
    assert [(r.job, r.outcome) for r in again] == [("flaky", RunOutcome.FAILED)]
    assert run_row("flaky", "2026-12-02T10").attempts == 2


def test_a_failed_run_that_succeeds_on_retry_records_its_counts(app, flaky, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_RETRY_SECONDS", 0)
    runs.run_due(now=NOW)
    monkeypatch.setitem(JOBS, "flaky", Job("flaky", EXPIRE.schedule, EXPIRE.run, "fixed"))
    [result] = runs.run_due(now=NOW + timedelta(seconds=1))
    assert (result.job, result.outcome) == ("flaky", RunOutcome.SUCCEEDED)
    row = run_row("flaky", "2026-12-02T10")
    assert (row.outcome, row.attempts, row.error) == (RunOutcome.SUCCEEDED, 2, "")
    assert row.counts["introductions"] == 0


def test_the_database_keeps_one_row_per_job_and_period():
    runs.claim(EXPIRE, "2026-12-02T10", now=NOW)
    twin = JobRun(
        job="expire",
        period="2026-12-02T10",
        outcome=RunOutcome.RUNNING,
        started_at=NOW,
        lease_until=NOW,
        holder="x",
    )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(twin)
        db.session.flush()
