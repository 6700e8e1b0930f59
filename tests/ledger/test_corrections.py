"""Grants, reversals, welcome credits and the chapter policy, called as services."""

import pytest
from sqlalchemy import func, select

from referral_hub.chapters import services as chapters
from referral_hub.extensions import db
from referral_hub.ledger import services as ledger
from referral_hub.ledger.models import ChapterPolicy, LedgerTransaction, PolicyChange
from tests.factories import InvitationFactory, MemberFactory, MembershipFactory

from .conftest import give


def transaction_count() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


# Grants -----------------------------------------------------------------------------------------


def test_a_grant_moves_credits_from_the_pool_with_its_memo_and_author(chapter, organizer, ann):
    grant = ledger.grant(
        chapter, member_id=ann.id, amount=5, memo="Hosted the breakfast", granted_by=organizer
    )
    assert ledger.balance(chapter, ann) == 5
    assert (grant.kind, grant.memo, grant.caused_by_id) == (
        ledger.Kind.GRANT,
        "Hosted the breakfast",
        organizer.id,
    )


def test_a_negative_grant_takes_credits_back_but_never_below_zero(chapter, organizer, ann):
    give(chapter, ann, 3)
    ledger.grant(chapter, member_id=ann.id, amount=-2, memo="Double-counted intro", granted_by=organizer)
    assert ledger.balance(chapter, ann) == 1
    with pytest.raises(ledger.CannotTakeBack, match="Ann has 1 credit, so you cannot take back 2"):
        ledger.grant(chapter, member_id=ann.id, amount=-2, memo="Again", granted_by=organizer)
    assert ledger.balance(chapter, ann) == 1


@pytest.mark.parametrize(
    ("amount", "memo", "error"),
    [
        (5, "", ledger.MemoRequired),
        (5, "   ", ledger.MemoRequired),
        (0, "Nothing", ledger.InvalidAmount),
        (1001, "Too much", ledger.InvalidAmount),
        (-1001, "Too much", ledger.InvalidAmount),
        (2.5, "A fraction", ledger.InvalidAmount),
    ],
)
def test_a_bad_grant_is_refused_and_writes_nothing(chapter, organizer, ann, amount, memo, error):
    with pytest.raises(error):
        ledger.grant(chapter, member_id=ann.id, amount=amount, memo=memo, granted_by=organizer)
    assert transaction_count() == 0


def test_a_grant_to_someone_outside_the_chapter_is_refused(chapter, organizer):
    outsider = MembershipFactory().member
    with pytest.raises(ledger.NotAMember):
        ledger.grant(chapter, member_id=outsider.id, amount=5, memo="Nice try", granted_by=organizer)
    assert transaction_count() == 0


def test_one_grant_form_submitted_twice_grants_once(chapter, organizer, ann):
    for _ in range(2):
        ledger.grant(
            chapter, member_id=ann.id, amount=5, memo="Thanks", granted_by=organizer, request_key="abc"
        )
    assert ledger.balance(chapter, ann) == 5
    assert transaction_count() == 1


# Reversals --------------------------------------------------------------------------------------


def test_a_reversal_mirrors_the_original_and_points_at_it(chapter, organizer, ann):
    original = give(chapter, ann, 3, subject_type="introduction", subject_id=7)
    reversal = ledger.reverse(original, memo="The introduction was a duplicate", caused_by=organizer)
    assert reversal.reverses_id == original.id and reversal.kind is ledger.Kind.REVERSAL
    assert reversal.subject_path == "/introductions/7"
    assert ledger.balance(chapter, ann) == 0 and ledger.pool_balance(chapter) == 0
    assert ledger.verify(chapter).ok


def test_a_transaction_is_reversed_once(chapter, organizer, ann):
    original = give(chapter, ann, 3)
    ledger.reverse(original, memo="Mistake", caused_by=organizer)
    with pytest.raises(ledger.AlreadyReversed, match=f"#{original.id} was already reversed"):
        ledger.reverse(original, memo="Mistake again", caused_by=organizer)
    assert transaction_count() == 2


def test_a_reversal_cannot_be_reversed(chapter, organizer, ann):
    reversal = ledger.reverse(give(chapter, ann, 3), memo="Mistake", caused_by=organizer)
    with pytest.raises(ledger.CannotReverse, match="cannot itself be reversed"):
        ledger.reverse(reversal, memo="Undo the undo", caused_by=organizer)
    assert transaction_count() == 2


def test_a_reversal_needs_a_memo(chapter, organizer, ann):
    with pytest.raises(ledger.MemoRequired):
        ledger.reverse(give(chapter, ann, 3), memo=" ", caused_by=organizer)
    assert transaction_count() == 1


