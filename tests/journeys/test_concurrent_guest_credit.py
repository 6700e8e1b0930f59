"""200 simultaneous outcome reports on one guest introduction credit its introducer once."""

import threading
from concurrent.futures import ThreadPoolExecutor

from flask_migrate import upgrade
from sqlalchemy import func, select

from referral_hub import create_app
from referral_hub.accounts.models import Member
from referral_hub.database import writing
from referral_hub.errors import Conflict
from referral_hub.extensions import db
from referral_hub.introductions import answering, making, outcomes
from referral_hub.introductions.guests import GuestDetails
from referral_hub.introductions.models import Consent, Decision, Introduction, OutcomeKind
from referral_hub.ledger import verify
from referral_hub.ledger.models import LedgerTransaction
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

from .conftest import live_database

REPORTS = 200


def test_two_hundred_simultaneous_reports_of_a_meeting_credit_once(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": live_database(tmp_path),
            "MAIL_TRANSPORT": "memory",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 0, "pool_timeout": 300},
        }
    )
    with app.app_context():
        upgrade()
        chapter = ChapterFactory()
        introducer, member = (
            MembershipFactory(chapter=chapter, member=MemberFactory()).member for _ in range(2)
        )
        intro = making.introduce(
            introducer,
            first_id=member.id,
            guest=GuestDetails(name="Gail Guest", email="gail@example.com"),
            note="Gail buys ovens for a chain of bakeries and Bert services exactly those ovens.",
        )
        for consent in db.session.scalars(select(Consent).where(Consent.introduction_id == intro.id)):
            answering.answer(consent, Decision.ACCEPT)
        intro_id, member_id = intro.id, member.id
        db.session.commit()

    start = threading.Barrier(REPORTS)

    def report(n: int) -> str:
        with app.app_context(), writing():
            start.wait()
            try:
                kind = OutcomeKind.MET if n % 2 else OutcomeKind.BUSINESS_CLOSED
                outcomes.report_outcome(
                    db.session.get(Introduction, intro_id),
                    db.session.get(Member, member_id),
                    kind,
                    500 if kind is OutcomeKind.BUSINESS_CLOSED else None,
                )
                db.session.commit()
                return "reported"
            except Conflict:
                db.session.rollback()
                return "conflict"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=REPORTS) as pool:
        results = list(pool.map(report, range(REPORTS)))

    assert set(results) <= {"reported", "conflict"} and "reported" in results
    with app.app_context():
        credits = db.session.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.idempotency_key == f"intro:{intro_id}:completed")
        )
        assert credits == 1
        assert verify.verify().ok
        db.session.remove()
        db.engine.dispose()
