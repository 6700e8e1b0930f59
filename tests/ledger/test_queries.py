"""The ledger pages run a fixed number of SQL queries however long the history grows.

Run with `-s` to see the figures.
"""

import uuid

from sqlalchemy import insert, select, update

from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.ledger import organizing, verify
from referral_hub.ledger.models import Kind, LedgerAccount, LedgerEntry, LedgerTransaction
from tests.conftest import Browser
from tests.factories import ChapterFactory, MembershipFactory

from .conftest import give


def add_history(chapter, member, entries: int) -> None:
    """`entries` ledger entries (half of them the member's), written in bulk, balances kept in step."""
    give(chapter, member, 1)  # opens the accounts
    transactions = entries // 2 - 1
    now = utcnow()
    batch = uuid.uuid4().hex
    ids = db.session.scalars(
        insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True),
        [
            {
                "chapter_id": chapter.id,
                "kind": Kind.INTRO_COMPLETED,
                "idempotency_key": f"bulk:{batch}:{number}",
                "memo": f"Introduction {number}",
                "subject_type": "introduction",
                "subject_id": number,
                "created_at": now,
            }
            for number in range(transactions)
        ],
    ).all()
    accounts = dict(
        db.session.execute(
            select(LedgerAccount.member_id, LedgerAccount.id).where(LedgerAccount.chapter_id == chapter.id)
        ).all()
    )
    db.session.execute(
        insert(LedgerEntry),
        [
            {"transaction_id": transaction_id, "account_id": accounts[holder], "amount": amount}
            for transaction_id in ids
            for holder, amount in ((None, -1), (member.id, 1))
        ],
    )
    for holder, amount in ((None, -transactions), (member.id, transactions)):
        db.session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == accounts[holder])
            .values(balance=LedgerAccount.balance + amount)
        )


def queries_for(app, count_queries, member, path: str) -> int:
    browser = Browser(app.test_client())
    browser.login(member.email)
    assert browser.get(path).status_code == 200
    with count_queries() as log:
        assert browser.get(path).status_code == 200
    return log.count


def test_the_ledger_page_runs_as_many_queries_at_10000_entries_as_at_1000(app, count_queries):
    counts = {}
    for entries in (1_000, 10_000):
        chapter = ChapterFactory()
        member = MembershipFactory(chapter=chapter).member
        add_history(chapter, member, entries)
        assert verify.verify(chapter).ok
        counts[entries] = queries_for(app, count_queries, member, "/ledger")
    print(f"\n/ledger: {counts[1_000]} queries at 1,000 entries, {counts[10_000]} at 10,000")
    assert counts[1_000] == counts[10_000]


def test_the_chapter_ledger_runs_as_many_queries_for_ten_times_the_data(app, count_queries):
    counts = []
    for scale in (1, 10):
        chapter = ChapterFactory()
        organizer = MembershipFactory(chapter=chapter, organizer=True).member
        for _ in range(3 * scale):
            member = MembershipFactory(chapter=chapter).member
            give(chapter, member, 3)
            organizing.grant(chapter, member_id=member.id, amount=2, memo="Host", granted_by=organizer)
        organizing.reverse(give(chapter, member, 1), memo="Duplicate", caused_by=organizer)
        counts.append(
            [
                queries_for(app, count_queries, organizer, f"/chapters/{chapter.slug}/ledger{query}")
                for query in ("", f"?member={member.id}&kind=grant", "?member_q=e", "/policy")
            ]
        )
    print(
        f"\n/chapters/<slug>/ledger, filtered, by name, policy: {counts[0]} queries at 1x, {counts[1]} at 10x"
    )
    assert counts[0] == counts[1]
