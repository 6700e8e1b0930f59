"""Find a connector: ranking on a hand-built graph, asking one, declines, expiry and refunds."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral_hub.errors import Forbidden, NotFound
from referral_hub.extensions import db
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import Decision
from referral_hub.ledger import posting, queries, verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from referral_hub.relationships import connectors
from referral_hub.relationships.models import InteractionKind, IntroRequest, RequestState
from referral_hub.relationships.services import RelationshipRefused
from tests.conftest import Browser, mail_to
from tests.factories import ChapterFactory, IntroductionFactory, MembershipFactory

from .conftest import NOW, days_after, interact

NOTE = "Tom runs the harbour restaurants and I would love to cater for his next opening."
INTRO_NOTE = "Ann caters weddings and Tom runs three harbour restaurants: they should plan a tasting."
K = InteractionKind


@pytest.fixture
def graph(chapter, member_of):
    """Ann wants to meet Tom. Around them (strength with Ann, strength with Tom, at NOW):

    Dan 3 / 3, Eve 2 / 4, Cleo 6 / 1: ranked Dan, Eve, Cleo by the weaker link.
    Fay knows only Ann; Hal knew both, long ago; Gus knows both but shares no chapter with them.
    """
    people = {name: member_of(name) for name in ("Ann", "Tom", "Cleo", "Dan", "Eve", "Fay", "Hal")}
    people["Gus"] = MembershipFactory(chapter=ChapterFactory(), member__display_name="Gus").member
    p = people
    for one, other, kinds in [
        ("Dan", "Ann", [K.ONE_TO_ONE]),
        ("Dan", "Tom", [K.ONE_TO_ONE]),
        ("Eve", "Ann", [K.INTRODUCED]),
        ("Eve", "Tom", [K.BUSINESS_CLOSED]),
        ("Cleo", "Ann", [K.ONE_TO_ONE, K.ONE_TO_ONE]),
        ("Cleo", "Tom", [K.THANKS]),
        ("Fay", "Ann", [K.BUSINESS_CLOSED, K.BUSINESS_CLOSED]),
        ("Gus", "Ann", [K.BUSINESS_CLOSED]),
        ("Gus", "Tom", [K.BUSINESS_CLOSED]),
    ]:
        for kind in kinds:
            interact(p[one], p[other], kind, at=NOW)
    interact(p["Hal"], p["Ann"], K.ONE_TO_ONE, at=days_after(-400))
    interact(p["Hal"], p["Tom"], K.ONE_TO_ONE, at=days_after(-400))
    return people


def give(chapter, member, credits: int):
    posting.post(
        chapter,
        key=f"test-grant:{member.id}:{credits}",
        kind=Kind.GRANT,
        memo="test credits",
        caused_by=None,
        entries=[(posting.POOL, -credits), (member, credits)],
    )


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


def test_asking_a_connector_charges_the_policy_cost_and_emails_them_a_prefilled_introduction(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 3)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE, now=NOW)
    assert (request.state, request.cost, request.chapter_id) == (RequestState.OPEN, 1, chapter.id)
    assert request.expires_at == NOW + timedelta(days=14)
    assert queries.balance(chapter, ann) == 2
    [message] = mail_to(dan.email)
    assert NOTE in message.body_text and "Ann" in message.subject and "Tom" in message.subject
    assert f"/introductions/new?first={ann.id}&second={tom.id}" in message.body_text
    assert f"/intro-requests/{request.id}" in message.body_text


@pytest.mark.parametrize(
    ("who", "note", "message"),
    [
        ("Fay", NOTE, "does not know both of you"),
        ("Gus", NOTE, "need to be members of one chapter"),
        ("Dan", "Intro please", "short personal note"),
        ("Ann", NOTE, "third member"),
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
            graph["Ann"], connector_id=graph["Dan"].id, target_id=graph["Tom"].id, note=NOTE, now=NOW
        )
    assert db.session.scalar(select(func.count()).select_from(IntroRequest)) == 0
    assert mail_to(graph["Dan"].email) == []


def test_asking_the_same_connector_again_while_the_request_is_open_is_refused(chapter, graph):
    ann, tom, dan, eve = graph["Ann"], graph["Tom"], graph["Dan"], graph["Eve"]
    give(chapter, ann, 5)
    first = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE, now=NOW)
    with pytest.raises(connectors.AlreadyAsked, match="already asked Dan"):
        connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE + " Again.", now=NOW)
    assert queries.balance(chapter, ann) == 4, "the refused ask is not charged"
    connectors.ask(ann, connector_id=eve.id, target_id=tom.id, note=NOTE, now=NOW)  # another connector
    connectors.decline(first, dan, now=NOW)
    connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE, now=NOW)  # closed: ask again
    assert queries.balance(chapter, ann) == 3


def refunds_of(request) -> list[LedgerTransaction]:
    return list(
        db.session.scalars(
            select(LedgerTransaction).where(
                LedgerTransaction.subject_type == "intro_request",
                LedgerTransaction.subject_id == request.id,
                LedgerTransaction.kind == Kind.REFUND,
            )
        )
    )


def test_a_decline_refunds_the_asker_once_and_tells_them(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE, now=NOW)
    assert queries.balance(chapter, ann) == 0
    with pytest.raises(Forbidden):
        connectors.decline(request, tom, now=NOW)
    connectors.decline(request, dan, now=NOW)
    assert (request.state, request.closed_at) == (RequestState.DECLINED, NOW)
    assert queries.balance(chapter, ann) == 1
    [refund] = refunds_of(request)
    assert refund.idempotency_key == f"intro_request:{request.id}:refund"
    assert "could not introduce you to Tom" in mail_to(ann.email)[-1].subject
    with pytest.raises(connectors.RequestClosed):
        connectors.decline(request, dan, now=NOW)
    assert connectors.expire_requests(now=days_after(30)) == (0, 0)
    assert len(refunds_of(request)) == 1 and queries.balance(chapter, ann) == 1
    assert verify.verify(chapter).ok


def test_an_expired_request_is_refunded_once(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE, now=NOW)
    assert connectors.expire_requests(now=days_after(13)) == (0, 0)
    assert connectors.expire_requests(now=days_after(14)) == (0, 1)
    assert connectors.expire_requests(now=days_after(15)) == (0, 0)
    db.session.refresh(request)
    assert request.state is RequestState.EXPIRED
    assert len(refunds_of(request)) == 1 and queries.balance(chapter, ann) == 1
    assert "expired" in mail_to(ann.email)[-1].subject
    assert verify.verify(chapter).ok


def test_a_request_the_connector_acted_on_is_introduced_at_once_and_stays_paid_for(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE)
    assert connectors.requests_waiting_for(dan) == [request]
    intro = making.introduce(dan, first_id=tom.id, second_id=ann.id, note=INTRO_NOTE)
    assert connectors.requests_waiting_for(dan) == [], "acted on: no longer waiting for Dan"
    db.session.refresh(request)
    assert (request.state, request.introduction_id) == (RequestState.INTRODUCED, intro.id)
    assert connectors.expire_requests(now=request.expires_at) == (0, 0)
    assert refunds_of(request) == [] and queries.balance(chapter, ann) == 0


def test_a_connector_who_introduced_cannot_decline_and_refund_the_asker(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE)
    making.introduce(dan, first_id=ann.id, second_id=tom.id, note=INTRO_NOTE)
    with pytest.raises(connectors.RequestClosed, match="You already introduced Ann and Tom"):
        connectors.decline(request, dan)
    assert request.state is RequestState.INTRODUCED
    assert refunds_of(request) == [] and queries.balance(chapter, ann) == 0
    assert verify.verify(chapter).ok


def test_an_open_request_with_an_introduction_already_made_cannot_be_declined(chapter, graph):
    """A request still open although its connector introduced the two (made before requests were
    marked at once) is fulfilled all the same: the decline changes nothing."""
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE)
    IntroductionFactory(chapter=chapter, introducer=dan, first=tom, second=ann)
    with pytest.raises(connectors.RequestClosed, match="this request is fulfilled"):
        connectors.decline(request, dan)
    assert request.state is RequestState.OPEN
    assert refunds_of(request) == [] and queries.balance(chapter, ann) == 0


def test_declining_through_the_page_after_introducing_keeps_the_request_paid_for(client, chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE)
    browser = Browser(client)
    browser.login(dan.email)
    request_page = f"/intro-requests/{request.id}"
    introduced = browser.post(
        "/introductions/new", {"first_id": ann.id, "second_id": tom.id, "note": INTRO_NOTE}
    )
    assert introduced.status_code == 302
    declined = browser.post(f"/intro-requests/{request.id}/decline", form_page=request_page)
    assert declined.status_code == 302
    page = browser.get(request_page).get_data(as_text=True)
    assert "so this request is fulfilled and cannot be declined" in page
    assert "You made this introduction" in page
    db.session.refresh(request)
    assert request.state is RequestState.INTRODUCED
    assert refunds_of(request) == [] and queries.balance(chapter, ann) == 0


def test_completing_the_introduction_closes_the_request_at_once(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE)
    intro = making.introduce(dan, first_id=ann.id, second_id=tom.id, note=INTRO_NOTE)
    for consent in intro.consents:
        answering.answer(consent, Decision.ACCEPT)
    db.session.refresh(request)
    assert (request.state, request.introduction_id) == (RequestState.INTRODUCED, intro.id)


def test_only_the_asker_and_the_connector_see_a_request(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=NOTE)
    assert connectors.request_for(ann, request.id) is connectors.request_for(dan, request.id)
    with pytest.raises(NotFound):
        connectors.request_for(tom, request.id)


def test_the_intros_expire_command_closes_requests_too(app, chapter, graph):
    give(chapter, graph["Ann"], 1)
    connectors.ask(graph["Ann"], connector_id=graph["Dan"].id, target_id=graph["Tom"].id, note=NOTE, now=NOW)
    result = app.test_cli_runner().invoke(args=["intros", "expire"])
    assert result.exit_code == 0, result.output
    assert "connector requests: 0 introduced, 1 expired and refunded" in result.output
    assert queries.balance(chapter, graph["Ann"]) == 1


def test_an_ask_about_an_unknown_connector_or_an_unverified_target_is_refused(chapter, graph, member_of):
    give(chapter, graph["Ann"], 3)
    with pytest.raises(RelationshipRefused, match="who knows you both"):
        connectors.ask(graph["Ann"], connector_id=10**6, target_id=graph["Tom"].id, note=NOTE)
    newcomer = member_of("Nell", email_verified_at=None)
    interact(graph["Dan"], newcomer, K.ONE_TO_ONE)
    with pytest.raises(RelationshipRefused, match="has not verified"):
        connectors.ask(graph["Ann"], connector_id=graph["Dan"].id, target_id=newcomer.id, note=NOTE)
    assert queries.balance(chapter, graph["Ann"]) == 3
