"""`flask worker --once`, `jobs status`, `jobs run`, `outbox dead`, `outbox retry` and `db backup`."""

import pytest
from sqlalchemy import select

from referral_hub.cli import jobs as jobs_cli
from referral_hub.extensions import db
from referral_hub.introductions.models import Introduction, IntroState
from referral_hub.jobs import runs
from referral_hub.jobs.models import JobRun, RunOutcome
from referral_hub.mail.models import OutboxStatus
from tests.factories import OutboxMessageFactory

from .conftest import NOW, chapter_at_work


@pytest.fixture
def flask(app, monkeypatch):
    """The command line as of NOW (the jobs' clock; the outbox keeps the real one)."""
    monkeypatch.setattr(jobs_cli, "utcnow", lambda: NOW)
    monkeypatch.setattr(runs, "utcnow", lambda: NOW)
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_worker_once_runs_every_due_job_and_sends_what_they_queued(flask, app):
    work = chapter_at_work()
    result = flask("worker", "--once")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "worker: mail and jobs (expire, digest, outcome_prompts, reminders, guest_retention, housekeeping) "
        "every 1.0s",
        "worker: stopped",
    ]
    assert (
        db.session.get(Introduction, work.introduction_id, populate_existing=True).state is IntroState.EXPIRED
    )
    sent = app.extensions["mail_memory"]
    assert [email["To"] for email in sent].count(work.reader_email) == 1, "the digest left in the same cycle"


def test_jobs_status_lists_each_job_and_exits_1_while_one_is_overdue(flask):
    result = flask("jobs", "status")
    assert result.exit_code == 1
    assert "expire          OVERDUE" in result.output and "last success  never" in result.output
    # The digest runs every quarter hour: at 10:30 its latest period has only just begun.
    assert "digest          ok" in result.output
    assert "needs attention: expire, outcome_prompts, guest_retention, housekeeping" in result.output

    assert flask("worker", "--once").exit_code == 0
    result = flask("jobs", "status")
    assert result.exit_code == 0, result.output
    assert "expire          ok" in result.output
    assert "(2026-12-02T10) in " in result.output and "introductions 0" in result.output
    assert "next due      2026-12-02 11:00:00 UTC" in result.output
    assert "digest          ok" in result.output and "next due      2026-12-02 10:45:00 UTC" in result.output


def test_jobs_status_exits_1_for_a_failing_job_and_shows_its_error(flask, flaky):
    flask("worker", "--once")
    result = flask("jobs", "status")
    assert result.exit_code == 1
    assert "flaky           FAILING" in result.output
    assert "error         tests.jobs.conftest.Broken: the flaky job broke" in result.output
    assert "needs attention: flaky" in result.output


def test_jobs_run_runs_one_job_now_and_only_once_per_period(flask):
    chapter_at_work()
    result = flask("jobs", "run", "expire")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "expire 2026-12-02T10: succeeded: "
        "introductions 1, needs 0, requests_introduced 0, requests_refunded 1"
    )
    again = flask("jobs", "run", "expire")
    assert again.exit_code == 0 and "already done or running; nothing to do" in again.output
    assert db.session.scalars(select(JobRun.job)).all() == ["expire"]


def test_jobs_run_retries_a_failed_run_at_once_and_exits_1_when_it_fails_again(flask, flaky):
    first = flask("jobs", "run", "flaky")
    second = flask("jobs", "run", "flaky")
    assert (first.exit_code, second.exit_code) == (1, 1)
    assert "flaky 2026-12-02T10: failed: tests.jobs.conftest.Broken: the flaky job broke" in second.output
    row = db.session.scalar(select(JobRun).execution_options(populate_existing=True))
    assert (row.outcome, row.attempts) == (RunOutcome.FAILED, 2)


def test_jobs_run_with_an_unknown_name_says_which_jobs_exist(flask):
    result = flask("jobs", "run", "backup")
    assert result.exit_code == 2
    assert (
        "No job is named 'backup'; the jobs are: "
        "expire, digest, outcome_prompts, reminders, guest_retention, housekeeping." in result.output
    )


def test_outbox_dead_lists_dead_letters_and_retry_requeues_one(flask):
    dead = OutboxMessageFactory(
        status=OutboxStatus.DEAD, attempts=30, last_error="550 no such user", to_address="gone@example.org"
    )
    OutboxMessageFactory(status=OutboxStatus.SENT)
    result = flask("outbox", "dead")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert (
        lines[0].startswith(f"{dead.id}  queued ")
        and "to gone@example.org  after 30 attempts: Hello" in lines[0]
    )
    assert lines[1] == "    last error: 550 no such user"

    result = flask("outbox", "retry", str(dead.id))
    assert result.exit_code == 0 and result.output.strip() == f"requeued message {dead.id}"
    db.session.refresh(dead)
    assert (dead.status, dead.attempts, dead.locked_until) == (OutboxStatus.PENDING, 0, None)
    assert flask("outbox", "dead").output.strip() == "no dead letters"


def test_outbox_retry_refuses_an_unknown_id_a_message_that_is_not_dead_and_no_choice(flask):
    sent = OutboxMessageFactory(status=OutboxStatus.SENT)
    unknown = flask("outbox", "retry", "999999")
    assert unknown.exit_code == 1 and "No outbox message has the id 999999." in unknown.output
    alive = flask("outbox", "retry", str(sent.id))
    assert alive.exit_code == 1
    assert f"Message {sent.id} is sent, not dead: only dead letters are retried." in alive.output
    db.session.refresh(sent)
    assert sent.status is OutboxStatus.SENT
    for args in ([], [str(sent.id), "--all"]):
        result = flask("outbox", "retry", *args)
        assert result.exit_code == 2 and "Give one message id, or --all." in result.output


def test_outbox_retry_all_requeues_every_dead_letter(flask):
    letters = OutboxMessageFactory.create_batch(3, status=OutboxStatus.DEAD, attempts=30)
    result = flask("outbox", "retry", "--all")
    assert result.exit_code == 0 and result.output.strip() == "requeued 3 dead letters"
    for letter in letters:
        db.session.refresh(letter)
        assert (letter.status, letter.attempts) == (OutboxStatus.PENDING, 0)
