"""`flask demo seed`: believable people with distinct professions, and a history the ledger agrees with."""

import re

import pytest
from sqlalchemy import func, select

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter, Membership
from referral_hub.cli import demo
from referral_hub.extensions import db
from referral_hub.introductions.models import Introduction, IntroState, Outcome, OutcomeKind
from referral_hub.needs.models import Need, NeedStatus
from referral_hub.relationships.models import Interaction, InteractionKind

MEMBERS = 40  # more than the professions, so specialties and names must vary


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def seeded(flask):
    result = flask("demo", "seed", "--members", str(MEMBERS))
    assert result.exit_code == 0, result.output
    chapter = db.session.scalar(select(Chapter).where(Chapter.slug == demo.CHAPTER_SLUG))
    members = list(
        db.session.scalars(select(Member).join(Membership).where(Membership.chapter_id == chapter.id))
    )
    return chapter, members


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_demo_members_have_distinct_unnumbered_names_and_say_what_they_do(seeded):
    _chapter, members = seeded
    names = [member.display_name for member in members]
    assert len(set(names)) == len(names) == MEMBERS
    for name in names:
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", name), name
    for member in members:
        for text in (member.headline, member.expertise, member.ideal_referral, member.bio, member.company):
            assert text and not re.search(r"\d$", text), (member.display_name, text)
        assert member.headline[0].isupper() and member.ideal_referral[0].isupper(), member.headline
    # Past one round of the professions, the second round practises each one differently.
    assert len({member.headline for member in members}) == MEMBERS


def test_a_headline_and_an_ideal_referral_belong_to_the_same_trade():
    for profession in demo.PROFESSIONS:
        words = set(profession.title.lower().split())
        for specialty in profession.specialties:
            # The headline names the trade or what it does; every specialty has all three lines.
            assert specialty.headline and specialty.expertise and specialty.ideal_referral
            assert len(specialty.headline) <= 120 and len(specialty.expertise) <= 300
        assert words & set(profession.specialties[0].headline.lower().split()), profession.title


def test_the_demo_has_a_history_of_every_kind_and_its_books_pass_ledger_verify(seeded, flask):
    chapter, _members = seeded
    result = flask("ledger", "verify", "--chapter", demo.CHAPTER_SLUG)
    assert result.exit_code == 0, result.output
    in_chapter = Introduction.chapter_id == chapter.id
    for state in (IntroState.COMPLETED, IntroState.PENDING, IntroState.DECLINED):
        assert count(Introduction, in_chapter, Introduction.state == state) > 0, state
    for kind in OutcomeKind:
        assert count(Outcome, Outcome.kind == kind) > 0, kind
    assert count(Outcome, Outcome.kind == OutcomeKind.BUSINESS_CLOSED, Outcome.amount > 0) > 0
    for kind in (InteractionKind.ONE_TO_ONE, InteractionKind.THANKS):
        assert count(Interaction, Interaction.kind == kind) > 0, kind
    for status in (NeedStatus.OPEN, NeedStatus.FULFILLED):
        assert count(Need, Need.chapter_id == chapter.id, Need.status == status) > 0, status


def test_the_demo_people_are_the_same_on_every_run():
    assert demo.people(60) == demo.people(60)
    assert [p.display_name for p in demo.people(10)] == [p.display_name for p in demo.people(60)[:10]]


def test_the_most_members_the_command_takes_all_get_distinct_names():
    names = [person.display_name for person in demo.people(5000)]
    assert len(set(names)) == 5000