def test_a_reward_already_spent_cannot_be_reversed_below_zero(chapter, organizer, ann):
    reward = give(chapter, ann, 3)
    ledger.post(
        chapter, key="need:1", kind=ledger.Kind.ASK_NEED, memo="Need", caused_by=ann,
        entries=[(ann, -2), (ledger.POOL, 2)],
    )  # fmt: skip
    with pytest.raises(ledger.CannotReverse, match="take Ann below zero: they have 1 credit"):
        ledger.reverse(reward, memo="Duplicate", caused_by=organizer)
    assert ledger.balance(chapter, ann) == 1


def test_reversing_an_ask_refunds_the_asker(chapter, organizer, ann):
    give(chapter, ann, 2)
    spent = ledger.post(
        chapter, key="need:1", kind=ledger.Kind.ASK_NEED, memo="Need", caused_by=ann,
        entries=[(ann, -2), (ledger.POOL, 2)],
    )  # fmt: skip
    ledger.reverse(spent, memo="Posted by mistake", caused_by=organizer)
    assert ledger.balance(chapter, ann) == 2


# Welcome credits --------------------------------------------------------------------------------


def set_policy(chapter, organizer, **settings):
    ledger.update_policy(chapter, changed_by=organizer, settings=settings)


def test_no_welcome_credits_by_default(chapter):
    membership = MembershipFactory(chapter=chapter)
    assert ledger.welcome(membership) is None
    assert transaction_count() == 0


def test_welcome_credits_are_posted_once_per_membership(chapter, organizer):
    set_policy(chapter, organizer, welcome_credits=4)
    membership = MembershipFactory(chapter=chapter)
    first = ledger.welcome(membership)
    set_policy(chapter, organizer, welcome_credits=6)
    assert ledger.welcome(membership).id == first.id
    assert ledger.balance(chapter, membership.member) == 4


def test_an_approved_request_to_join_gets_welcome_credits(chapter, organizer):
    set_policy(chapter, organizer, welcome_credits=3)
    membership = MembershipFactory(chapter=chapter, pending=True)
    chapters.approve(membership)
    assert ledger.balance(chapter, membership.member) == 3


def test_an_accepted_invitation_gets_welcome_credits_and_rejoining_does_not_repeat_them(chapter, organizer):
    set_policy(chapter, organizer, welcome_credits=2)
    invitee = MemberFactory()
    InvitationFactory(chapter=chapter, secret="first", invited_by=organizer, email=invitee.email)
    membership = chapters.accept_invitation("first", invitee)
    chapters.leave(membership)
    InvitationFactory(chapter=chapter, secret="second", invited_by=organizer, email=invitee.email)
    chapters.accept_invitation("second", invitee)
    assert ledger.balance(chapter, invitee) == 2
    assert transaction_count() == 1


# Policy -----------------------------------------------------------------------------------------


def test_a_chapter_starts_with_the_design_defaults_and_no_policy_row(chapter):
    policy = ledger.policy_for(chapter)
    assert policy.settings() == {
        "intro_reward": 3,
        "business_bonus": 2,
        "need_cost": 2,
        "connector_cost": 1,
        "welcome_credits": 0,
        "repeat_pair_days": 180,
        "daily_credited_intros": 5,
        "intro_expiry_days": 14,
    }
    assert db.session.scalar(select(func.count()).select_from(ChapterPolicy)) == 0


def test_each_policy_change_is_recorded_with_who_and_when(chapter, organizer):
    changes = ledger.update_policy(
        chapter, changed_by=organizer, settings={"need_cost": 4, "intro_reward": 3, "connector_cost": 0}
    )
    assert {(c.setting, c.old_value, c.new_value) for c in changes} == {
        ("need_cost", 2, 4),
        ("connector_cost", 1, 0),
    }
    assert all(c.changed_by_id == organizer.id and c.changed_at is not None for c in changes)
    assert ledger.policy_for(chapter).need_cost == 4
    assert [c.setting for c in ledger.policy_history(chapter)] == sorted(["need_cost", "connector_cost"])


@pytest.mark.parametrize(
    "settings",
    [
        {"intro_reward": -1},
        {"need_cost": 101},
        {"connector_cost": -5},
        {"intro_expiry_days": 0},
        {"daily_credited_intros": 0},
        {"repeat_pair_days": 99999},
        {"need_cost": "2"},
        {"no_such_setting": 1},
    ],
)
def test_a_policy_out_of_bounds_is_refused_and_nothing_changes(chapter, organizer, settings):
    with pytest.raises(ledger.InvalidPolicy):
        ledger.update_policy(chapter, changed_by=organizer, settings=settings)
    assert db.session.scalar(select(func.count()).select_from(PolicyChange)) == 0
    assert ledger.policy_for(chapter).settings() == ChapterPolicy.defaults(chapter.id).settings()
