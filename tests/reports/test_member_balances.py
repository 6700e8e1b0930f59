"""Each member's balance kept on their figures row moves with every posting, in the posting's own
transaction; `flask reports verify` recounts it from the ledger's entries; the members table sorts by it."""

import pytest
from sqlalchemy import select, update

from referral_hub.chapters import services as chapters
from referral_hub.extensions import db
from referral_hub.ledger import organizing, posting, queries
from referral_hub.ledger.models import Kind
from referral_hub.needs import services as needs
from referral_hub.reports.counting import differences, rebuild
from referral_hub.reports.members import MemberQuery, member_rows
from referral_hub.reports.models import MemberFigures
from tests.factories import ChapterFactory, MembershipFactory


@pytest.fixture
def harbour():
    """A chapter of an organizer and two members, none with credits yet."""
    chapter = ChapterFactory(slug="harbour")
    olga, ann, bob = (
        MembershipFactory(chapter=chapter, organizer=index == 0, member__display_name=name).member
        for index, name in enumerate(("Olga", "Ann", "Bob"))
    )
    return chapter, olga, ann, bob


def kept_balance(chapter, member) -> int:
    return db.session.scalar(
        select(MemberFigures.balance).where(
            MemberFigures.chapter_id == chapter.id, MemberFigures.member_id == member.id
        )
    )


def credit(chapter, member, amount: int, key: str):
    return posting.post(
        chapter,
        key=key,
        kind=Kind.GRANT,
        memo="Thanks for hosting the breakfast",
        caused_by=None,
        entries=[(posting.POOL, -amount), (member, amount)],
    )


def assert_kept(chapter, member, expected: int) -> None:
    """The kept balance is the ledger's, and every kept figure matches its recount."""
    assert (kept_balance(chapter, member), queries.balance(chapter, member)) == (expected, expected)
    assert differences(db.session.connection()) == []


def test_the_kept_balance_follows_a_credit_a_spend_and_a_reversal(harbour):
    chapter, olga, ann, bob = harbour
    assert_kept(chapter, ann, 0)
    credit(chapter, ann, 5, "test:credit")
    assert_kept(chapter, ann, 5)
    needs.post_need(chapter, ann, title="A bookkeeper", details="For a small shop.")  # costs 2
    assert_kept(chapter, ann, 3)
    mistaken = credit(chapter, bob, 4, "test:credit-bob")
    assert_kept(chapter, bob, 4)
    organizing.reverse(mistaken, memo="Granted to the wrong member", caused_by=olga)
    assert_kept(chapter, bob, 0)
    assert_kept(chapter, ann, 3)


def test_a_repeated_key_posts_nothing_and_moves_no_kept_balance(harbour):
    chapter, _olga, ann, _bob = harbour
    first = credit(chapter, ann, 5, "test:once")
    assert credit(chapter, ann, 5, "test:once") == first
    assert_kept(chapter, ann, 5)


def test_a_refused_ask_moves_no_kept_balance(harbour):
    chapter, _olga, ann, _bob = harbour
    credit(chapter, ann, 1, "test:one-credit")
    with pytest.raises(posting.InsufficientCredits):
        needs.post_need(chapter, ann, title="A bookkeeper", details="For a small shop.")
    assert_kept(chapter, ann, 1)


def test_the_kept_balance_stays_with_a_member_who_leaves_and_returns(harbour):
    chapter, _olga, ann, _bob = harbour
    credit(chapter, ann, 3, "test:before-leaving")
    membership = chapters.membership_in(chapter, ann.id)
    chapters.leave(membership)
    chapters.readmit(membership)
    assert_kept(chapter, ann, 3)


def test_posting_writes_the_kept_balance_of_each_member_in_one_statement(harbour, count_queries):
    chapter, _olga, ann, _bob = harbour
    credit(chapter, ann, 2, "test:accounts-open")  # both accounts exist from here on
    with count_queries() as log:
        credit(chapter, ann, 3, "test:counted")
    # The transaction, its accounts, each account's balance (two), the entries; the chapter's zone, its
    # day's credits, the member's kept balance (new) and the day's transaction count.
    assert log.count == 9
    print(*log.queries, sep="\n---\n")
    assert sum("report_member_figures" in statement for statement in log.queries) == 1
    assert_kept(chapter, ann, 5)


def test_verify_names_a_wrong_kept_balance_and_rebuild_restores_it(app, harbour):
    chapter, _olga, ann, _bob = harbour
    credit(chapter, ann, 5, "test:credit")
    db.session.execute(
        update(MemberFigures)
        .where(MemberFigures.chapter_id == chapter.id, MemberFigures.member_id == ann.id)
        .values(balance=7)
    )
    result = app.test_cli_runner().invoke(args=["reports", "verify"])
    assert result.exit_code == 1
    assert f"(chapter_id {chapter.id}, member_id {ann.id}): balance is 7, the sources say 5" in result.output
    rebuild(db.session.connection())
    assert_kept(chapter, ann, 5)


def test_sorted_by_balance_ties_go_by_name_and_members_without_an_account_count_zero():
    """Ann and bob tie (names compared case-folded); Cat spent all she had, Dan and Olga never had an
    account; Eve, the richest, left the chapter and is not listed."""
    chapter = ChapterFactory(slug="quay")
    _olga, ann, bob, cat, _dan, eve = (
        MembershipFactory(chapter=chapter, organizer=index == 0, member__display_name=name).member
        for index, name in enumerate(("Olga", "Ann", "bob", "Cat", "Dan", "Eve"))
    )
    for member, amount in ((ann, 4), (bob, 4), (cat, 2), (eve, 9)):
        credit(chapter, member, amount, f"test:{member.display_name}")
    needs.post_need(chapter, cat, title="A bookkeeper", details="For a small shop.")
    chapters.leave(chapters.membership_in(chapter, eve.id))

    def sorted_by_balance(order: str) -> list[tuple[str, int]]:
        rows, total = member_rows(chapter.id, MemberQuery(sort="balance", order=order), zone="UTC")
        assert total == 5
        return [(row.display_name, row.balance) for row in rows]

    assert sorted_by_balance("asc") == [("Cat", 0), ("Dan", 0), ("Olga", 0), ("Ann", 4), ("bob", 4)]
    assert sorted_by_balance("desc") == [("Ann", 4), ("bob", 4), ("Cat", 0), ("Dan", 0), ("Olga", 0)]
