"""PostgreSQL stopped under load, then started again: clear 503s meanwhile, 200s after, no app restart."""

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from tests.conftest import ON_POSTGRESQL
from tests.factories import PASSWORD, ApiTokenFactory, MembershipFactory, NeedFactory
from tests.journeys.conftest import HttpClient

from .conftest import AppServer, app_environment, migrate, seed, stop

pytestmark = [
    pytest.mark.slow,
    pytest.mark.live,
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="a database server outage needs a database server; SQLite is a file inside the app's "
        "process (the test brings its own PostgreSQL cluster, so it runs once: in the PostgreSQL pass)",
    ),
]

API_SECRET = "rh_outage-test-token"
OUTAGE_SECONDS = 3.0
RECOVERY_LIMIT_SECONDS = 5.0
LOAD_THREADS = 4
LOAD_LIMIT_SECONDS = 60.0  # the load stops by itself even if the test never gets to stop it
ERROR_INTERNALS = ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "SELECT ")


@dataclass(frozen=True)
class Answer:
    path: str
    started: float
    finished: float
    status: int | None
    url: str
    body: str  # kept only when the status is not 200


class Load:
    """Threads requesting the pages in turn, sharing one logged-in browser, until stopped."""

    def __init__(self, client: HttpClient, pages: dict[str, dict[str, str]]):
        self.client, self.pages = client, pages
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(LOAD_THREADS)]

    def _fetch(self, path: str) -> Answer:
        started = time.monotonic()
        request = urllib.request.Request(self.client.base_url + path, headers=self.pages[path])
        try:
            with self.client.opener.open(request, timeout=10) as response:
                response.read()
                status, url, body = response.status, response.geturl(), ""
        except urllib.error.HTTPError as error:
            status, url, body = error.code, error.geturl(), error.read().decode(errors="replace")
        except OSError as error:  # no HTTP answer at all
            status, url, body = None, path, repr(error)
        return Answer(path, started, time.monotonic(), status, url, body)

    def _run(self, offset: int) -> None:
        paths = list(self.pages)
        deadline = time.monotonic() + LOAD_LIMIT_SECONDS
        n = offset
        while not self.stopping.is_set() and time.monotonic() < deadline:
            self.answers.append(self._fetch(paths[n % len(paths)]))
            n += 1

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def first_ok_of_every_page(self, *, after: float, timeout: float) -> float | None:
        """When the last page to recover first answered 200 (requests started `after`), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            firsts = {}
            for answer in list(self.answers):
                if answer.status == 200 and answer.started >= after:
                    firsts[answer.path] = min(firsts.get(answer.path, answer.finished), answer.finished)
            if len(firsts) == len(self.pages):
                return max(firsts.values())
            time.sleep(0.05)
        return None


def unavailable_answer_problems(answer: Answer) -> list[str]:
    """What is wrong with a 503: it must say the service is briefly unavailable and show no internals."""
    problems = [f"shows {word!r}" for word in ERROR_INTERNALS if word in answer.body]
    if answer.path == "/healthz":
        if json.loads(answer.body) != {"status": "unavailable", "database": "down"}:
            problems.append(f"health check says {answer.body}")
    elif answer.path.startswith("/api/"):
        if json.loads(answer.body).get("error", {}).get("code") != "unavailable":
            problems.append(f"API error is {answer.body}")
    elif "briefly unavailable" not in answer.body:
        problems.append("the page does not say the service is briefly unavailable")
    return problems


def seed_member_with_chapter():
    membership = MembershipFactory(organizer=True)
    NeedFactory(chapter=membership.chapter, asker=membership.member)
    ApiTokenFactory(organizer=membership, secret=API_SECRET)
    return membership.member.email, membership.chapter.slug


def test_postgresql_restart_under_load_gives_503s_then_200s_without_restarting_the_app(
    private_postgres, tmp_path
):
    database_url = private_postgres.create_database("referral_hub")
    # Failing fast, the load is thousands of API requests a minute: above the API's own rate limits.
    unlimited = "100000 per minute"
    environment = app_environment(
        database_url, RATELIMIT_API_PER_TOKEN=unlimited, RATELIMIT_API_PER_ADDRESS=unlimited
    )
    migrate(environment)
    email, slug = seed(database_url, seed_member_with_chapter)
    server = AppServer("web", environment, tmp_path)
    try:
        server.wait_until_serving()
        browser = HttpClient(server.url)
        _, landed, _ = browser.submit("/login", {"email": email, "password": PASSWORD})
        assert landed.endswith("/dashboard"), landed
        pages = {
            f"/chapters/{slug}/": {},
            "/dashboard": {},
            "/healthz": {},
            f"/api/v1/chapters/{slug}/summary": {"Authorization": f"Bearer {API_SECRET}"},
        }
        with Load(browser, pages) as load:
            time.sleep(1.5)
            stopping = time.monotonic()
            private_postgres.stop("fast")
            down = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            starting = time.monotonic()
            private_postgres.start()
            up = time.monotonic()
            recovered = load.first_ok_of_every_page(after=up, timeout=RECOVERY_LIMIT_SECONDS)
    finally:
        stop(server)

    answers = load.answers
    before = [a for a in answers if a.finished < stopping]
    during = [a for a in answers if a.started >= down and a.finished <= starting]
    statuses = {status: sum(a.status == status for a in answers) for status in {a.status for a in answers}}
    print(
        f"\n{len(answers)} requests {statuses}; PostgreSQL stop took {down - stopping:.2f}s, "
        f"down {starting - down:.2f}s, start took {up - starting:.2f}s; {len(during)} requests while down; "
        f"all pages 200 again {recovered - up if recovered else float('nan'):.2f}s after it accepted "
        f"connections; gunicorn logged {dict(server.requests_by_status())}"
    )
    assert before and all(a.status == 200 for a in before), {(a.path, a.status) for a in before}
    assert len(during) >= 20, "too few requests while PostgreSQL was down to judge the outage"
    assert {a.status for a in during} == {503}, {(a.path, a.status) for a in during if a.status != 503}
    assert {a.path for a in during} == set(pages)
    # Requests that straddle the stop or the start may be either, but nothing else, ever.
    assert {a.status for a in answers} <= {200, 503}, {(a.path, a.status, a.body[:300]) for a in answers}
    problems = {(a.path, p) for a in answers if a.status == 503 for p in unavailable_answer_problems(a)}
    assert not problems, problems
    assert recovered is not None, f"not every page answered 200 within {RECOVERY_LIMIT_SECONDS}s of the start"
    after = [a for a in answers if a.started >= recovered]
    assert all(a.status == 200 for a in after), {(a.path, a.status) for a in after}
    # The session survived: the dashboard after the outage is the member's, not the login page.
    assert all(a.url.endswith(a.path) for a in after), {a.url for a in after}
    assert "Traceback" not in server.log, server.log[-5000:]
    assert 500 not in server.requests_by_status()
