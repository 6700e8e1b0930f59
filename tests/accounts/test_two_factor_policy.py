"""A chapter's policy can ask organizers for two-factor: without it, organizer pages and API tokens wait."""

import pytest

from referral_hub.chapters.policy import update_policy
from referral_hub.extensions import db
from referral_hub.reports.models import ApiToken
from tests.accounts.test_two_factor import code_now, code_step, password_step, turn_on
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

ORGANIZER_PAGES = (
    "/chapters/{slug}/organize",
    "/chapters/{slug}/ledger",
    "/chapters/{slug}/ledger/policy",
    "/chapters/{slug}/roster-import",
)


@pytest.fixture
def chapter():
    return ChapterFactory(slug="riverbend")


@pytest.fixture
def organizer(chapter):
    member = MemberFactory(email="olga@example.org")
    MembershipFactory(chapter=chapter, member=member, organizer=True)
    return member


def require_two_factor(chapter, organizer, value=1):
    update_policy(chapter, changed_by=organizer, settings={"organizers_need_two_factor": value})


@pytest.mark.parametrize("page", ORGANIZER_PAGES)
def test_organizer_pages_are_refused_without_two_factor_where_the_policy_asks(
    browser, chapter, organizer, page
):
    require_two_factor(chapter, organizer)
    browser.login("olga@example.org")
    response = browser.get(page.format(slug=chapter.slug))
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "asks its organizers to sign in with two-factor" in body
    assert 'href="/settings/two-factor"' in body


def test_organizer_actions_are_refused_too(browser, chapter, organizer):
    require_two_factor(chapter, organizer)
    browser.login("olga@example.org")
    response = browser.post(
        "/chapters/riverbend/invitations", {"email": "new@example.org"}, form_page="/dashboard"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("page", ORGANIZER_PAGES)
def test_organizer_pages_open_without_two_factor_where_the_policy_does_not_ask(
    browser, chapter, organizer, page
):
    browser.login("olga@example.org")
    assert browser.get(page.format(slug=chapter.slug)).status_code == 200


def test_organizer_pages_open_once_two_factor_is_on(browser, chapter, organizer):
    require_two_factor(chapter, organizer)
    secret, _codes = turn_on(organizer)
    password_step(browser, "olga@example.org")
    code_step(browser, code_now(secret))
    assert browser.get("/chapters/riverbend/organize").status_code == 200


def test_the_policy_of_one_chapter_does_not_reach_another(browser, chapter, organizer):
    other = ChapterFactory(slug="farfield")
    MembershipFactory(chapter=other, member=organizer, organizer=True)
    require_two_factor(chapter, organizer)
    browser.login("olga@example.org")
    assert browser.get("/chapters/farfield/organize").status_code == 200
    assert browser.get("/chapters/riverbend/organize").status_code == 403


def test_an_api_token_for_the_chapter_is_refused_with_the_two_factor_page(browser, chapter, organizer):
    require_two_factor(chapter, organizer)
    browser.login("olga@example.org")
    response = browser.post("/settings/tokens", {"name": "Sheet", "chapter": "riverbend"})
    assert response.status_code == 403
    assert 'href="/settings/two-factor"' in response.get_data(as_text=True)
    assert db.session.query(ApiToken).count() == 0


def test_members_other_than_organizers_are_not_asked(browser, chapter, organizer):
    require_two_factor(chapter, organizer)
    member = MemberFactory(email="mia@example.org")
    MembershipFactory(chapter=chapter, member=member)
    browser.login("mia@example.org")
    assert browser.get("/chapters/riverbend/").status_code == 200
    assert browser.get("/chapters/riverbend/organize").status_code == 403
    assert "two-factor" not in browser.get("/chapters/riverbend/organize").get_data(as_text=True)
