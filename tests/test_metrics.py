"""/metrics: 404 to anyone without METRICS_TOKEN, Prometheus text with it; what it counts and reads."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from prometheus_client.parser import text_string_to_metric_families

from referral_hub import create_app
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.jobs.schedule import JOBS
from referral_hub.ledger.models import Kind
from referral_hub.mail import backlog
from referral_hub.mail.models import OutboxStatus
from referral_hub.web.metrics import RequestMetrics
from tests.factories import JobRunFactory, LedgerTransactionFactory, OutboxMessageFactory

TOKEN = "metrics-token-0123456789abcdef0123456789"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    # The suite's app lives for the whole run: each test counts from zero.
    monkeypatch.setitem(app.extensions, "request_metrics", RequestMetrics())


def families(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {family.name: family for family in text_string_to_metric_families(response.get_data(as_text=True))}


def values(family) -> dict[tuple, float]:
    """Each sample of a family by its name and labels."""
    return {(sample.name, *sorted(sample.labels.items())): sample.value for sample in family.samples}


def without_request_id(response) -> tuple:
    headers = sorted((name, value) for name, value in response.headers if name != "X-Request-ID")
    return response.status_code, headers, response.get_data()


def test_metrics_is_an_unknown_url_when_no_token_is_configured(client):
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404
    assert without_request_id(client.get("/metrics")) == without_request_id(unknown)
    assert without_request_id(client.get("/metrics", headers={"Authorization": "Bearer "})) == (
        without_request_id(unknown)
    )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer \u00e9",
    ],
)
def test_metrics_answers_a_wrong_or_missing_token_as_an_unknown_url(client, metrics_on, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = client.get("/metrics", headers=headers)
    assert without_request_id(answer) == without_request_id(client.get("/no-such-page"))


def test_the_bearer_scheme_is_read_in_any_case(client, metrics_on):
    assert client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_metrics_reads_the_outbox_dead_letters_and_ledger_of_a_known_dataset(client, metrics_on):
    now = utcnow()
    OutboxMessageFactory(next_attempt_at=now - timedelta(minutes=10))  # due for ten minutes
    OutboxMessageFactory(next_attempt_at=now + timedelta(hours=1))  # a retry, not due yet
    OutboxMessageFactory(status=OutboxStatus.DEAD, attempts=30, next_attempt_at=now - timedelta(days=2))
    OutboxMessageFactory(status=OutboxStatus.SENT, sent_at=now, next_attempt_at=now - timedelta(days=1))
    LedgerTransactionFactory(amount=3)
    LedgerTransactionFactory(reversal=True)  # a grant and its reversal
    db.session.commit()

    found = families(client.get("/metrics", headers=AUTHORIZED))

    assert values(found["referral_hub_outbox_messages"]) == {
        ("referral_hub_outbox_messages", ("state", "pending")): 2,
        ("referral_hub_outbox_messages", ("state", "sent")): 1,
        ("referral_hub_outbox_messages", ("state", "dead")): 1,
    }
    assert values(found["referral_hub_outbox_dead_letters"]) == {("referral_hub_outbox_dead_letters",): 1}
    waited = found["referral_hub_outbox_oldest_due_age_seconds"].samples[0].value
    assert 600 <= waited < 600 + 60
    ledger = values(found["referral_hub_ledger_transactions"])
    assert ledger[("referral_hub_ledger_transactions_total", ("kind", "grant"))] == 2
    assert ledger[("referral_hub_ledger_transactions_total", ("kind", "reversal"))] == 1
    assert sum(ledger.values()) == 3
    assert len(ledger) == len(Kind)  # every kind, zero included: a series does not appear from nowhere


def test_metrics_counts_requests_by_endpoint_and_status_not_by_path(client, metrics_on):
    client.get("/healthz")
    client.get("/healthz")
    client.get("/needs/12345")  # an id that is not there: the route's 404, labelled with its endpoint
    client.get("/no-such-page/1")
    client.get("/no-such-page/2")

    found = families(client.get("/metrics", headers=AUTHORIZED))

    counted = values(found["referral_hub_http_requests"])
    total = "referral_hub_http_requests_total"
    assert counted[(total, ("endpoint", "http.healthz"), ("status", "200"))] == 2
    assert counted[(total, ("endpoint", "needs.detail"), ("status", "302"))] == 1  # a visitor: to login
    assert counted[(total, ("endpoint", "unmatched"), ("status", "404"))] == 2
    assert not any("no-such-page" in str(key) for key in counted)
    durations = values(found["referral_hub_http_request_duration_seconds"])
    count = "referral_hub_http_request_duration_seconds_count"
    assert durations[(count, ("endpoint", "http.healthz"), ("status", "200"))] == 2
    assert (
        durations[
            (
                "referral_hub_http_request_duration_seconds_sum",
                ("endpoint", "http.healthz"),
                ("status", "200"),
            )
        ]
        > 0
    )


def test_requests_are_not_counted_while_metrics_are_off(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "request_metrics", RequestMetrics())
    client.get("/healthz")
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    found = families(client.get("/metrics", headers=AUTHORIZED))
    assert values(found["referral_hub_http_requests"]) == {}


def test_the_scrape_reads_the_database_with_a_few_aggregate_queries(client, metrics_on, count_queries):
    with count_queries() as log:
        families(client.get("/metrics", headers=AUTHORIZED))
    # Two aggregates, and each job's last run and last success.
    assert log.count == 2 + 2 * len(JOBS), log.queries
    assert all("GROUP BY" in query for query in log.queries[:2])


def test_metrics_show_each_jobs_last_success_duration_and_failure(client, metrics_on):
    finished = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    JobRunFactory(job="expire", started_at=finished - timedelta(seconds=2), finished_at=finished)
    JobRunFactory(job="digest", failed=True)
    db.session.commit()

    found = families(client.get("/metrics", headers=AUTHORIZED))

    success = values(found["referral_hub_job_last_success_timestamp_seconds"])
    assert success == {
        ("referral_hub_job_last_success_timestamp_seconds", ("job", "expire")): finished.timestamp()
    }
    duration = values(found["referral_hub_job_last_duration_seconds"])
    assert duration == {("referral_hub_job_last_duration_seconds", ("job", "expire")): 2.0}
    failing = values(found["referral_hub_job_failing"])
    assert failing[("referral_hub_job_failing", ("job", "digest"))] == 1
    assert failing[("referral_hub_job_failing", ("job", "expire"))] == 0


def test_the_oldest_due_age_is_zero_when_nothing_is_due(db_session):
    now = utcnow()
    OutboxMessageFactory(next_attempt_at=now + timedelta(seconds=30))
    OutboxMessageFactory(status=OutboxStatus.DEAD, next_attempt_at=now - timedelta(days=1))
    figures = backlog.at(now=now)
    assert figures.oldest_due_seconds == 0
    assert figures.by_status == {OutboxStatus.PENDING: 1, OutboxStatus.SENT: 0, OutboxStatus.DEAD: 1}


# gunicorn's workers are processes of their own: each counts its requests into files in
# PROMETHEUS_MULTIPROC_DIR, and a scrape answered by any one of them sums every worker's.
WEB_WORKER = textwrap.dedent(
    """
    import sys
    from referral_hub import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "MAIL_TRANSPORT": "memory"})
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        assert client.get("/healthz").status_code == 200
    if sys.argv[3] == "scrape":
        answer = client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[4]})
        assert answer.status_code == 200, answer.status_code
        sys.stdout.write(answer.get_data(as_text=True))
    """
)


@pytest.mark.live
def test_with_several_processes_a_scrape_sums_every_processs_requests(tmp_path):
    database = f"sqlite:///{tmp_path / 'metrics.sqlite3'}"
    schema = create_app({"SQLALCHEMY_DATABASE_URI": database, "MAIL_TRANSPORT": "memory"})
    with schema.app_context():
        upgrade()
        db.engine.dispose()
    shared = tmp_path / "prometheus"
    shared.mkdir()
    environ = os.environ | {"METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(shared)}

    def worker(requests: int, then: str) -> str:
        run = subprocess.run(
            [sys.executable, "-c", WEB_WORKER, database, str(requests), then, TOKEN],
            capture_output=True,
            text=True,
            timeout=120,
            env=environ,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout

    worker(3, "exit")  # a worker that has since stopped: its counts stay in the sum
    found = {family.name: family for family in text_string_to_metric_families(worker(4, "scrape"))}
    counted = values(found["referral_hub_http_requests"])
    assert counted[("referral_hub_http_requests_total", ("endpoint", "http.healthz"), ("status", "200"))] == 7
