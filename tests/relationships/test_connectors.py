"""Find a connector: ranking on a hand-built graph, and asking one."""

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from referral_hub.accounts.models import Member
from referral_hub.extensions import db
from referral_hub.ledger import posting, queries
from referral_hub.relationships import connector_requests, connectors
from referral_hub.relationships.errors import AlreadyAsked, RelationshipRefused
from referral_hub.relationships.models import InteractionKind, IntroRequest, RequestState
from tests.conftest import mail_to
from tests.factories import ChapterFactory, ChapterPolicyFactory, MembershipFactory

from .conftest import ASK_NOTE, NOW, days_after, give, interact

INTRO_NOTE = "Ann caters weddings and Tom runs three harbour restaurants: they should plan a tasting."
K = InteractionKind


def test_connectors_are_ranked_by_the_weaker_of_their_two_links(graph):
    found = connectors.connectors_for(graph["Ann"], graph["Tom"], now=NOW)
    assert [c.member.display_name for c in found] == ["Dan", "Eve", "Cleo"]
    assert [link for c in found for link in (c.with_you, c.with_them)] == pytest.approx([3, 3, 2, 4, 6, 1])
    eve = found[1]
    assert (eve.your_last_kind, eve.their_last_kind) == (K.INTRODUCED, K.BUSINESS_CLOSED)
    assert (eve.label_with_you, eve.label_with_them) == ("warm", "warm")


def test_the_ranking_changes_as_links_fade(graph):
    # 120 days on, Dan's links have faded to 3 × 0.5^(4/3) ≈ 1.19 each; a fresh one-to-one between
    # Cleo and Tom makes Cleo's weaker link the strongest.
    interact(graph["Cleo"], graph["Tom"], K.ONE_TO_ONE, at=days_after(120))
    found = connectors.connectors_for(graph["Ann"], graph["Tom"], now=days_after(120))
    assert [c.member.display_name for c in found] == ["Cleo", "Dan", "Eve"]


def test_it_is_the_same_list_from_the_other_side(graph):
    found = connectors.connectors_for(graph["Tom"], graph["Ann"], now=NOW)
    assert [c.member.display_name for c in found] == ["Dan", "Eve", "Cleo"]


def test_asking_reads_the_target_beside_each_chapter_both_are_active_in_and_an_open_ask(chapter, graph):
    ann, tom, dan, gus = graph["Ann"], graph["Tom"], graph["Dan"], graph["Gus"]
    harbour = ChapterFactory(name="Harbour", slug="harbour")
    ChapterPolicyFactory(chapter=harbour, connector_cost=4)
    for member in (ann, tom):
        MembershipFactory(chapter=harbour, member=member)
    MembershipFactory(chapter=ChapterFactory(name="Alder", slug="alder"), member=ann)  # Tom is not in it
    MembershipFactory(chapter=ChapterFactory(name="Birch", slug="birch"), member=tom, pending=True)
    db.session.expunge_all()  # read as a request does, from an empty session

    found = connectors.asking(ann.id, tom.id)
    assert (found.target.id, found.target.display_name, found.waiting) == (tom.id, "Tom", False)
    assert [(c.slug, cost) for c, cost in found.chapters] == [("harbour", 4), (chapter.slug, 1)]
    # A profile shows another member neither their email address nor their phone: they are not read.
    assert {"email", "phone", "password_hash"} <= inspect(found.target).unloaded
    stranger = connectors.asking(ann.id, gus.id)
    assert (stranger.target.id, stranger.chapters, stranger.waiting) == (gus.id, [], False)
    assert connectors.asking(ann.id, gus.id + 1000) == connectors.Asking(None, [], False)

    give(chapter, db.session.get(Member, ann.id), 1)
    connectors.ask(db.session.get(Member, ann.id), connector_id=dan.id, target_id=tom.id, note=ASK_NOTE)
    assert connectors.asking(ann.id, tom.id).waiting and not connectors.asking(tom.id, ann.id).waiting


def test_asking_a_connector_charges_the_policy_cost_and_emails_them_a_prefilled_introduction(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 3)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE, now=NOW)
    assert (request.state, request.cost, request.chapter_id) == (RequestState.OPEN, 1, chapter.id)
    assert request.expires_at == NOW + timedelta(days=14)
    assert queries.balance(chapter, ann) == 2
    [message] = mail_to(dan.email)
    assert ASK_NOTE in message.body_text and "Ann" in message.subject and "Tom" in message.subject
    assert f"/introductions/new?first={ann.id}&second={tom.id}" in message.body_text
    assert f"/intro-requests/{request.id}" in message.body_text


@pytest.mark.parametrize(
    ("who", "note", "message"),
    [
        ("Fay", ASK_NOTE, "does not know both of you"),
        ("Gus", ASK_NOTE, "need to be members of one chapter"),
        ("Dan", "Intro please", "short personal note"),
        ("Ann", ASK_NOTE, "third member"),
    ],
)
def test_a_refused_ask_says_why_and_charges_nothing(chapter, graph, who, note, message):
    give(chapter, graph["Ann"], 3)
    with pytest.raises(RelationshipRefused, match=message):
        connectors.ask(
            graph["Ann"], connector_id=graph[who].id, target_id=graph["Tom"].id, note=note, now=NOW
        )
    assert queries.balance(chapter, graph["Ann"]) == 3
    assert db.session.scalar(select(func.count()).select_from(IntroRequest)) == 0


def test_an_ask_without_the_credits_writes_nothing(chapter, graph):
    with pytest.raises(posting.InsufficientCredits, match="Earn credits"):
        connectors.ask(
            graph["Ann"], connector_id=graph["Dan"].id, target_id=graph["Tom"].id, note=ASK_NOTE, now=NOW
        )
    assert db.session.scalar(select(func.count()).select_from(IntroRequest)) == 0
    assert mail_to(graph["Dan"].email) == []


def test_asking_the_same_connector_again_while_the_request_is_open_is_refused(chapter, graph):
    ann, tom, dan, eve = graph["Ann"], graph["Tom"], graph["Dan"], graph["Eve"]
    give(chapter, ann, 5)
    first = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE, now=NOW)
    with pytest.raises(AlreadyAsked, match="already asked Dan"):
        connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE + " Again.", now=NOW)
    assert queries.balance(chapter, ann) == 4, "the refused ask is not charged"
    connectors.ask(ann, connector_id=eve.id, target_id=tom.id, note=ASK_NOTE, now=NOW)  # another connector
    connector_requests.decline(first, dan, now=NOW)
    connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE, now=NOW)  # closed: ask again
    assert queries.balance(chapter, ann) == 3


def test_an_ask_about_an_unknown_connector_or_an_unverified_target_is_refused(chapter, graph, member_of):
    give(chapter, graph["Ann"], 3)
    with pytest.raises(RelationshipRefused, match="who knows you both"):
        connectors.ask(graph["Ann"], connector_id=10**6, target_id=graph["Tom"].id, note=ASK_NOTE)
    newcomer = member_of("Nell", email_verified_at=None)
    interact(graph["Dan"], newcomer, K.ONE_TO_ONE)
    with pytest.raises(RelationshipRefused, match="has not verified"):
        connectors.ask(graph["Ann"], connector_id=graph["Dan"].id, target_id=newcomer.id, note=ASK_NOTE)
    assert queries.balance(chapter, graph["Ann"]) == 3
