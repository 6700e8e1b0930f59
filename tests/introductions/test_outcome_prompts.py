"""Outcome prompts: each party of a completed introduction is asked once, by email, what came of it."""

from datetime import timedelta

import pytest

from referral_hub.chapters.policy import InvalidPolicy, update_policy
from referral_hub.clock import utcnow
from referral_hub.introductions.models import OutcomeKind
from referral_hub.introductions.outcomes import send_outcome_prompts
from tests.conftest import mail_to
from tests.factories import (
    ChapterFactory,
    ChapterPolicyFactory,
    ConsentFactory,
    IntroductionFactory,
    MemberFactory,
    OutcomeFactory,
)


def completed(days_ago: float, chapter=None):
    """A completed introduction whose parties each have their consent, completed `days_ago`."""
    intro = IntroductionFactory(
        completed=True, chapter=chapter or ChapterFactory(), completed_at=utcnow() - timedelta(days=days_ago)
    )
    for party in intro.parties:
        ConsentFactory(introduction=intro, member=party)
    return intro


def prompts_to(member) -> list:
    return [m for m in mail_to(member.email) if m.template == "outcome_prompt"]


def test_both_parties_are_asked_after_the_policy_days_and_only_once(app):
    intro = completed(days_ago=15)
    assert send_outcome_prompts(utcnow()) == 2
    for party in intro.parties:
        [prompt] = prompts_to(party)
        assert f"What came of meeting {intro.other_party(party.id).display_name}?" == prompt.subject
        assert f"/introductions/{intro.id}#outcome" in prompt.body_text
    assert send_outcome_prompts(utcnow()) == 0, "a second run asks nobody again"
    assert all(len(prompts_to(party)) == 1 for party in intro.parties)


def test_nobody_is_asked_before_the_policy_days_nor_after_reporting(app):
    early = completed(days_ago=13)
    reported = completed(days_ago=20)
    OutcomeFactory(introduction=reported, reported_by=reported.first, kind=OutcomeKind.MET)
    assert send_outcome_prompts(utcnow()) == 1
    assert prompts_to(reported.second) and not prompts_to(reported.first)
    assert not prompts_to(early.first) and not prompts_to(early.second)


def test_a_pending_introduction_is_never_prompted(app):
    intro = IntroductionFactory(created_at=utcnow() - timedelta(days=30))
    ConsentFactory(introduction=intro, member=intro.first)
    assert send_outcome_prompts(utcnow()) == 0


def test_the_chapter_policy_sets_the_delay(app):
    chapter = ChapterFactory()
    ChapterPolicyFactory(chapter=chapter, outcome_prompt_days=3)
    completed(days_ago=4, chapter=chapter)
    completed(days_ago=4)  # another chapter keeps the default 14 days
    assert send_outcome_prompts(utcnow()) == 2


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_the_command_sends_the_prompts_and_says_how_many(flask):
    intro = completed(days_ago=30)
    result = flask("intros", "prompt-outcomes")
    assert result.exit_code == 0, result.output
    assert "asked 2 parties what came of their introduction" in result.output
    assert "asked 0 parties" in flask("intros", "prompt-outcomes").output
    assert len(prompts_to(intro.first)) == 1


def test_the_prompt_day_count_is_a_policy_setting_with_bounds(app):
    chapter = ChapterFactory()
    organizer = MemberFactory()
    with pytest.raises(InvalidPolicy):
        update_policy(chapter, changed_by=organizer, settings={"outcome_prompt_days": 0})
    [change] = update_policy(chapter, changed_by=organizer, settings={"outcome_prompt_days": 7})
    assert (change.old_value, change.new_value) == (14, 7)
