"""Who may read which chapter's reports: the access matrix on every endpoint, tokens' life, rate limits."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_hub.chapters import services as chapters
from referral_hub.chapters.models import Membership, Role
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.reports.access import TokenRefused, create_token, revoke_token
from referral_hub.reports.models import ApiToken
from referral_hub.tokens import digest
from tests.factories import MembershipFactory

ENDPOINTS = [
    "/api/v1/chapters/riverside/summary",
    "/api/v1/chapters/riverside/members",
    "/api/v1/chapters/riverside/introductions",
    "/api/v1/chapters/riverside/needs",
    "/api/v1/chapters/riverside/ledger",
    "/api/v1/chapters/riverside/activity",
]
ALL_ENDPOINTS = ["/api/v1/chapters", *ENDPOINTS]


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


@pytest.fixture
def hillside_token(riverside):
    return create_token(riverside.hal, name="Hillside sheet", chapter_slug="hillside")[1]


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_the_organizers_token_reads_every_endpoint(api, path):
    response = api(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic b2xnYTpwYXNzd29yZA==",
        "Bearer rh_not-a-token-anyone-was-given-0000000",
    ],
)
def test_no_token_or_an_unknown_one_is_401_json(client, riverside, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_a_revoked_token_is_401(api, riverside, token, path):
    stored = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    revoke_token(riverside.olga, stored.id)
    response = api(path)
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_token_of_another_chapter_reads_nothing_of_this_one(api, hillside_token, path):
    response = api(path, bearer=hillside_token)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_token_of_another_chapter_lists_only_its_own(api, hillside_token):
    body = api("/api/v1/chapters", bearer=hillside_token).get_json()
    assert [row["slug"] for row in body["items"]] == ["hillside"]


def test_an_unknown_chapter_and_a_forbidden_one_get_the_same_answer(api, hillside_token):
    unknown = api("/api/v1/chapters/no-such-chapter/summary", bearer=hillside_token)
    forbidden = api("/api/v1/chapters/riverside/summary", bearer=hillside_token)
    assert (unknown.status_code, unknown.get_json()) == (forbidden.status_code, forbidden.get_json())


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
@pytest.mark.parametrize("email", ["olga@example.org", "ann@example.org"], ids=["organizer", "member"])
def test_a_session_cookie_is_not_an_api_credential(browser, riverside, path, email):
    browser.login(email)
    response = browser.get(path)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_an_organizer_who_steps_down_loses_access_at_once(api, riverside, path):
    MembershipFactory(chapter=riverside.chapter, organizer=True)  # someone else keeps the chapter going
    assert api(path).status_code == 200
    membership = db.session.scalar(
        select(Membership).where(
            Membership.chapter_id == riverside.chapter.id, Membership.member_id == riverside.olga.id
        )
    )
    membership.role = Role.MEMBER
    db.session.flush()
    response = api(path)
    assert response.status_code == 403
    assert "no longer organizes Riverside" in error_of(response)["message"]


def test_a_removed_organizer_loses_access(api, riverside):
    MembershipFactory(chapter=riverside.chapter, organizer=True)
    chapters.remove(chapters.membership_in(riverside.chapter, riverside.olga.id))
    assert api("/api/v1/chapters/riverside/summary").status_code == 403


def test_a_member_cannot_create_a_token_for_a_chapter_they_do_not_organize(riverside):
    with pytest.raises(TokenRefused, match="Choose a chapter that you organize"):
        create_token(riverside.ann, name="Mine", chapter_slug="riverside")
    with pytest.raises(TokenRefused):
        create_token(riverside.olga, name="Theirs", chapter_slug="hillside")


def test_use_is_recorded_to_the_minute(api, token):
    stored = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    assert stored.last_used_at is None
    api("/api/v1/chapters")
    db.session.refresh(stored)
    first_use = stored.last_used_at
    assert first_use is not None and utcnow() - first_use < timedelta(seconds=30)
    api("/api/v1/chapters")
    db.session.refresh(stored)
    assert stored.last_used_at == first_use  # not rewritten on every request


def test_the_api_answers_json_for_unknown_paths_and_methods(api, client):
    missing = api("/api/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    posted = client.post("/api/v1/chapters")
    assert posted.status_code in (401, 405)
    error_of(posted)


def test_too_many_requests_get_429_json(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API_PER_TOKEN", "3 per minute")
    statuses = [api("/api/v1/chapters").status_code for _ in range(4)]
    last = api("/api/v1/chapters")
    assert statuses == [200, 200, 200, 429]
    assert last.status_code == 429
    assert error_of(last)["code"] == "too_many_requests"
    assert "Retry-After" in last.headers


def test_requests_without_a_token_are_limited_per_address(app, client, riverside, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API_PER_ADDRESS", "2 per minute")
    statuses = [client.get("/api/v1/chapters").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


@pytest.mark.parametrize(
    "respelled", ["bearer {}", "BEARER {}", "Bearer  {}", "  Bearer {}  ", "bEaReR   {} "]
)
def test_respelling_bearer_counts_against_the_same_tokens_limit(app, client, token, monkeypatch, respelled):
    monkeypatch.setitem(app.config, "RATELIMIT_API_PER_TOKEN", "3 per minute")
    sent = [f"Bearer {token}"] * 2 + [respelled.format(token)] * 2
    statuses = [
        client.get("/api/v1/chapters", headers={"Authorization": header}).status_code for header in sent
    ]
    assert statuses == [200, 200, 200, 429]
