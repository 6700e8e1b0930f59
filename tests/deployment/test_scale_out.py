"""Two gunicorn servers and two outbox workers on one PostgreSQL and one Redis act as one app.

Rate limits are counted in Redis, so a client that spreads its attempts over the servers gets no
more tries; the outbox is claimed with SKIP LOCKED, so two workers never send one email twice.
"""

import re
import threading
import time
from collections import Counter
from itertools import combinations

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select

from referral_hub.config import database_uri
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from tests.conftest import ON_POSTGRESQL, free_port
from tests.factories import PASSWORD, ChapterFactory, MembershipFactory
from tests.journeys.conftest import HttpClient, Inbox

from .conftest import AppServer, app_environment, migrate, outbox_worker, own_database, seed, stop

pytestmark = [
    pytest.mark.slow,
    pytest.mark.live,
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="scale-out is PostgreSQL's: SQLite is one file on one host, and its outbox claim "
        "cannot skip rows another worker has locked",
    ),
]

# A Redis database of this suite's own: the tests empty it, and only it, before and after each test.
RATE_LIMIT_STORE = "redis://127.0.0.1:6379/13"
LOGIN_PER_ACCOUNT = 5
AUTH_PER_ADDRESS = 8
INTRODUCTIONS = 100
OTHER_MEMBERS = 15  # 105 pairs to introduce, one pending introduction per pair
DELIVERY_LIMIT_SECONDS = 60
SENT_LOG = re.compile(r"outbox: (\d+) sent")


class Deployment:
    def __init__(self, servers, workers, inbox, database_url, slug, introducers, others):
        self.servers, self.workers, self.inbox = servers, workers, inbox
        self.database_url, self.slug = database_url, slug
        self.introducers, self.others = introducers, others

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def tracebacks(self) -> list[str]:
        return [process.name for process in [*self.servers, *self.workers] if "Traceback" in process.log]


def seed_chapter():
    chapter = ChapterFactory()
    members = [MembershipFactory(chapter=chapter).member for _ in range(2 + OTHER_MEMBERS)]
    return chapter.slug, [(member.id, member.email) for member in members]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    store = redis.Redis.from_url(RATE_LIMIT_STORE)
    try:
        store.ping()
    except redis.ConnectionError:
        # Fail, not skip: a suite that skips where its service is missing proves nothing and stays green.
        pytest.fail(f"no Redis at {RATE_LIMIT_STORE}: scale-out keeps rate-limit counters there")
    database_url = own_database("scale")
    inbox = Inbox()
    catcher = Controller(inbox, hostname="127.0.0.1", port=free_port())
    catcher.start()
    environment = app_environment(
        database_url,
        RATELIMIT_STORAGE_URI=RATE_LIMIT_STORE,
        RATELIMIT_LOGIN_PER_ACCOUNT=f"{LOGIN_PER_ACCOUNT} per 15 minutes",
        RATELIMIT_AUTH_PER_ADDRESS=f"{AUTH_PER_ADDRESS} per minute",
        MAIL_TRANSPORT="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(catcher.port),
    )
    migrate(environment)
    slug, members = seed(database_url, seed_chapter)
    logs = tmp_path_factory.mktemp("deployment")
    servers = [AppServer(f"web{n}", environment, logs, workers=1) for n in (1, 2)]
    workers = [outbox_worker(f"worker{n}", environment, logs) for n in (1, 2)]
    try:
        for server in servers:
            server.wait_until_serving()
        yield Deployment(servers, workers, inbox, database_url, slug, members[:2], members[2:])
    finally:
        stop(*servers, *workers)
        catcher.stop()
        store.close()


@pytest.fixture
def fresh_rate_limits():
    store = redis.Redis.from_url(RATE_LIMIT_STORE)
    store.flushdb()
    yield
    store.flushdb()
    store.close()


def failed_logins(deployment: Deployment, emails: list[str]) -> list[tuple[int, str]]:
    """A wrong password for each email in turn, alternating between the servers: (status, page)."""
    browser = HttpClient(deployment.urls[0])
    answers = []
    for n, email in enumerate(emails):
        login = f"{deployment.urls[n % 2]}/login"
        status, _, page = browser.submit(login, {"email": email, "password": "not the password"})
        answers.append((status, page))
    return answers


