"""Introduction pages and the email link, through the test client."""

import re

import pytest
from sqlalchemy import func, select

from referral_hub.chapters import services as chapters
from referral_hub.chapters.models import Membership
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions.models import Consent, Introduction, IntroState
from referral_hub.ledger import queries
from referral_hub.needs.models import NeedStatus
from tests.conftest import Browser, mail_to
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory, NeedFactory

NOTE = "Ann runs payroll for three bakeries and Bob just opened his second bakery: they should talk."


@pytest.fixture
def trio():
    chapter = ChapterFactory()
    return [MembershipFactory(chapter=chapter, member=MemberFactory()).member for _ in range(3)]


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(Introduction)),
        db.session.scalar(select(func.count()).select_from(Consent).where(Consent.decision.is_not(None))),
    )


def introduce(browser, introducer, first, second, note=NOTE):
    browser.login(introducer.email)
    return browser.post("/introductions/new", {"first_id": first.id, "second_id": second.id, "note": note})


def link_path(member) -> str:
    return re.search(r"http://localhost(/i/\S+)", mail_to(member.email)[-1].body_text).group(1)


def test_introducing_through_the_form_redirects_to_the_introduction(browser, trio):
    introducer, first, second = trio
    response = introduce(browser, introducer, first, second)
    assert response.status_code == 302 and "/introductions/" in response.location
    assert counts() == (1, 0)


@pytest.mark.parametrize(
    ("note", "message"), [("x" * 10_000, "Keep the note under 2000 characters"), ("too short", "at least 40")]
)
def test_a_bad_note_re_renders_the_form_and_writes_nothing(browser, trio, note, message):
    introducer, first, second = trio
    response = introduce(browser, introducer, first, second, note)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0)


def test_html_in_the_note_is_shown_as_text(browser, client, trio):
    introducer, first, second = trio
    note = NOTE + " <script>alert('x')</script><b>bold</b>"
    introduce(browser, introducer, first, second, note)
    page = client.application.test_client().get(link_path(first)).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_get_head_and_a_link_scanner_change_nothing(browser, client, trio):
    introducer, first, second = trio
    introduce(browser, introducer, first, second)
    scanner = client.application.test_client()
    path = link_path(first)
    before = counts()
    for _ in range(3):
        assert scanner.get(path).status_code == 200
        assert scanner.head(path).status_code == 200
    message = mail_to(first.email)[-1]
    for url in re.findall(r"http://localhost([^\s\"<]+)", message.body_text + message.body_html):
        scanner.get(url)
    assert counts() == before


def test_answering_from_the_link_accepts_once_and_a_second_post_says_used(client, browser, trio):
    introducer, first, second = trio
    introduce(browser, introducer, first, second)
    anonymous = client.application.test_client()
    path = link_path(first)
    page = anonymous.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answered = anonymous.post(path, data={"decision": "accept", "csrf_token": token})
    assert answered.status_code == 302 and answered.location.endswith("/introductions/answered")
    assert "You accepted" in anonymous.get(answered.location).get_data(as_text=True)
    again = anonymous.post(path, data={"decision": "accept", "csrf_token": token})
    assert again.status_code == 410 and b"already been used" in again.data
    assert counts() == (1, 1)


def test_a_decision_other_than_accept_or_decline_changes_nothing(client, browser, trio):
    introducer, first, second = trio
    introduce(browser, introducer, first, second)
    anonymous = client.application.test_client()
    path = link_path(first)
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', anonymous.get(path).get_data(as_text=True)
    ).group(1)
    response = anonymous.post(path, data={"decision": "maybe", "csrf_token": token})
    assert response.status_code == 400
    assert counts() == (1, 0)


@pytest.mark.parametrize("path", ["/i/not-a-real-token", "/i/" + "A" * 43])
def test_an_unknown_or_tampered_link_gets_a_page_that_says_so(client, path):
    response = client.get(path)
    assert response.status_code == 404 and b"do not recognise this link" in response.data


def test_a_party_can_answer_from_the_introduction_page(browser, client, trio):
    introducer, first, second = trio
    intro_url = introduce(browser, introducer, first, second).location
    party = client.application.test_client()
    party_browser = Browser(party)
    party_browser.login(first.email)
    response = party_browser.post(intro_url + "/answer", {"decision": "accept"}, form_page=intro_url)
    assert response.status_code == 302
    assert counts() == (1, 1)
    intro = db.session.scalar(select(Introduction))
    assert intro.state is IntroState.PENDING


def test_an_introduction_page_is_not_found_for_others(browser, client, trio):
    introducer, first, second = trio
    intro_url = introduce(browser, introducer, first, second).location
    outsider = MembershipFactory().member
    other = client.application.test_client()
    Browser(other).login(outsider.email)
    assert other.get(intro_url).status_code == 404


