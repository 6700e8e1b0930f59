"""Relationship pages through the test client: profile, dashboard, need page, requests, forms."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import Decision
from referral_hub.ledger import posting, queries
from referral_hub.ledger.models import Kind
from referral_hub.relationships.models import Interaction, InteractionKind, IntroRequest, RequestState
from tests.conftest import Browser, csrf_from, mail_to
from tests.factories import ChapterFactory, ChapterPolicyFactory, MembershipFactory, NeedFactory

from .conftest import interact

INTRO_NOTE = "Ann caters weddings and Bob runs three harbour restaurants: they should plan a tasting."
ASK_NOTE = "Tom runs the harbour restaurants and I would love to cater for his next opening."


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def selected(html: str, field: str) -> str:
    """The value of the selected option of the page's <select> named `field`."""
    select_html = re.search(rf'<select[^>]*id="{field}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option selected value="([^"]*)"', select_html).group(1)


def interactions() -> int:
    return db.session.scalar(select(func.count()).select_from(Interaction))


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def trio(member_of):
    return member_of("Ann"), member_of("Bob"), member_of("Carl")


def test_a_profile_shows_how_you_know_each_other(browser, trio):
    ann, bob, _ = trio
    interact(ann, bob, InteractionKind.ONE_TO_ONE, at=utcnow() - timedelta(days=3))
    db.session.add(
        Interaction(
            pair_low_id=min(ann.id, bob.id),
            pair_high_id=max(ann.id, bob.id),
            kind=InteractionKind.THANKS,
            weight=1,
            occurred_at=utcnow() - timedelta(days=5),
            note="<script>alert(1)</script>",
            event_key="test:escaped-note",
        )
    )
    db.session.flush()
    browser.login(ann.email)
    html = page_text(browser.get(f"/members/{bob.id}"))
    assert "How you know each other" in html and 'data-strength="warm"' in html
    assert "last: a one-to-one on" in html and "a thank-you note" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "How you know each other" not in page_text(browser.get(f"/members/{ann.id}"))


