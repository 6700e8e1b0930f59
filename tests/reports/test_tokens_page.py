"""/settings/tokens: an organizer creates a token (shown once, stored as a hash), lists and revokes it."""

import re

import pytest
from sqlalchemy import func, select

from referral_hub.extensions import db
from referral_hub.reports.models import ApiToken
from referral_hub.tokens import digest

TOKENS = "/settings/tokens"
TOKEN_PATTERN = re.compile(r'data-token="(rh_[A-Za-z0-9_-]{32,})"')


def created_secret(response) -> str:
    match = TOKEN_PATTERN.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def test_an_organizer_creates_a_token_that_is_shown_once_and_stored_as_a_hash(browser, client, riverside):
    browser.login("olga@example.org")
    response = browser.post(TOKENS, {"name": "Board spreadsheet", "chapter": "riverside"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    secret = created_secret(response)
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash == digest(secret) and secret not in stored.token_hash
    assert (stored.name, stored.chapter_id, stored.member_id) == (
        "Board spreadsheet",
        riverside.chapter.id,
        riverside.olga.id,
    )
    listing = browser.get(TOKENS).get_data(as_text=True)
    assert secret not in listing and "Board spreadsheet" in listing and "never" in listing
    # And it works.
    assert client.get("/api/v1/chapters", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    # Its last use is shown (in the page's zone and language) instead of "never".
    row = browser.get(TOKENS).get_data(as_text=True).split("Board spreadsheet")[1].split("</tr>")[0]
    assert "never" not in row and str(stored.created_at.year) in row


def test_each_token_is_different(browser, riverside):
    browser.login("olga@example.org")
    secrets = {
        created_secret(browser.post(TOKENS, {"name": f"Sheet {n}", "chapter": "riverside"})) for n in range(3)
    }
    assert len(secrets) == 3


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "chapter": "riverside"}, "Give the token a name."),
        ({"name": "x" * 81, "chapter": "riverside"}, "Field cannot be longer than 80 characters."),
        ({"name": "Sheet", "chapter": "hillside"}, "Choose a chapter that you organize"),
        ({"name": "Sheet", "chapter": "no-such-chapter"}, "Choose a chapter that you organize"),
    ],
)
def test_a_refused_token_form_says_why_and_creates_nothing(browser, riverside, form, message):
    browser.login("olga@example.org")
    response = browser.post(TOKENS, form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert not TOKEN_PATTERN.search(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_member_who_organizes_nothing_is_told_so(browser, riverside):
    browser.login("dan@example.org")
    page = browser.get(TOKENS).get_data(as_text=True)
    assert "You organize no chapter" in page
    response = browser.post(TOKENS, {"name": "Sheet", "chapter": "riverside"}, form_page="/profile")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoking_a_token_stops_it_at_once(browser, client, riverside):
    browser.login("olga@example.org")
    secret = created_secret(browser.post(TOKENS, {"name": "Sheet", "chapter": "riverside"}))
    token_id = db.session.scalar(select(ApiToken.id))
    asked = browser.post(f"{TOKENS}/{token_id}/revoke", form_page=TOKENS)
    assert asked.status_code == 200 and "Revoke the token “Sheet”?" in asked.get_data(as_text=True)
    assert client.get("/api/v1/chapters", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    response = browser.post(f"{TOKENS}/{token_id}/revoke", {"confirm": "yes"}, form_page=TOKENS)
    assert response.status_code == 302
    assert "revoked" in browser.get(TOKENS).get_data(as_text=True)
    assert client.get("/api/v1/chapters", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_nobody_revokes_someone_elses_token(browser, riverside, token):
    token_id = db.session.scalar(select(ApiToken.id))
    browser.login("hal@example.org")
    assert (
        browser.post(f"{TOKENS}/{token_id}/revoke", {"confirm": "yes"}, form_page=TOKENS).status_code == 404
    )
    db.session.expire_all()
    assert db.session.get(ApiToken, token_id).revoked_at is None


def test_the_tokens_page_needs_a_login_and_a_csrf_token(client, riverside):
    assert client.get(TOKENS).status_code == 302
    assert client.post(TOKENS, data={"name": "x", "chapter": "riverside"}).status_code in (302, 400)
