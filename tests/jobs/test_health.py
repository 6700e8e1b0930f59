"""`jobs.status(now)`: each job's last success and next due time, overdue and failing."""

from datetime import timedelta

from referral_hub import jobs
from referral_hub.jobs import runs
from referral_hub.jobs.models import RunOutcome

from .conftest import NOW


def by_name(now):
    return {status.name: status for status in jobs.status(now)}


def test_jobs_that_never_ran_are_overdue_once_their_grace_has_passed():
    early = by_name(NOW.replace(minute=10))
    assert not early["expire"].overdue, "ten minutes into the hour is within the grace"
    assert early["expire"].next_due_at == NOW.replace(minute=0), "due since the hour began"
    statuses = by_name(NOW)
    assert statuses["expire"].overdue and not statuses["digest"].overdue, (
        "every quarter hour: 10:30 just began"
    )
    assert by_name(NOW + timedelta(minutes=11))["digest"].overdue, "its grace is 10 minutes"
    assert statuses["expire"].last_success_at is None and statuses["expire"].last_outcome is None


def test_after_a_cycle_every_job_is_healthy_with_its_duration_counts_and_next_due_time():
    runs.run_due(now=NOW)
    statuses = by_name(NOW + timedelta(minutes=5))
    expire, digest = statuses["expire"], statuses["digest"]
    assert expire.healthy and digest.healthy
    assert expire.last_outcome is RunOutcome.SUCCEEDED and expire.last_success_period == "2026-12-02T10"
    assert expire.last_success_at >= NOW and 0 <= expire.last_duration_seconds < 30
    assert set(expire.last_counts) == {"introductions", "needs", "requests_introduced", "requests_refunded"}
    assert expire.next_due_at == NOW.replace(hour=11, minute=0)
    assert digest.next_due_at == NOW.replace(minute=45), (
        "every quarter hour: each zone's Monday 08:00 in turn"
    )


def test_a_job_is_overdue_when_the_worker_stopped_past_its_next_period():
    runs.run_due(now=NOW)
    later = by_name(NOW + timedelta(hours=1))
    assert later["expire"].overdue and later["expire"].last_success_period == "2026-12-02T10"
    assert later["digest"].overdue, "its 10:45 run is 45 minutes late"


def test_a_quarter_hourly_job_is_overdue_for_as_long_as_the_worker_stays_stopped():
    runs.run_due(now=NOW)
    assert not by_name(NOW + timedelta(minutes=24))["digest"].overdue, "10:45 is within its grace"
    for minutes in (26, 44, 46, 60, 120):
        assert by_name(NOW + timedelta(minutes=minutes))["digest"].overdue, minutes


def test_a_failed_run_shows_as_failing_with_its_error_until_a_run_succeeds(flaky):
    runs.run_due(now=NOW)
    failing = by_name(NOW)["flaky"]
    assert failing.failing and not failing.healthy and failing.last_success_at is None
    assert failing.last_outcome is RunOutcome.FAILED and "the flaky job broke" in failing.last_error
    assert failing.next_due_at == NOW.replace(minute=0), "due since the hour began, still not done"


def test_a_retry_that_is_still_running_shows_as_failing_with_the_last_error(flaky):
    runs.run_due(now=NOW)
    retry = runs.claim(flaky, "2026-12-02T10", now=NOW + timedelta(minutes=2))
    assert retry is not None and retry.attempts == 2
    status = by_name(NOW + timedelta(minutes=2))["flaky"]
    assert status.last_outcome is RunOutcome.RUNNING
    assert status.failing and "the flaky job broke" in status.last_error


def test_a_first_run_still_running_is_not_failing(flaky):
    assert runs.claim(flaky, "2026-12-02T10", now=NOW) is not None
    assert not by_name(NOW)["flaky"].failing
