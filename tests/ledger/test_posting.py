"""post(): balanced, idempotent, append-only transactions with cached balances that never go below zero."""

import pytest
from sqlalchemy import func, select

from referral_hub.extensions import db
from referral_hub.ledger import posting, queries
from referral_hub.ledger.models import Kind, LedgerAccount, LedgerEntry, LedgerTransaction
from referral_hub.reports.models import TransactionDay
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

from .conftest import give


def counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (LedgerTransaction, LedgerEntry, LedgerAccount)
    )


def ask(chapter, member, cost: int, key: str, kind=Kind.ASK_NEED):
    return posting.post(
        chapter,
        key=key,
        kind=kind,
        memo="Posted a need",
        caused_by=member,
        entries=[(member, -cost), (posting.POOL, cost)],
    )


def test_a_posting_writes_entries_that_sum_to_zero_and_moves_cached_balances(chapter, ann):
    transaction = give(chapter, ann, 3, subject_type="introduction", subject_id=42)
    amounts = db.session.scalars(
        select(LedgerEntry.amount).where(LedgerEntry.transaction_id == transaction.id)
    )
    assert sorted(amounts) == [-3, 3]
    assert queries.balance(chapter, ann) == 3
    assert queries.pool_balance(chapter) == -3
    assert (transaction.subject_type, transaction.subject_id) == ("introduction", 42)


def test_accounts_open_on_first_use_one_per_member_and_one_pool(chapter, ann, bob):
    assert counts()[2] == 0
    give(chapter, ann, 3)
    give(chapter, bob, 2)
    give(chapter, ann, 1)
    holders = db.session.scalars(
        select(LedgerAccount.member_id).where(LedgerAccount.chapter_id == chapter.id)
    )
    assert sorted(holders, key=lambda holder: holder or 0) == [None, *sorted([ann.id, bob.id])]


def test_posting_the_same_key_twice_returns_the_first_transaction_and_writes_nothing(chapter, ann):
    first = give(chapter, ann, 3, key="intro:42:completed")
    before = counts()
    again = give(chapter, ann, 3, key="intro:42:completed", memo="worded differently")
    assert again.id == first.id
    assert counts() == before
    assert queries.balance(chapter, ann) == 3


def test_a_repeated_key_changes_no_figure_and_keeps_what_the_caller_wrote_before_it(chapter, ann):
    give(chapter, ann, 3, key="intro:42:completed")
    before, kept = counts(), db.session.scalar(select(func.sum(TransactionDay.transactions)))
    ann.headline = "Written before the repeat"  # pending when the repeat's insert fails
    give(chapter, ann, 3, key="intro:42:completed")
    assert counts() == before
    assert db.session.scalar(select(func.sum(TransactionDay.transactions))) == kept == 1
    assert (queries.balance(chapter, ann), queries.pool_balance(chapter)) == (3, -3)
    db.session.expire_all()
    assert ann.headline == "Written before the repeat"


def test_a_different_transaction_under_a_used_key_is_refused(chapter, ann, bob):
    give(chapter, ann, 3, key="intro:42:completed")
    before = counts()
    with pytest.raises(posting.IdempotencyConflict):
        give(chapter, bob, 3, key="intro:42:completed")
    with pytest.raises(posting.IdempotencyConflict):
        give(chapter, ann, 4, key="intro:42:completed")
    assert counts() == before


def test_an_ask_beyond_the_balance_is_refused_with_balance_cost_and_how_to_earn(chapter, ann):
    give(chapter, ann, 1)
    before = counts()
    with pytest.raises(posting.InsufficientCredits) as refused:
        ask(chapter, ann, 2, "need:1:posted")
    message = refused.value.message
    assert "You have 1 credit in Riverside" in message and "costs 2 credits" in message
    assert "making an introduction that both sides accept" in message
    assert counts() == before
    assert queries.balance(chapter, ann) == 1


def test_an_ask_of_exactly_the_balance_goes_through_and_leaves_zero(chapter, ann):
    give(chapter, ann, 2)
    ask(chapter, ann, 2, "need:1:posted")
    assert queries.balance(chapter, ann) == 0


def test_a_new_member_with_no_account_cannot_ask_and_gets_no_account(chapter, ann):
    with pytest.raises(posting.InsufficientCredits, match="You have 0 credits"):
        ask(chapter, ann, 1, "intro-request:1", kind=Kind.ASK_CONNECTOR)
    assert counts() == (0, 0, 0)


def test_the_pool_may_go_below_zero(chapter, ann):
    give(chapter, ann, 50)
    assert queries.pool_balance(chapter) == -50


@pytest.mark.parametrize(
    "entries",
    [
        [(None, -3)],
        [(None, -3), ("ann", 2)],
        [(None, 0), ("ann", 0)],
        [(None, -3), ("ann", 1), ("ann", 2)],
        [(None, -1.5), ("ann", 1.5)],
    ],
    ids=["one entry", "unbalanced", "zero amounts", "one account twice", "fractions"],
)
def test_a_malformed_transaction_is_a_programming_error_and_writes_nothing(chapter, ann, entries):
    holders = {"ann": ann, None: None}
    with pytest.raises(ValueError):
        posting.post(
            chapter,
            key="bad",
            kind=Kind.GRANT,
            memo="bad",
            caused_by=None,
            entries=[(holders[holder], amount) for holder, amount in entries],
        )
    assert counts() == (0, 0, 0)


def test_credits_go_only_to_members_of_the_chapter(chapter):
    stranger = MemberFactory()
    with pytest.raises(posting.NotAMember):
        give(chapter, stranger, 3)
    assert counts() == (0, 0, 0)


def test_balances_are_kept_per_chapter(chapter, ann):
    other = ChapterFactory(name="Hilltop")
    MembershipFactory(chapter=other, member=ann)
    give(chapter, ann, 3)
    give(other, ann, 5)
    assert queries.balance(chapter, ann) == 3
    assert {(row.chapter.name, row.balance) for row in queries.chapter_balances(ann)} == {
        ("Riverside", 3),
        ("Hilltop", 5),
    }


def test_a_long_memo_is_shortened_to_fit_rather_than_refused(chapter, ann):
    transaction = give(chapter, ann, 1, memo="word " * 200)
    assert len(transaction.memo) == 500 and transaction.memo.endswith("…")
