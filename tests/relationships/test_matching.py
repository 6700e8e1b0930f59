"""Match needs to members: full-text ranking (PostgreSQL tsvector, SQLite FTS5) in both directions."""

import pytest

from referral_hub.accounts import services as accounts
from referral_hub.needs.models import NeedStatus
from referral_hub.relationships import matching
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory, NeedFactory


@pytest.fixture
def professionals(member_of):
    """Members who say what they do, from a close fit for restaurant payroll to no fit at all."""
    return {
        "Pia": member_of(
            "Pia",
            headline="Payroll for restaurants and cafés",
            expertise="payroll, restaurant accounting, tips reporting",
            ideal_referral="Restaurant owners opening a second location",
        ),
        "Max": member_of(
            "Max",
            headline="Payroll and bookkeeping for small businesses",
            expertise="bookkeeping, payroll, tips reporting",
            ideal_referral="Shops with ten employees",
        ),
        "Rae": member_of(
            "Rae",
            headline="Wedding photographer",
            expertise="portraits, events",
            ideal_referral="Engaged couples",
        ),
        "Uma": member_of(
            "Uma",
            headline="Interior designer",
            expertise="lighting",
            ideal_referral="Restaurants being refitted",
        ),
    }


def names(members) -> list[str]:
    return [m.display_name for m in members]


def test_members_who_may_help_come_best_match_first(chapter, member_of, professionals):
    asker = member_of("Ash", headline="Restaurant owner", expertise="restaurants, payroll")
    need = NeedFactory(
        chapter=chapter,
        asker=asker,
        title="Payroll for my restaurants",
        details="I am opening a second restaurant and need someone to run payroll and report tips.",
    )
    assert names(matching.members_who_may_help(need)) == ["Pia", "Max", "Uma"]


def test_only_verified_members_of_the_needs_chapter_other_than_the_asker_may_help(chapter, member_of):
    asker = member_of("Ash", headline="Payroll", expertise="payroll")
    member_of("Una", headline="Payroll", expertise="payroll", email_verified_at=None)
    MembershipFactory(chapter=ChapterFactory(), member=MemberFactory(headline="Payroll", expertise="payroll"))
    MembershipFactory(chapter=chapter, pending=True, member__headline="Payroll")
    need = NeedFactory(chapter=chapter, asker=asker, title="Payroll help", details="Payroll, weekly.")
    assert matching.members_who_may_help(need) == []


def test_a_profile_change_is_matched_at_once(chapter, member_of, professionals):
    need = NeedFactory(
        chapter=chapter, asker=member_of("Ash"), title="A wedding photographer", details="June."
    )
    assert names(matching.members_who_may_help(need)) == ["Rae"]
    accounts.update_profile(professionals["Rae"], headline="Landscape painter", expertise="oil, canvas")
    accounts.update_profile(professionals["Max"], expertise="bookkeeping, wedding photography")
    assert names(matching.members_who_may_help(need)) == ["Max"]


def test_a_need_with_no_meaningful_words_matches_nobody(chapter, member_of, professionals):
    need = NeedFactory(
        chapter=chapter, asker=member_of("Ash"), title="Please help", details="Anyone? I need it."
    )
    assert matching.members_who_may_help(need) == []


def test_needs_you_may_help_with_come_best_match_first(chapter, member_of, professionals):
    asker = member_of("Ash")
    NeedFactory(chapter=chapter, asker=asker, title="Wedding photographer wanted", details="For June.")
    NeedFactory(chapter=chapter, asker=asker, title="Tips reporting", details="Restaurant payroll, weekly.")
    NeedFactory(chapter=chapter, asker=asker, title="Payroll provider", details="For my shop.")
    NeedFactory(
        chapter=chapter,
        asker=asker,
        title="Payroll",
        details="Closed already.",
        status=NeedStatus.CLOSED,
        closed_at=asker.created_at,
    )
    NeedFactory(chapter=ChapterFactory(), title="Restaurant payroll elsewhere", details="Payroll and tips.")
    NeedFactory(
        chapter=chapter, asker=professionals["Pia"], title="Restaurant payroll software", details="Pia's."
    )
    found = matching.needs_matching(professionals["Pia"])
    assert [need.title for need in found] == ["Tips reporting", "Payroll provider"]


def test_a_member_who_says_nothing_about_what_they_do_is_matched_to_nothing(chapter, member_of):
    quiet = member_of("Quinn", headline="", expertise="", ideal_referral="")
    NeedFactory(chapter=chapter, title="Payroll", details="Payroll.")
    assert matching.needs_matching(quiet) == []


def test_search_terms_drop_stop_words_punctuation_and_repeats():
    assert matching.search_terms("Looking for a PAYROLL expert!", "payroll; O'Brien & co.") == [
        "payroll",
        "expert",
        "brien",
        "co",
    ]
