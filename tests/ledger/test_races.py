"""Races decided by the database: 50 threads at once, each a request that really commits.

They run on PostgreSQL (row locks, a unique index) and on SQLite (one writer at a time).
"""

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter
from referral_hub.extensions import db
from referral_hub.ledger import posting, queries, verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from referral_hub.needs import services as needs
from tests.conftest import ON_POSTGRESQL

from .conftest import APPEND_ONLY_TABLES, THREADS, give


def load(chapter_id: int, member_id: int) -> tuple[Chapter, Member]:
    return db.session.get(Chapter, chapter_id), db.session.get(Member, member_id)


def funded_chapter(committed, *, members: int, credits: int) -> tuple[int, list[int]]:
    """A committed chapter whose members hold `credits` each."""
    chapter_id, member_ids = committed.chapter(members=members)
    with committed.app.app_context():
        for member_id in member_ids:
            give(*load(chapter_id, member_id), credits)
        db.session.commit()
    return chapter_id, member_ids


def test_fifty_threads_posting_one_idempotency_key_write_one_transaction(committed):
    chapter_id, (member_id,) = committed.chapter(members=1)
    key = f"intro:{uuid.uuid4().hex}:completed"

    def complete_the_introduction(_number):
        chapter, member = load(chapter_id, member_id)
        return give(chapter, member, 3, key=key).id

    outcomes = committed.at_once(complete_the_introduction)

    assert [status for status, _ in outcomes] == ["ok"] * THREADS
    assert len({transaction_id for _, transaction_id in outcomes}) == 1
    with committed.app.app_context():
        chapter, member = load(chapter_id, member_id)
        assert (
            db.session.scalar(
                select(func.count(LedgerTransaction.id)).where(LedgerTransaction.idempotency_key == key)
            )
            == 1
        )
        assert queries.balance(chapter, member) == 3
        assert verify.verify(chapter).ok


def test_fifty_threads_spending_one_balance_never_take_it_below_zero(committed):
    chapter_id, (member_id,) = funded_chapter(committed, members=1, credits=10)

    def post_a_need(number):
        chapter, member = load(chapter_id, member_id)
        return posting.post(
            chapter, key=f"need:{uuid.uuid4().hex}:{number}", kind=Kind.ASK_NEED, memo="A need",
            caused_by=member, entries=[(member, -2), (posting.POOL, 2)],
        ).id  # fmt: skip

    outcomes = committed.at_once(post_a_need)

    statuses = [status for status, _ in outcomes]
    assert statuses.count("ok") == 5 and statuses.count("refused") == THREADS - 5
    assert all(
        isinstance(error, posting.InsufficientCredits) for status, error in outcomes if status == "refused"
    )
    with committed.app.app_context():
        chapter, member = load(chapter_id, member_id)
        assert queries.balance(chapter, member) == 0
        assert verify.verify(chapter).ok


def test_grants_and_asks_racing_on_several_accounts_neither_deadlock_nor_drift(committed):
    chapter_id, member_ids = funded_chapter(committed, members=3, credits=4)

    def give_or_take(number):
        chapter, member = load(chapter_id, member_ids[number % 3])
        amount = 1 if number % 2 else -3
        return posting.post(
            chapter, key=f"race:{uuid.uuid4().hex}", kind=Kind.GRANT, memo="race", caused_by=None,
            entries=[(posting.POOL, -amount), (member, amount)],
        ).id  # fmt: skip

    outcomes = committed.at_once(give_or_take)

    assert {status for status, _ in outcomes} <= {"ok", "refused"}
    with committed.app.app_context():
        chapter = db.session.get(Chapter, chapter_id)
        report = verify.verify(chapter)
        assert report.ok, [violation for check in report.checks for violation in check.violations]
        assert all(queries.balance(*load(chapter_id, member_id)) >= 0 for member_id in member_ids)


def test_needs_posted_racing_grants_in_one_chapter_do_not_deadlock(committed):
    """A need locks its chapter's day row before it charges the asker's account; a grant moves the
    accounts first and then counts its day: every posting takes the day row first, so neither waits
    for the other in a cycle (PostgreSQL would abort one as a deadlock)."""
    chapter_id, member_ids = funded_chapter(committed, members=2, credits=100)

    def post_or_grant(number):
        chapter, member = load(chapter_id, member_ids[number % 2])
        if number % 2:
            return needs.post_need(chapter, member, title=f"Need {number}", details="A race").id
        return give(chapter, member, 1).id

    outcomes = committed.at_once(post_or_grant)

    assert [status for status, _ in outcomes] == ["ok"] * THREADS
    with committed.app.app_context():
        report = verify.verify(db.session.get(Chapter, chapter_id))
        assert report.ok, [violation for check in report.checks for violation in check.violations]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the append-only trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET memo = 'rewritten'",
        "DELETE FROM ledger_transactions",
        *(f"TRUNCATE {table} CASCADE" for table in APPEND_ONLY_TABLES),
    ],
)
def test_updating_or_deleting_ledger_rows_fails_on_postgresql(chapter, ann, statement):
    give(chapter, ann, 3)
    with pytest.raises(DBAPIError, match="the ledger is append-only"), db.session.begin_nested():
        db.session.execute(text(statement))
    assert verify.verify(chapter).ok and queries.balance(chapter, ann) == 3