def test_the_introducer_never_sees_who_declined(browser, client, trio):
    introducer, first, second = trio
    intro_url = introduce(browser, introducer, first, second).location
    anonymous = client.application.test_client()
    path = link_path(first)
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', anonymous.get(path).get_data(as_text=True)
    ).group(1)
    anonymous.post(path, data={"decision": "decline", "csrf_token": token})
    page = browser.get(intro_url).get_data(as_text=True)
    assert "It did not go ahead" in page
    assert f"{first.display_name}: decline" not in page and "You declined" not in page


def test_the_introducer_may_open_a_partys_link_but_the_other_party_is_told_it_is_not_theirs(
    browser, client, trio
):
    introducer, first, second = trio
    introduce(browser, introducer, first, second)
    assert browser.get(link_path(first)).status_code == 200  # logged in as the introducer
    other_party = Browser(client.application.test_client())
    other_party.login(second.email)
    response = other_party.get(link_path(first))
    assert response.status_code == 403 and b"sent to the other person" in response.data


@pytest.mark.parametrize(
    "path",
    [
        "/introductions/99999999999999999999",
        "/needs/99999999999999999999",
        "/introductions/new?need=%C2%B2",
        "/introductions/new?need=" + "9" * 5000,
        "/introductions?page=99999999999999999999",
    ],
)
def test_absurd_ids_and_pages_never_cause_a_500(browser, trio, path):
    browser.login(trio[0].email)
    assert browser.get(path).status_code in (200, 404)


def test_absurd_party_ids_are_refused_with_a_message(browser, trio):
    introducer, first, _ = trio
    browser.login(introducer.email)
    response = browser.post("/introductions/new", {"first_id": first.id, "second_id": 2**40, "note": NOTE})
    assert response.status_code == 422 and b"Choose two members" in response.data
    assert counts() == (0, 0)


def test_a_nul_byte_is_refused_with_a_400(browser, trio):
    browser.login(trio[0].email)
    assert browser.get("/introductions?state=a%00b").status_code == 400


def answer_by_link(client, member, decision="accept"):
    anonymous = Browser(client.application.test_client())
    path = link_path(member)
    return anonymous, anonymous.post(path, {"decision": decision}, form_page=path)


def test_an_introduction_whose_party_left_is_cancelled_and_shares_nothing(browser, client, trio):
    introducer, first, second = trio
    introduce(browser, introducer, first, second)
    intro = db.session.scalar(select(Introduction))
    second_link = link_path(second)
    assert answer_by_link(client, first)[1].status_code == 302
    chapters.leave(chapters.membership_of(first, intro.chapter.slug))
    anonymous, answered = answer_by_link(client, second)
    assert answered.status_code == 302
    assert "cannot go ahead" in anonymous.get(answered.location).get_data(as_text=True)
    db.session.refresh(intro)
    assert intro.state is IntroState.CANCELLED and intro.closed_at is not None and intro.credit_note is None
    templates = {person: [m.template for m in mail_to(person.email)] for person in trio}
    assert not any("intro_completed" in sent or "intro_credited" in sent for sent in templates.values())
    assert templates[first] == ["intro_request"], "the leaver hears nothing more"
    assert templates[second][-1] == templates[introducer][-1] == "intro_not_ahead"
    assert first.email not in mail_to(second.email)[-1].body_text
    assert queries.balance(intro.chapter, introducer) == 0
    for viewer in (introducer, second):
        reader = Browser(client.application.test_client())
        reader.login(viewer.email)
        page = reader.get(f"/introductions/{intro.id}").get_data(as_text=True)
        assert "cancelled" in page and "No contact details were shared" in page
        assert first.email not in page and "Contact " not in page
    assert client.application.test_client().get(second_link).status_code == 410


@pytest.mark.parametrize(
    ("need", "status", "message"),
    [
        ("99999999999", 404, "There is no such need in your chapters"),
        ("9" * 30, 404, "There is no such need in your chapters"),
        ("%C2%B2", 404, "There is no such need in your chapters"),
        ("not-a-need", 404, "There is no such need in your chapters"),
        ("elsewhere", 404, "There is no such need in your chapters"),
        ("closed", 422, "That need is no longer open"),
    ],
)
def test_an_unknown_or_closed_need_is_refused_with_a_message(browser, trio, need, status, message):
    introducer, first, second = trio
    if need == "elsewhere":
        need = str(NeedFactory().id)
    elif need == "closed":
        home = db.session.scalar(select(Membership).where(Membership.member_id == first.id)).chapter
        closed = NeedFactory(chapter=home, asker=first, status=NeedStatus.CLOSED, closed_at=utcnow())
        need = str(closed.id)
    browser.login(introducer.email)
    page = browser.get(f"/introductions/new?need={need}")
    assert page.status_code == status and message in page.get_data(as_text=True)
    form = {"first_id": first.id, "second_id": second.id, "note": NOTE, "need_id": need}
    for path in (f"/introductions/new?need={need}", "/introductions/new"):
        response = browser.post(path, form)
        assert response.status_code == status and message in response.get_data(as_text=True)
    assert counts() == (0, 0)
