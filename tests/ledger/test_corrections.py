"""Grants, reversals and welcome credits, called as services."""

import pytest
from sqlalchemy import func, select

from referral_hub.chapters import services as chapters
from referral_hub.chapters.policy import update_policy
from referral_hub.extensions import db
from referral_hub.ledger import organizing, posting, queries, verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from tests.factories import InvitationFactory, MemberFactory, MembershipFactory

from .conftest import give


def transaction_count() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


# Grants -----------------------------------------------------------------------------------------


def test_a_grant_moves_credits_from_the_pool_with_its_memo_and_author(chapter, organizer, ann):
    grant = organizing.grant(
        chapter, member_id=ann.id, amount=5, memo="Hosted the breakfast", granted_by=organizer
    )
    assert queries.balance(chapter, ann) == 5
    assert (grant.kind, grant.memo, grant.caused_by_id) == (
        Kind.GRANT,
        "Hosted the breakfast",
        organizer.id,
    )


def test_a_negative_grant_takes_credits_back_but_never_below_zero(chapter, organizer, ann):
    give(chapter, ann, 3)
    organizing.grant(chapter, member_id=ann.id, amount=-2, memo="Double-counted intro", granted_by=organizer)
    assert queries.balance(chapter, ann) == 1
    with pytest.raises(organizing.CannotTakeBack, match="Ann has 1 credit, so you cannot take back 2"):
        organizing.grant(chapter, member_id=ann.id, amount=-2, memo="Again", granted_by=organizer)
    assert queries.balance(chapter, ann) == 1


@pytest.mark.parametrize(
    ("amount", "memo", "error"),
    [
        (5, "", organizing.MemoRequired),
        (5, "   ", organizing.MemoRequired),
        (0, "Nothing", organizing.InvalidAmount),
        (1001, "Too much", organizing.InvalidAmount),
        (-1001, "Too much", organizing.InvalidAmount),
        (2.5, "A fraction", organizing.InvalidAmount),
    ],
)
def test_a_bad_grant_is_refused_and_writes_nothing(chapter, organizer, ann, amount, memo, error):
    with pytest.raises(error):
        organizing.grant(chapter, member_id=ann.id, amount=amount, memo=memo, granted_by=organizer)
    assert transaction_count() == 0


def test_a_grant_to_someone_outside_the_chapter_is_refused(chapter, organizer):
    outsider = MembershipFactory().member
    with pytest.raises(posting.NotAMember):
        organizing.grant(chapter, member_id=outsider.id, amount=5, memo="Nice try", granted_by=organizer)
    assert transaction_count() == 0


def test_one_grant_form_submitted_twice_grants_once(chapter, organizer, ann):
    for _ in range(2):
        organizing.grant(
            chapter, member_id=ann.id, amount=5, memo="Thanks", granted_by=organizer, request_key="abc"
        )
    assert queries.balance(chapter, ann) == 5
    assert transaction_count() == 1


# Reversals --------------------------------------------------------------------------------------


def test_a_reversal_mirrors_the_original_and_points_at_it(chapter, organizer, ann):
    original = give(chapter, ann, 3, subject_type="introduction", subject_id=7)
    reversal = organizing.reverse(original, memo="The introduction was a duplicate", caused_by=organizer)
    assert reversal.reverses_id == original.id and reversal.kind is Kind.REVERSAL
    assert (reversal.subject_type, reversal.subject_id) == ("introduction", 7)
    assert queries.balance(chapter, ann) == 0 and queries.pool_balance(chapter) == 0
    assert verify.verify(chapter).ok


def test_a_transaction_is_reversed_once(chapter, organizer, ann):
    original = give(chapter, ann, 3)
    organizing.reverse(original, memo="Mistake", caused_by=organizer)
    with pytest.raises(organizing.AlreadyReversed, match=f"#{original.id} was already reversed"):
        organizing.reverse(original, memo="Mistake again", caused_by=organizer)
    assert transaction_count() == 2


def test_a_reversal_cannot_be_reversed(chapter, organizer, ann):
    reversal = organizing.reverse(give(chapter, ann, 3), memo="Mistake", caused_by=organizer)
    with pytest.raises(organizing.CannotReverse, match="cannot itself be reversed"):
        organizing.reverse(reversal, memo="Undo the undo", caused_by=organizer)
    assert transaction_count() == 2


def test_a_reversal_needs_a_memo(chapter, organizer, ann):
    with pytest.raises(organizing.MemoRequired):
        organizing.reverse(give(chapter, ann, 3), memo=" ", caused_by=organizer)
    assert transaction_count() == 1


def test_a_reward_already_spent_cannot_be_reversed_below_zero(chapter, organizer, ann):
    reward = give(chapter, ann, 3)
    posting.post(
        chapter, key="need:1", kind=Kind.ASK_NEED, memo="Need", caused_by=ann,
        entries=[(ann, -2), (posting.POOL, 2)],
    )  # fmt: skip
    with pytest.raises(organizing.CannotReverse, match="take Ann below zero: they have 1 credit"):
        organizing.reverse(reward, memo="Duplicate", caused_by=organizer)
    assert queries.balance(chapter, ann) == 1


def test_reversing_an_ask_refunds_the_asker(chapter, organizer, ann):
    give(chapter, ann, 2)
    spent = posting.post(
        chapter, key="need:1", kind=Kind.ASK_NEED, memo="Need", caused_by=ann,
        entries=[(ann, -2), (posting.POOL, 2)],
    )  # fmt: skip
    organizing.reverse(spent, memo="Posted by mistake", caused_by=organizer)
    assert queries.balance(chapter, ann) == 2


# Welcome credits --------------------------------------------------------------------------------


def set_policy(chapter, organizer, **settings):
    update_policy(chapter, changed_by=organizer, settings=settings)


def test_no_welcome_credits_by_default(chapter):
    membership = MembershipFactory(chapter=chapter)
    assert posting.welcome(membership) is None
    assert transaction_count() == 0


def test_welcome_credits_are_posted_once_per_membership(chapter, organizer):
    set_policy(chapter, organizer, welcome_credits=4)
    membership = MembershipFactory(chapter=chapter)
    first = posting.welcome(membership)
    set_policy(chapter, organizer, welcome_credits=6)
    assert posting.welcome(membership).id == first.id
    assert queries.balance(chapter, membership.member) == 4


def test_an_approved_request_to_join_gets_welcome_credits(chapter, organizer):
    set_policy(chapter, organizer, welcome_credits=3)
    membership = MembershipFactory(chapter=chapter, pending=True)
    chapters.approve(membership)
    assert queries.balance(chapter, membership.member) == 3


def test_an_accepted_invitation_gets_welcome_credits_and_rejoining_does_not_repeat_them(chapter, organizer):
    set_policy(chapter, organizer, welcome_credits=2)
    invitee = MemberFactory()
    InvitationFactory(chapter=chapter, secret="first", invited_by=organizer, email=invitee.email)
    membership = chapters.accept_invitation("first", invitee)
    chapters.leave(membership)
    InvitationFactory(chapter=chapter, secret="second", invited_by=organizer, email=invitee.email)
    chapters.accept_invitation("second", invitee)
    assert queries.balance(chapter, invitee) == 2
    assert transaction_count() == 1
