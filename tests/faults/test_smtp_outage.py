"""Introductions made while the SMTP server is down are all mailed, once each, when it is back."""

import itertools
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from referral_hub.extensions import db
from referral_hub.introductions.models import Introduction
from referral_hub.mail.models import OutboxStatus
from referral_hub.mail.services import MAX_ATTEMPTS
from tests.factories import PASSWORD, ChapterFactory, MembershipFactory
from tests.journeys.conftest import CSRF, HttpClient

from .conftest import Mailbox, smtp_server, unlistened_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.live]

INTRODUCERS = 10
PARTIES = 40  # 780 pairs: each introduction needs a pair with no introduction pending
INTRODUCTIONS = 500
EMAILS = 2 * INTRODUCTIONS  # one request to each party
# Seconds before the first retry, doubling each time. The attempt limit stays at its default
# (MAX_ATTEMPTS = 30): at this base, 30 attempts span days, so the outage cannot exhaust them.
RETRY_BASE_SECONDS = 1.0
INTRODUCTION_PAGE = re.compile(r"/introductions/\d+$")


def seed_chapter(live_db) -> tuple[list[str], list[tuple[int, str]]]:
    """A chapter of introducers and parties; returns the introducers' emails and the parties."""
    with live_db.app.app_context():
        chapter = ChapterFactory()
        introducers = [MembershipFactory(chapter=chapter).member for _ in range(INTRODUCERS)]
        parties = [MembershipFactory(chapter=chapter).member for _ in range(PARTIES)]
        db.session.commit()
        return [m.email for m in introducers], [(m.id, m.display_name) for m in parties]


def note_for(number: int, first: str, second: str) -> str:
    """A personal note, different for every introduction (an introducer may not reuse one)."""
    return (
        f"{first} keeps the books for {number + 3} family firms and {second} is looking for exactly "
        f"that kind of bookkeeper before the year end; introduction {number} of this week."
    )


def make_introductions(base_url: str, email: str, work: list[tuple[int, tuple, tuple]]) -> list[tuple]:
    """Log in as the introducer and make each introduction through the form, as a member would.

    Returns (method, path, status, final url) for every page asked for.
    """
    browser = HttpClient(base_url)
    pages = []
    status, _, html = browser.get("/login")
    pages.append(("GET", "/login", status, ""))
    status, url, _ = browser.request(
        "POST", "/login", {"email": email, "password": PASSWORD, "csrf_token": CSRF.search(html).group(1)}
    )
    pages.append(("POST", "/login", status, url))
    for number, (first_id, first_name), (second_id, second_name) in work:
        status, _, html = browser.get("/introductions/new")
        pages.append(("GET", "/introductions/new", status, ""))
        token = CSRF.search(html)
        status, url, _ = browser.request(
            "POST",
            "/introductions/new",
            {
                "first_id": first_id,
                "second_id": second_id,
                "note": note_for(number, first_name, second_name),
                "csrf_token": token.group(1) if token else "",
            },
        )
        pages.append(("POST", "/introductions/new", status, url))
    return pages


def test_introductions_made_while_smtp_is_down_are_all_mailed_once_when_it_is_back(live_db, processes):
    introducers, parties = seed_chapter(live_db)
    pairs = list(itertools.combinations(parties, 2))[:INTRODUCTIONS]
    smtp_port = unlistened_port()  # nothing listens here until the outage ends
    base_url = processes.gunicorn(smtp_port)
    worker = processes.worker("worker", smtp_port, OUTBOX_RETRY_BASE_SECONDS=RETRY_BASE_SECONDS)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=INTRODUCERS) as pool:
        shares = [[(n, *pairs[n]) for n in range(i, INTRODUCTIONS, INTRODUCERS)] for i in range(INTRODUCERS)]
        answered = pool.map(make_introductions, itertools.repeat(base_url), introducers, shares)
        pages = [page for share in answered for page in share]
    introducing_seconds = time.monotonic() - started

    failed = [page for page in pages if not 200 <= page[2] < 400]
    assert failed == [], failed[:10]
    created = [page for page in pages if page[0] == "POST" and INTRODUCTION_PAGE.search(page[3])]
    assert len(created) == INTRODUCTIONS
    with live_db.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Introduction)) == INTRODUCTIONS

    # Every email has been tried and refused at least once before the server comes back.
    waited = wait_until(
        lambda: all(row.attempts >= 1 for row in live_db.outbox()),
        timeout=60,
        what="the worker tried every email while SMTP was down",
        every=1.0,
    )
    outbox = live_db.outbox()
    assert len(outbox) == EMAILS
    assert {row.status for row in outbox} == {OutboxStatus.PENDING}
    assert all(row.last_error.startswith("cannot open an SMTP session") for row in outbox)
    attempts_during_outage = sum(row.attempts for row in outbox)
    assert worker.poll() is None, processes.log("worker")

    with smtp_server(Mailbox(), smtp_port) as mailbox:
        draining_seconds = wait_until(
            lambda: live_db.pending() == 0, timeout=240, what="the outbox drained", every=0.5
        )
        assert processes.stop(worker) == 0

    outbox = live_db.outbox()
    assert {row.status for row in outbox} == {OutboxStatus.SENT}  # none dead-lettered
    received = mailbox.received()
    assert set(received) == {row.message_id for row in outbox}
    assert sum(received.values()) == EMAILS  # each Message-ID exactly once
    attempts = [row.attempts for row in outbox]
    assert max(attempts) < MAX_ATTEMPTS
    for name in ("worker", "gunicorn"):
        log = processes.log(name)
        assert "Traceback" not in log, log[-3000:]
    print(
        f"\n{INTRODUCTIONS} introductions ({len(pages)} pages) in {introducing_seconds:.1f}s; "
        f"every email tried {waited:.1f}s later ({attempts_during_outage} attempts by then); "
        f"drained {EMAILS} emails {draining_seconds:.1f}s after SMTP came back; "
        f"{sum(attempts) - EMAILS} retries in all, at most {max(attempts)} attempts for one email"
    )
