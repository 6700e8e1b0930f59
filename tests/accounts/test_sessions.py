"""Logging in and out: one generic message, a fresh session at login, old sessions ended."""

import re

import pytest

from referral_hub.accounts import services
from referral_hub.extensions import db
from tests.conftest import csrf_from
from tests.factories import PASSWORD, MemberFactory

SESSION_COOKIE = "referral_hub_session"
GENERIC = "That email and password do not match an account."


def session_cookie(client) -> str:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else ""


def replay(app, cookie_value: str):
    """A new client carrying a copied session cookie, as a thief would."""
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, cookie_value)
    return client


def is_logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def form_messages(html: str) -> list[str]:
    return re.findall(r'<div class="flash flash-error" role="alert"><p>(.*?)</p>', html)


def test_login_with_the_right_password_opens_the_dashboard(browser):
    MemberFactory(email="ann@example.org", display_name="Ann Able")
    response = browser.login("ANN@example.org")
    assert response.headers["Location"] == "/dashboard"
    assert "Hello, Ann Able" in browser.get("/dashboard").get_data(as_text=True)


def test_an_unverified_account_can_log_in(browser):
    MemberFactory(email="new@example.org", unverified=True)
    browser.login("new@example.org")
    assert "Verify your email address" in browser.get("/dashboard").get_data(as_text=True)


def test_wrong_password_and_unknown_email_get_the_same_generic_message(browser):
    MemberFactory(email="ann@example.org")
    wrong_password = browser.post("/login", {"email": "ann@example.org", "password": "not my password"})
    unknown_email = browser.post("/login", {"email": "nobody@example.org", "password": "not my password"})
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert form_messages(wrong_password.get_data(as_text=True)) == [GENERIC]
    assert form_messages(unknown_email.get_data(as_text=True)) == [GENERIC]
    assert not is_logged_in(browser.client)


def test_authenticate_refuses_wrong_password_and_unknown_email_alike():
    MemberFactory(email="ann@example.org")
    with pytest.raises(services.InvalidCredentials) as wrong:
        services.authenticate("ann@example.org", "not my password")
    with pytest.raises(services.InvalidCredentials) as unknown:
        services.authenticate("nobody@example.org", PASSWORD)
    assert wrong.value.message == unknown.value.message == GENERIC


def test_login_starts_a_new_session_so_a_planted_cookie_stays_anonymous(app, browser):
    MemberFactory(email="ann@example.org")
    browser.get("/login")
    planted = session_cookie(browser.client)
    token_before = csrf_from(browser.get("/login").get_data(as_text=True))
    browser.login("ann@example.org")
    assert session_cookie(browser.client) not in ("", planted)
    # Login clears what the session held before: even the CSRF token is new.
    assert csrf_from(browser.get("/profile").get_data(as_text=True)) != token_before
    assert not is_logged_in(replay(app, planted))


def test_logout_is_post_only(browser):
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    assert browser.get("/logout").status_code == 405
    assert is_logged_in(browser.client)


def test_logout_ends_the_session_and_a_replayed_cookie_no_longer_works(app, browser):
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    stolen = session_cookie(browser.client)
    assert is_logged_in(replay(app, stolen))
    response = browser.post("/logout", form_page="/dashboard")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(browser.client)
    assert not is_logged_in(replay(app, stolen))


def test_logout_ends_only_this_session_and_other_devices_stay_signed_in(app, browser):
    # Signing out everywhere is the sessions page's "Sign out all others" (test_sessions_page.py).
    MemberFactory(email="ann@example.org")
    other_device = type(browser)(app.test_client())
    other_device.login("ann@example.org")
    browser.login("ann@example.org")
    browser.post("/logout", form_page="/dashboard")
    assert not is_logged_in(browser.client)
    assert is_logged_in(other_device.client)


def test_a_password_change_ends_old_sessions_and_keeps_the_current_one(app, browser):
    member = MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    stolen = session_cookie(browser.client)
    response = browser.post(
        "/password/change", {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    )
    assert response.status_code == 302
    assert is_logged_in(browser.client)
    assert not is_logged_in(replay(app, stolen))
    db.session.refresh(member)
    assert services.authenticate("ann@example.org", "a brand new passphrase") == member
    with pytest.raises(services.InvalidCredentials):
        services.authenticate("ann@example.org", PASSWORD)


def test_a_password_change_with_a_wrong_current_password_changes_nothing(app, browser):
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    cookie = session_cookie(browser.client)
    response = browser.post(
        "/password/change", {"current_password": "not my password", "new_password": "a brand new passphrase"}
    )
    assert response.status_code == 422
    assert "Your current password is not correct." in response.get_data(as_text=True)
    assert services.authenticate("ann@example.org", PASSWORD)
    assert is_logged_in(replay(app, cookie))


def test_a_too_short_new_password_is_refused_with_its_message(browser):
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    response = browser.post("/password/change", {"current_password": PASSWORD, "new_password": "short"})
    assert response.status_code == 422
    assert "Use 8 to 128 characters." in response.get_data(as_text=True)
    assert services.authenticate("ann@example.org", PASSWORD)


def test_pages_for_members_send_visitors_to_login_and_back(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