def test_logging_a_one_to_one_from_the_profile(browser, trio):
    ann, bob, _ = trio
    browser.login(ann.email)
    today = utcnow().date().isoformat()
    response = browser.post(
        f"/members/{bob.id}/one-to-ones",
        {"met_on": today, "meeting_note": "Lunch"},
        form_page=f"/members/{bob.id}",
    )
    assert response.status_code == 302
    html = page_text(browser.get(f"/members/{bob.id}"))
    assert "Your one-to-one with Bob is logged." in html and "“Lunch”" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"met_on": "2999-01-01"}, "once it has happened"),
        ({"met_on": "yesterday"}, "Not a valid date value."),
        ({"met_on": "2025-01-01", "meeting_note": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_a_refused_one_to_one_re_renders_the_profile_and_writes_nothing(browser, trio, fields, message):
    ann, bob, _ = trio
    browser.login(ann.email)
    response = browser.post(f"/members/{bob.id}/one-to-ones", fields, form_page=f"/members/{bob.id}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert interactions() == 0


def test_one_to_ones_and_notes_are_only_for_members_you_share_a_chapter_with(browser, trio):
    ann, _, _ = trio
    stranger = MembershipFactory(chapter=ChapterFactory()).member
    browser.login(ann.email)
    for path in (f"/members/{stranger.id}/one-to-ones", f"/members/{stranger.id}/thanks"):
        response = browser.post(path, {"met_on": "2025-01-01", "thanks_note": "Hi"}, form_page="/dashboard")
        assert response.status_code == 404
    assert interactions() == 0


def test_a_one_to_one_with_yourself_or_a_stranger_on_a_valid_day_is_not_found(browser, trio):
    ann, _, _ = trio
    stranger = MembershipFactory(chapter=ChapterFactory()).member
    browser.login(ann.email)
    today = utcnow().date().isoformat()
    for other in (ann, stranger):
        response = browser.post(f"/members/{other.id}/one-to-ones", {"met_on": today}, form_page="/dashboard")
        assert response.status_code == 404
    assert interactions() == 0


def test_logging_a_one_to_one_checks_the_shared_chapter_once(browser, trio, count_queries):
    ann, bob, _ = trio
    browser.login(ann.email)
    token = csrf_from(browser.get(f"/members/{bob.id}").get_data(as_text=True))
    fields = {"met_on": utcnow().date().isoformat(), "csrf_token": token}
    with count_queries() as log:
        response = browser.client.post(f"/members/{bob.id}/one-to-ones", data=fields)
    assert response.status_code == 302
    assert sum("HAVING count(memberships.member_id)" in statement for statement in log.queries) == 1


def test_a_thank_you_note_from_the_profile_is_emailed(browser, trio):
    ann, bob, _ = trio
    browser.login(ann.email)
    form_page = f"/members/{bob.id}"
    assert (
        browser.post(f"/members/{bob.id}/thanks", {"thanks_note": ""}, form_page=form_page).status_code == 422
    )
    response = browser.post(f"/members/{bob.id}/thanks", {"thanks_note": "Thank you!"}, form_page=form_page)
    assert response.status_code == 302 and response.location.endswith(f"/members/{bob.id}")
    assert "Thank you!" in mail_to(bob.email)[-1].body_text
    again = browser.post(f"/members/{bob.id}/thanks", {"thanks_note": "Thanks again"}, form_page=form_page)
    assert again.status_code == 422 and "already thanked Bob today" in again.get_data(as_text=True)
    assert interactions() == 1


def test_a_party_thanks_the_introducer_from_the_introduction(browser, trio):
    ann, bob, carl = trio
    intro = making.introduce(carl, first_id=ann.id, second_id=bob.id, note=INTRO_NOTE)
    for consent in intro.consents:
        answering.answer(consent, Decision.ACCEPT)
    browser.login(ann.email)
    page = f"/introductions/{intro.id}"
    assert "Thank Carl" in page_text(browser.get(page))
    fields = {"thanks_note": "Bob is great, thank you.", "introduction_id": intro.id}
    response = browser.post(f"/members/{carl.id}/thanks", fields, form_page=page)
    assert response.status_code == 302 and response.location.endswith(page)
    assert "for the introduction of Ann and Bob" in mail_to(carl.email)[-1].body_text
    again = browser.post(f"/members/{carl.id}/thanks", fields, form_page=page)
    assert again.status_code == 302 and "already thanked Carl today" in page_text(browser.get(page))


def test_asking_a_connector_from_the_profile(chapter, client, member_of):
    ann, tom, dan = member_of("Ann"), member_of("Tom"), member_of("Dan")
    interact(dan, ann, InteractionKind.ONE_TO_ONE, at=utcnow())
    interact(dan, tom, InteractionKind.BUSINESS_CLOSED, at=utcnow())
    posting.post(
        chapter,
        key="test:credits",
        kind=Kind.GRANT,
        memo="test",
        caused_by=None,
        entries=[(posting.POOL, -1), (ann, 1)],
    )
    browser = Browser(client)
    browser.login(ann.email)
    profile = page_text(browser.get(f"/members/{tom.id}"))
    assert "Who can introduce you" in profile and "Ask Dan to introduce you" in profile
    assert (
        "knows you (warm, last a one-to-one" in profile and "knows Tom (warm, last business closed" in profile
    )

    refused = browser.post(f"/members/{tom.id}/ask", {"connector_id": dan.id, "ask_note": "<b>pls</b>"})
    assert refused.status_code == 422
    assert "Write 20 to 1000 characters" in refused.get_data(as_text=True)
    assert "&lt;b&gt;pls&lt;/b&gt;</textarea>" in refused.get_data(as_text=True)

    asked = browser.post(f"/members/{tom.id}/ask", {"connector_id": dan.id, "ask_note": ASK_NOTE})
    assert asked.status_code == 302
    request = db.session.scalar(select(IntroRequest))
    assert asked.location.endswith(f"/intro-requests/{request.id}")
    assert "You asked" in page_text(browser.get(f"/members/{tom.id}"))

    dan_browser = Browser(client.application.test_client())
    dan_browser.login(dan.email)
    assert "Ann would like to meet Tom" in page_text(dan_browser.get("/dashboard"))
    request_page = page_text(dan_browser.get(f"/intro-requests/{request.id}"))
    assert f"/introductions/new?first={ann.id}&amp;second={tom.id}" in request_page
    new_page = page_text(dan_browser.get(f"/introductions/new?first={ann.id}&second={tom.id}"))
    assert (selected(new_page, "first_id"), selected(new_page, "second_id")) == (str(ann.id), str(tom.id))
    declined = dan_browser.post(
        f"/intro-requests/{request.id}/decline", form_page=f"/intro-requests/{request.id}"
    )
    assert declined.status_code == 302
    db.session.refresh(request)
    assert request.state is RequestState.DECLINED and queries.balance(chapter, ann) == 1

    tom_browser = Browser(client.application.test_client())
    tom_browser.login(tom.email)
    assert tom_browser.get(f"/intro-requests/{request.id}").status_code == 404


def test_the_profile_names_the_shared_chapter_s_asking_cost_or_lets_the_asker_choose_the_chapter(
    browser, chapter, member_of
):
    ann, tom, dan = member_of("Ann"), member_of("Tom"), member_of("Dan")
    interact(dan, ann, InteractionKind.ONE_TO_ONE, at=utcnow())
    interact(dan, tom, InteractionKind.ONE_TO_ONE, at=utcnow())
    browser.login(ann.email)
    profile = page_text(browser.get(f"/members/{tom.id}"))
    assert "Asking costs 1 credit," in profile, "the default"
    assert '<input type="hidden" name="chapter" value="riverside">' in profile
    ChapterPolicyFactory(chapter=chapter, connector_cost=4)
    assert "Asking costs 4 credits," in page_text(browser.get(f"/members/{tom.id}"))

    harbour = ChapterFactory(name="Harbour", slug="harbour")
    for member in (ann, tom):
        MembershipFactory(chapter=harbour, member=member)
    profile = page_text(browser.get(f"/members/{tom.id}"))
    assert "Asking costs the chapter's connector credits" in profile.replace("&#39;", "'")
    options = re.search(r'<select id="ask-chapter-\d+" name="chapter">(.*?)</select>', profile, re.S).group(1)
    assert (
        options.strip()
        == '<option value="harbour">Harbour</option><option value="riverside">Riverside</option>'
    )


def test_the_dashboard_nudges_and_a_snooze_hides_the_nudge(browser, trio):
    ann, bob, _ = trio
    interact(ann, bob, InteractionKind.BUSINESS_CLOSED, at=utcnow() - timedelta(days=61))
    browser.login(ann.email)
    html = page_text(browser.get("/dashboard"))
    assert "Keep in touch" in html and f'href="/members/{bob.id}#one-to-one"' in html
    assert f'href="/introductions/new?first={bob.id}"' in html
    response = browser.post(f"/nudges/{bob.id}/snooze", form_page="/dashboard")
    assert response.status_code == 302
    html = page_text(browser.get("/dashboard"))
    assert "We will remind you again after" in html and f'href="/members/{bob.id}#one-to-one"' not in html
    assert browser.post(f"/nudges/{bob.id}/forget", form_page="/dashboard").status_code == 404


def test_the_dashboard_and_the_need_page_match_needs_and_members(browser, chapter, member_of):
    pia = member_of("Pia", headline="Payroll for restaurants", expertise="payroll, tips")
    ash = member_of("Ash", headline="Florist", expertise="flowers")
    need = NeedFactory(chapter=chapter, asker=ash, title="Restaurant payroll", details="Weekly tips too.")
    browser.login(pia.email)
    assert (
        f'href="/needs/{need.id}"' in page_text(browser.get("/dashboard")).split("Needs you may help with")[1]
    )
    carl = member_of("Carl")
    carl_browser = Browser(browser.client.application.test_client())
    carl_browser.login(carl.email)
    html = page_text(carl_browser.get(f"/needs/{need.id}"))
    assert "Members who may help" in html
    assert f'href="/introductions/new?need={need.id}&amp;second={pia.id}"' in html
    new_page = page_text(carl_browser.get(f"/introductions/new?need={need.id}&second={pia.id}"))
    assert (selected(new_page, "first_id"), selected(new_page, "second_id")) == (str(ash.id), str(pia.id))


def test_the_connector_requests_page_lists_both_directions(browser, trio):
    ann, _, _ = trio
    browser.login(ann.email)
    html = page_text(browser.get("/intro-requests"))
    assert "Asked of you" in html and "Asked by you" in html


@pytest.mark.parametrize("connector_id", ["1" * 30, "2147483648", "\u0663", "+1", "dan"])
def test_asking_a_connector_who_is_not_a_member_id_re_renders_with_a_message(
    browser, member_of, connector_id
):
    ann, tom = member_of("Ann"), member_of("Tom")
    browser.login(ann.email)
    refused = browser.post(
        f"/members/{tom.id}/ask",
        {"connector_id": connector_id, "ask_note": ASK_NOTE},
        form_page=f"/members/{tom.id}",
    )
    assert refused.status_code == 422
    assert "Choose who to ask from the list" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(IntroRequest)) == 0
