"""A chapter's policy: the design's defaults until an organizer changes it, each change recorded."""

import pytest
from sqlalchemy import func, select

from referral_hub.chapters.models import ChapterPolicy, PolicyChange
from referral_hub.chapters.policy import InvalidPolicy, policy_for, policy_history, update_policy
from referral_hub.extensions import db
from tests.factories import ChapterFactory, MembershipFactory


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside", slug="riverside")


@pytest.fixture
def organizer(chapter):
    return MembershipFactory(chapter=chapter, organizer=True).member


def test_a_chapter_starts_with_the_design_defaults_and_no_policy_row(chapter):
    policy = policy_for(chapter)
    assert policy.settings() == {
        "intro_reward": 3,
        "business_bonus": 2,
        "need_cost": 2,
        "connector_cost": 1,
        "welcome_credits": 0,
        "repeat_pair_days": 180,
        "daily_credited_intros": 5,
        "intro_expiry_days": 14,
        "organizers_need_two_factor": 0,
        "outcome_prompt_days": 14,
        "guest_intro_credits": 2,
        "daily_guest_intros": 5,
        "guest_retention_days": 365,
    }
    assert db.session.scalar(select(func.count()).select_from(ChapterPolicy)) == 0


def test_each_policy_change_is_recorded_with_who_and_when(chapter, organizer):
    changes = update_policy(
        chapter, changed_by=organizer, settings={"need_cost": 4, "intro_reward": 3, "connector_cost": 0}
    )
    assert {(c.setting, c.old_value, c.new_value) for c in changes} == {
        ("need_cost", 2, 4),
        ("connector_cost", 1, 0),
    }
    assert all(c.changed_by_id == organizer.id and c.changed_at is not None for c in changes)
    assert policy_for(chapter).need_cost == 4
    assert [c.setting for c in policy_history(chapter)] == sorted(["need_cost", "connector_cost"])


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
    with pytest.raises(InvalidPolicy):
        update_policy(chapter, changed_by=organizer, settings=settings)
    assert db.session.scalar(select(func.count()).select_from(PolicyChange)) == 0
    assert policy_for(chapter).settings() == ChapterPolicy.defaults(chapter.id).settings()
