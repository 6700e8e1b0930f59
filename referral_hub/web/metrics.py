"""/metrics: Prometheus text for the operator's scraper, to the METRICS_TOKEN bearer only; request
counts and latency by endpoint, and figures the database gives at scrape time."""

import hashlib
import hmac
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import Blueprint, Flask, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from werkzeug.wrappers import Response

from ..clock import utcnow
from ..jobs import health as jobs
from ..ledger import queries as ledger
from ..mail import backlog
from ..mail.models import OutboxStatus
from .http import bearer_token

bp = Blueprint("metrics", __name__)

# When set, each process (a gunicorn worker) writes its counters to files there, and a scrape sums them.
SHARED_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Requests that matched no route (404, 405) share one label: the label set stays bounded.
UNMATCHED = "unmatched"


class RequestMetrics:
    """The process's request counters, one set per app (so each test's app counts its own)."""

    def __init__(self):
        labels = ("endpoint", "status")
        self.requests = Counter(
            "referral_hub_http_requests",
            "HTTP requests answered, by Flask endpoint and status code.",
            labels,
            registry=None,
        )
        self.duration = Histogram(
            "referral_hub_http_request_duration_seconds",
            "Time to answer an HTTP request, by Flask endpoint and status code.",
            labels,
            registry=None,
        )

    def count(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, status).inc()
        self.duration.labels(endpoint, status).observe(seconds)


def outbox_figures(now: datetime) -> Iterable[Metric]:
    outbox = backlog.at(now=now)
    messages = GaugeMetricFamily(
        "referral_hub_outbox_messages", "Outbox messages in each state.", labels=["state"]
    )
    for status, count in outbox.by_status.items():
        messages.add_metric([status.value], count)
    yield messages
    yield GaugeMetricFamily(
        "referral_hub_outbox_oldest_due_age_seconds",
        "Seconds the longest-waiting due message has been due; 0 when no message is due.",
        value=outbox.oldest_due_seconds,
    )
    yield GaugeMetricFamily(
        "referral_hub_outbox_dead_letters",
        "Messages given up on (permanent failure or too many attempts): `flask outbox dead` lists them.",
        value=outbox.by_status[OutboxStatus.DEAD],
    )


def ledger_figures(_now: datetime) -> Iterable[Metric]:
    transactions = CounterMetricFamily(
        "referral_hub_ledger_transactions", "Ledger transactions posted, by kind.", labels=["kind"]
    )
    for kind, count in ledger.transactions_by_kind().items():
        transactions.add_metric([kind.value], count)
    yield transactions


def job_figures(now: datetime) -> Iterable[Metric]:
    statuses = jobs.status(now)
    families = {
        "last_success": GaugeMetricFamily(
            "referral_hub_job_last_success_timestamp_seconds",
            "When each periodic job last succeeded (Unix time); absent until it has.",
            labels=["job"],
        ),
        "duration": GaugeMetricFamily(
            "referral_hub_job_last_duration_seconds",
            "How long each job's last successful run took.",
            labels=["job"],
        ),
        "failing": GaugeMetricFamily(
            "referral_hub_job_failing", "1 when the job's last run failed, else 0.", labels=["job"]
        ),
        "overdue": GaugeMetricFamily(
            "referral_hub_job_overdue",
            "1 when the job's due period has no successful run past its grace.",
            labels=["job"],
        ),
    }
    for job in statuses:
        if job.last_success_at is not None:
            families["last_success"].add_metric([job.name], job.last_success_at.timestamp())
            families["duration"].add_metric([job.name], job.last_duration_seconds or 0.0)
        families["failing"].add_metric([job.name], int(job.failing))
        families["overdue"].add_metric([job.name], int(job.overdue))
    yield from families.values()


# What a scrape reads from the database: each source takes the scrape's time and yields metric
# families from a few aggregate queries.
DATABASE_SOURCES: tuple[Callable[[datetime], Iterable[Metric]], ...] = (
    outbox_figures,
    ledger_figures,
    job_figures,
)


class DatabaseFigures:
    """A collector that reads the database when scraped, and never in between."""

    def __init__(self, now: datetime):
        self.now = now

    def collect(self) -> Iterable[Metric]:
        for source in DATABASE_SOURCES:
            yield from source(self.now)


def _count_request(response: Response) -> Response:
    if current_app.config["METRICS_TOKEN"]:
        started = g.get("request_started", time.perf_counter())
        current_app.extensions["request_metrics"].count(
            request.endpoint or UNMATCHED, response.status_code, time.perf_counter() - started
        )
    return response


def _same_secret(sent: str, token: str) -> bool:
    """Compared in constant time, and as digests, so that not even the token's length shows."""
    return hmac.compare_digest(
        hashlib.sha256(sent.encode()).digest(), hashlib.sha256(token.encode()).digest()
    )


@bp.get("/metrics")
def scrape():
    token = current_app.config["METRICS_TOKEN"]
    sent = bearer_token()
    # Without the token, the answer is an unknown URL's: nothing tells a prober the page exists.
    if not (token and sent and _same_secret(sent, token)):
        abort(404)
    registry = CollectorRegistry()
    if os.environ.get(SHARED_DIRECTORY):
        MultiProcessCollector(registry)
    else:
        metrics = current_app.extensions["request_metrics"]
        registry.register(metrics.requests)
        registry.register(metrics.duration)
    registry.register(DatabaseFigures(utcnow()))
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return encode(registry), 200, {"Content-Type": content_type, "Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    app.extensions["request_metrics"] = RequestMetrics()
    app.after_request(_count_request)
    app.register_blueprint(bp)