def test_failed_logins_for_one_account_are_counted_across_both_servers(deployment, fresh_rate_limits):
    _, email = deployment.introducers[0]
    answers = failed_logins(deployment, [email] * (LOGIN_PER_ACCOUNT + 2))
    statuses = [status for status, _ in answers]
    print(f"\nper account, alternating servers: {statuses}")
    # Counted per server, each would allow LOGIN_PER_ACCOUNT: 2 × 5 attempts before the first 429.
    assert statuses == [401] * LOGIN_PER_ACCOUNT + [429, 429]
    assert "Too many failed attempts for this account" in answers[-1][1]
    assert not deployment.tracebacks()


def test_login_attempts_from_one_address_are_counted_across_both_servers(deployment, fresh_rate_limits):
    emails = [f"stranger{n}@example.org" for n in range(AUTH_PER_ADDRESS + 2)]
    answers = failed_logins(deployment, emails)
    statuses = [status for status, _ in answers]
    print(f"\nper address, alternating servers, a new account each time: {statuses}")
    assert statuses == [401] * AUTH_PER_ADDRESS + [429, 429]
    assert "Too many attempts from your network" in answers[-1][1]
    assert not deployment.tracebacks()


def introduce_pairs(deployment: Deployment, introducer: tuple[int, str], pairs, results: list) -> None:
    """Log in once, then make each introduction through the servers in turn; `results` gets the pages."""
    _, email = introducer
    browser = HttpClient(deployment.urls[0])
    _, landed, _ = browser.submit("/login", {"email": email, "password": PASSWORD})
    assert landed.endswith("/dashboard"), landed
    for n, ((first_id, _), (second_id, _)) in enumerate(pairs):
        note = f"Introduction {n} by {email}: you both sell to the same hospitals and should compare notes."
        status, landed, _ = browser.submit(
            f"{deployment.urls[n % 2]}/introductions/new",
            {"first_id": first_id, "second_id": second_id, "note": note, "chapter": ""},
        )
        results.append((status, landed))


def test_two_workers_send_every_introduction_email_exactly_once(deployment, fresh_rate_limits):
    pairs = list(combinations(deployment.others, 2))[:INTRODUCTIONS]
    results: list[tuple[int, str]] = []
    started = time.monotonic()
    threads = [
        threading.Thread(target=introduce_pairs, args=(deployment, introducer, pairs[n::2], results))
        for n, introducer in enumerate(deployment.introducers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = time.monotonic()
    assert len(results) == INTRODUCTIONS
    assert all(status == 200 and re.search(r"/introductions/\d+$", url) for status, url in results), results

    expected = 2 * INTRODUCTIONS  # each of the two people introduced gets a request to accept
    deadline = time.monotonic() + DELIVERY_LIMIT_SECONDS
    while len(deployment.inbox.messages) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    delivered = time.monotonic()
    time.sleep(1.5)  # a worker that sends a message twice would do it within a few polls

    engine = create_engine(database_uri(deployment.database_url))
    with engine.connect() as connection:
        outbox = connection.execute(select(OutboxMessage.message_id, OutboxMessage.status)).all()
    engine.dispose()
    arrived = Counter(message["Message-ID"] for message in deployment.inbox.messages)
    sent_by = {
        worker.name: sum(int(n) for n in SENT_LOG.findall(worker.log)) for worker in deployment.workers
    }
    print(
        f"\n{INTRODUCTIONS} introductions through both servers in {made - started:.1f}s; "
        f"{len(deployment.inbox.messages)} emails delivered {delivered - made:.1f}s after the last one; "
        f"sent by {sent_by}"
    )
    assert len(outbox) == expected
    assert {status for _, status in outbox} == {OutboxStatus.SENT}
    assert [message_id for message_id, count in arrived.items() if count > 1] == []
    assert set(arrived) == {message_id for message_id, _ in outbox}
    assert len(deployment.inbox.messages) == expected
    # Both workers took part, so "exactly once" was tested against a competitor.
    assert all(sent_by.values()) and sum(sent_by.values()) == expected, sent_by
    assert not deployment.tracebacks()
