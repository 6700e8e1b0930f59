"""`flask ledger verify`: passes on sound books, fails and names the violation on books corrupted on purpose.

Corruption goes around the application with raw SQL. On PostgreSQL the append-only trigger would stop
it, so those tests set the trigger aside inside the test's own (rolled-back) transaction.
"""

import pytest
from sqlalchemy import text

from referral_hub.extensions import db
from referral_hub.ledger import organizing, posting
from referral_hub.ledger.models import Kind
from tests.factories import ChapterFactory, MembershipFactory

from .conftest import APPEND_ONLY_TABLES, give


@pytest.fixture
def books(chapter, organizer, ann, bob):
    """A small chapter ledger with rewards, an ask, a grant and a reversal."""
    reward = give(chapter, ann, 3)
    give(chapter, bob, 3)
    posting.post(
        chapter, key="need:1", kind=Kind.ASK_NEED, memo="Need", caused_by=ann,
        entries=[(ann, -2), (posting.POOL, 2)],
    )  # fmt: skip
    grant = organizing.grant(chapter, member_id=bob.id, amount=4, memo="Breakfast host", granted_by=organizer)
    organizing.reverse(grant, memo="Wrong member", caused_by=organizer)
    return reward


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["ledger", "verify", *args])


def corrupt(statement: str, **values) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    db.session.execute(text(statement), values)


def test_verify_passes_on_sound_books_and_says_what_it_checked(app, books):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "5 transactions" in result.output and "10 entries" in result.output
    for invariant in (
        "every transaction has at least two entries",
        "every transaction's entries sum to zero",
        "each chapter's ledger sums to zero",
        "every cached balance equals the sum of its account's entries",
        "no member account is, or ever was, below zero",
        "no transaction is reversed twice",
        "every reversal exactly mirrors the transaction it reverses",
    ):
        assert f"ok    {invariant}" in result.output
    assert "All 8 checks passed." in result.output


def test_an_entry_changed_behind_the_ledger_s_back_unbalances_it(app, books, ann):
    corrupt(
        "UPDATE ledger_entries SET amount = amount + 1 WHERE transaction_id = :id AND amount > 0", id=books.id
    )
    result = verify(app)
    assert result.exit_code == 1
    assert f"transaction #{books.id} sums to +1" in result.output
    assert "chapter riverside: entries sum to +1, cached balances to +0" in result.output
    assert "cached 1, entries sum to 2" in result.output
    assert "checks failed" in result.output


def test_a_cached_balance_that_drifts_from_its_entries_is_caught(app, books, ann):
    corrupt("UPDATE ledger_accounts SET balance = balance + 5 WHERE member_id = :id", id=ann.id)
    result = verify(app)
    assert result.exit_code == 1
    assert "cached 6, entries sum to 1" in result.output
    assert "cached balances to +5" in result.output


def test_a_transaction_with_a_single_entry_is_caught(app, books):
    corrupt("DELETE FROM ledger_entries WHERE transaction_id = :id AND amount < 0", id=books.id)
    result = verify(app)
    assert result.exit_code == 1
    assert f"transaction #{books.id} has 1 entry" in result.output


def test_a_member_balance_that_dipped_below_zero_in_history_is_caught(app, books, ann):
    # Move the ask before the reward that paid for it: the balances end right but the history did not.
    corrupt("UPDATE ledger_entries SET id = id + 1000 WHERE transaction_id = :id", id=books.id)
    result = verify(app)
    assert result.exit_code == 1
    assert "lowest point in its history -2" in result.output


def test_a_reversal_of_a_reversal_and_a_lopsided_reversal_are_caught(app, chapter, organizer, ann, books):
    reversal = organizing.reverse(give(chapter, ann, 2), memo="Duplicate", caused_by=organizer)
    corrupt(
        "INSERT INTO ledger_transactions (chapter_id, kind, idempotency_key, memo, reverses_id, created_at) "
        "VALUES (:chapter, 'reversal', 'forged', 'forged', :reversal, CURRENT_TIMESTAMP)",
        chapter=chapter.id,
        reversal=reversal.id,
    )
    forged = db.session.scalar(text("SELECT id FROM ledger_transactions WHERE idempotency_key = 'forged'"))
    result = verify(app)
    assert result.exit_code == 1
    assert f"reversal #{forged} reverses #{reversal.id}, which is itself a reversal" in result.output
    assert f"reversal #{forged} leaves" in result.output


def test_the_chapter_option_checks_one_chapter_only(app, books):
    elsewhere = ChapterFactory(slug="hilltop")
    give(elsewhere, MembershipFactory(chapter=elsewhere).member, 2)
    corrupt(
        "UPDATE ledger_entries SET amount = amount + 1 WHERE transaction_id = :id AND amount > 0", id=books.id
    )
    assert verify(app, "--chapter", "hilltop").exit_code == 0
    assert "ledger of hilltop: 1 chapter," in verify(app, "--chapter", "hilltop").output
    assert verify(app, "--chapter", "riverside").exit_code == 1


def test_an_unknown_chapter_is_a_usage_error(app):
    result = verify(app, "--chapter", "nowhere")
    assert result.exit_code == 2
    assert "No chapter has the slug 'nowhere'" in result.output
