"""An asked-for introduction after the ask: declines, the connector's introduction, expiry and refunds."""

import pytest
from sqlalchemy import select

from referral_hub.errors import Forbidden, NotFound
from referral_hub.extensions import db
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import Decision
from referral_hub.ledger import queries, verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from referral_hub.relationships import connector_requests, connectors
from referral_hub.relationships.errors import RequestClosed
from referral_hub.relationships.models import RequestState
from tests.conftest import Browser, mail_to
from tests.factories import IntroductionFactory

from .conftest import ASK_NOTE, NOW, days_after, give

INTRO_NOTE = "Ann caters weddings and Tom runs three harbour restaurants: they should plan a tasting."


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
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE, now=NOW)
    assert queries.balance(chapter, ann) == 0
    with pytest.raises(Forbidden):
        connector_requests.decline(request, tom, now=NOW)
    connector_requests.decline(request, dan, now=NOW)
    assert (request.state, request.closed_at) == (RequestState.DECLINED, NOW)
    assert queries.balance(chapter, ann) == 1
    [refund] = refunds_of(request)
    assert refund.idempotency_key == f"intro_request:{request.id}:refund"
    assert "could not introduce you to Tom" in mail_to(ann.email)[-1].subject
    with pytest.raises(RequestClosed):
        connector_requests.decline(request, dan, now=NOW)
    assert connector_requests.expire_requests(now=days_after(30)) == (0, 0)
    assert len(refunds_of(request)) == 1 and queries.balance(chapter, ann) == 1
    assert verify.verify(chapter).ok


def test_an_expired_request_is_refunded_once(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE, now=NOW)
    assert connector_requests.expire_requests(now=days_after(13)) == (0, 0)
    assert connector_requests.expire_requests(now=days_after(14)) == (0, 1)
    assert connector_requests.expire_requests(now=days_after(15)) == (0, 0)
    db.session.refresh(request)
    assert request.state is RequestState.EXPIRED
    assert len(refunds_of(request)) == 1 and queries.balance(chapter, ann) == 1
    assert "expired" in mail_to(ann.email)[-1].subject
    assert verify.verify(chapter).ok


def test_a_request_the_connector_acted_on_is_introduced_at_once_and_stays_paid_for(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE)
    assert connector_requests.requests_waiting_for(dan) == [request]
    intro = making.introduce(dan, first_id=tom.id, second_id=ann.id, note=INTRO_NOTE)
    assert connector_requests.requests_waiting_for(dan) == [], "acted on: no longer waiting for Dan"
    db.session.refresh(request)
    assert (request.state, request.introduction_id) == (RequestState.INTRODUCED, intro.id)
    assert connector_requests.expire_requests(now=request.expires_at) == (0, 0)
    assert refunds_of(request) == [] and queries.balance(chapter, ann) == 0


def test_a_connector_who_introduced_cannot_decline_and_refund_the_asker(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE)
    making.introduce(dan, first_id=ann.id, second_id=tom.id, note=INTRO_NOTE)
    with pytest.raises(RequestClosed, match="You already introduced Ann and Tom"):
        connector_requests.decline(request, dan)
    assert request.state is RequestState.INTRODUCED
    assert refunds_of(request) == [] and queries.balance(chapter, ann) == 0
    assert verify.verify(chapter).ok


def test_an_open_request_with_an_introduction_already_made_cannot_be_declined(chapter, graph):
    """A request still open although its connector introduced the two (made before requests were
    marked at once) is fulfilled all the same: the decline changes nothing."""
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE)
    IntroductionFactory(chapter=chapter, introducer=dan, first=tom, second=ann)
    with pytest.raises(RequestClosed, match="this request is fulfilled"):
        connector_requests.decline(request, dan)
    assert request.state is RequestState.OPEN
    assert refunds_of(request) == [] and queries.balance(chapter, ann) == 0


def test_declining_through_the_page_after_introducing_keeps_the_request_paid_for(client, chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE)
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
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE)
    intro = making.introduce(dan, first_id=ann.id, second_id=tom.id, note=INTRO_NOTE)
    for consent in intro.consents:
        answering.answer(consent, Decision.ACCEPT)
    db.session.refresh(request)
    assert (request.state, request.introduction_id) == (RequestState.INTRODUCED, intro.id)


def test_only_the_asker_and_the_connector_see_a_request(chapter, graph):
    ann, tom, dan = graph["Ann"], graph["Tom"], graph["Dan"]
    give(chapter, ann, 1)
    request = connectors.ask(ann, connector_id=dan.id, target_id=tom.id, note=ASK_NOTE)
    assert connector_requests.request_for(ann, request.id) is connector_requests.request_for(dan, request.id)
    with pytest.raises(NotFound):
        connector_requests.request_for(tom, request.id)


def test_the_intros_expire_command_closes_requests_too(app, chapter, graph):
    give(chapter, graph["Ann"], 1)
    connectors.ask(
        graph["Ann"], connector_id=graph["Dan"].id, target_id=graph["Tom"].id, note=ASK_NOTE, now=NOW
    )
    result = app.test_cli_runner().invoke(args=["intros", "expire"])
    assert result.exit_code == 0, result.output
    assert "connector requests: 0 introduced, 1 expired and refunded" in result.output
    assert queries.balance(chapter, graph["Ann"]) == 1
