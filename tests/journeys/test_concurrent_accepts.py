"""200 simultaneous accepts of one email link against gunicorn with several workers credit once."""

import os
import re
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select

from referral_hub import create_app
from referral_hub.extensions import db
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import Decision, Introduction, IntroState
from referral_hub.ledger.models import LedgerTransaction
from referral_hub.mail.models import OutboxMessage
from tests.conftest import free_port
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

from .conftest import CSRF, HttpClient, live_database

PROJECT = Path(__file__).resolve().parents[2]
CLICKS = 200


def secret_for(address: str) -> str:
    body = db.session.scalars(
        select(OutboxMessage.body_text).where(OutboxMessage.to_address == address)
    ).all()[-1]
    return re.search(r"/i/(\S+)", body).group(1)


def test_two_hundred_simultaneous_accepts_of_one_link_credit_once(tmp_path):
    database_url = live_database(tmp_path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "MAIL_TRANSPORT": "memory"})
    with app.app_context():
        upgrade()
        chapter = ChapterFactory()
        introducer, first, second = (
            MembershipFactory(chapter=chapter, member=MemberFactory()).member for _ in range(3)
        )
        intro = making.introduce(
            introducer,
            first_id=first.id,
            second_id=second.id,
            note="Both of you sell to hospitals and keep asking me about procurement rules.",
        )
        answering.answer(answering.consent_for_link(secret_for(second.email)), Decision.ACCEPT)
        link = f"/i/{secret_for(first.email)}"
        intro_id = intro.id
        db.session.commit()

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REFERRAL_HUB_ENV": "testing",
        "MAIL_TRANSPORT": "memory",
        "SECRET_KEY": "concurrency-test",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "4",
            "--threads",
            "8",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        browser = HttpClient(f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                status, _, page = browser.get(link)
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200, page
        token = CSRF.search(page).group(1)
        body = urllib.parse.urlencode({"decision": "accept", "csrf_token": token})

        def click(_n):
            return browser.request("POST", link, dict(urllib.parse.parse_qsl(body)))[0]

        with ThreadPoolExecutor(max_workers=CLICKS) as pool:
            statuses = list(pool.map(click, range(CLICKS)))
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    assert statuses.count(200) == 1, sorted(set(statuses))
    assert all(s in (200, 410) for s in statuses), sorted(set(statuses))
    assert b"Traceback" not in errors, errors.decode()[-3000:]
    with app.app_context():
        assert db.session.get(Introduction, intro_id).state is IntroState.COMPLETED
        credits = db.session.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.idempotency_key == f"intro:{intro_id}:completed")
        )
        assert credits == 1
        db.session.remove()
        db.engine.dispose()
