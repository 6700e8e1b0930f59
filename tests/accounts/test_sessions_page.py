"""The sessions page: where a member is signed in, signing out one or all others, and a lean user loader."""

import re
from datetime import timedelta

import pytest

from referral_hub.accounts import services, sessions
from referral_hub.accounts.models import MemberSession
from referral_hub.clock import utcnow
from referral_hub.errors import NotFound
from referral_hub.extensions import db
from referral_hub.web.accounts.views import load_member
from tests.conftest import Browser
from tests.factories import MemberFactory

FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def device(app, user_agent: str, address: str) -> Browser:
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    return Browser(client)


def is_logged_in(browser) -> bool:
    return browser.get("/dashboard").status_code == 200


def session_rows(html: str) -> list[str]:
    return re.findall(r"<tr data-session=\"(?:current|other)\">(.*?)</tr>", html, re.S)


def end_path(html: str, which: str) -> str:
    row = re.search(rf'<tr data-session="{which}">(.*?)</tr>', html, re.S).group(1)
    return re.search(r'action="(/settings/sessions/[0-9a-f]+/end)"', row).group(1)


def test_the_page_lists_each_device_with_its_address_and_marks_this_session(app):
    MemberFactory(email="ann@example.org")
    laptop = device(app, FIREFOX_ON_WINDOWS, "198.51.100.7")
    phone = device(app, SAFARI_ON_IPHONE, "203.0.113.9")
    laptop.login("ann@example.org")
    phone.login("ann@example.org")
    page = laptop.get("/settings/sessions").get_data(as_text=True)
    rows = session_rows(page)
    assert len(rows) == 2
    this = next(row for row in rows if "(this session)" in row)
    assert "Firefox on Windows" in this and "198.51.100.7" in this and "just now" in this
    other = next(row for row in rows if "(this session)" not in row)
    assert "Mobile Safari on iOS" in other and "203.0.113.9" in other


def test_signing_out_another_session_stops_its_cookie_at_once(app):
    MemberFactory(email="ann@example.org")
    laptop = device(app, FIREFOX_ON_WINDOWS, "198.51.100.7")
    phone = device(app, SAFARI_ON_IPHONE, "203.0.113.9")
    laptop.login("ann@example.org")
    phone.login("ann@example.org")
    path = end_path(laptop.get("/settings/sessions").get_data(as_text=True), "other")
    response = laptop.post(path, {}, form_page="/settings/sessions")
    assert response.status_code == 302
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)
    assert len(session_rows(laptop.get("/settings/sessions").get_data(as_text=True))) == 1


def test_sign_out_all_others_keeps_only_this_one(app):
    MemberFactory(email="ann@example.org")
    browsers = [device(app, FIREFOX_ON_WINDOWS, f"198.51.100.{n}") for n in range(3)]
    for browser in browsers:
        browser.login("ann@example.org")
    response = browsers[0].post("/settings/sessions/end-others", {}, form_page="/settings/sessions")
    assert response.status_code == 302
    assert [is_logged_in(browser) for browser in browsers] == [True, False, False]


def test_signing_out_this_session_from_the_page_logs_out(app):
    MemberFactory(email="ann@example.org")
    laptop = device(app, FIREFOX_ON_WINDOWS, "198.51.100.7")
    laptop.login("ann@example.org")
    path = end_path(laptop.get("/settings/sessions").get_data(as_text=True), "current")
    assert laptop.post(path, {}, form_page="/settings/sessions").headers["Location"] == "/login"
    assert not is_logged_in(laptop)


def test_another_members_session_cannot_be_signed_out(app):
    MemberFactory(email="ann@example.org")
    MemberFactory(email="bob@example.org")
    ann, bob = device(app, FIREFOX_ON_WINDOWS, "198.51.100.7"), device(app, SAFARI_ON_IPHONE, "203.0.113.9")
    ann.login("ann@example.org")
    bob.login("bob@example.org")
    bobs = end_path(bob.get("/settings/sessions").get_data(as_text=True), "current")
    assert ann.post(bobs, {}, form_page="/settings/sessions").status_code == 404
    assert is_logged_in(bob)


def test_end_sessions_keeps_the_one_it_is_given():
    member = MemberFactory()
    kept, ended = (sessions.start(member, user_agent="", address="") for _ in range(2))
    services.end_sessions(member, keep=kept.id)
    db.session.expire_all()
    assert db.session.get(MemberSession, kept.id).ended_at is None
    assert db.session.get(MemberSession, ended.id).ended_at is not None


def test_end_session_is_one_statement_keeps_an_earlier_end_and_finds_no_one_elses(count_queries):
    ann, bob = MemberFactory(), MemberFactory()
    session = sessions.start(ann, user_agent="", address="")
    first_end = utcnow() - timedelta(hours=1)
    with count_queries() as log:
        sessions.end_session(ann, session.id, now=first_end)
    assert log.count == 1
    sessions.end_session(ann, session.id)  # again: changes nothing
    db.session.expire_all()
    assert db.session.get(MemberSession, session.id).ended_at == first_end
    with pytest.raises(NotFound):
        sessions.end_session(bob, session.id)
    with pytest.raises(NotFound):
        sessions.end_session(ann, "no-such-session")


@pytest.mark.parametrize("method", ["GET", "POST"])  # a page's header comes with the member; a write's not
def test_the_user_loader_is_one_query_and_refuses_an_ended_or_foreign_session(app, count_queries, method):
    ann, bob = MemberFactory(), MemberFactory()
    sessions.start(ann, user_agent="", address="")
    login_id = ann.get_id()
    with app.test_request_context(method=method):
        with count_queries() as log:
            assert load_member(login_id) == ann
        assert log.count == 1
        secret = login_id.partition(":")[2]
        assert load_member(f"{bob.id}:{secret}") is None  # the secret is Ann's
        assert load_member(f"{ann.id}:not-the-secret") is None
        services.end_sessions(ann)
        assert load_member(login_id) is None


def test_a_page_view_records_the_last_use_at_most_once_per_five_minutes(app):
    MemberFactory(email="ann@example.org")
    laptop = device(app, FIREFOX_ON_WINDOWS, "198.51.100.7")
    laptop.login("ann@example.org")
    row = db.session.scalars(db.select(MemberSession)).one()
    recent = utcnow() - timedelta(minutes=4)
    row.last_seen_at = recent
    db.session.flush()
    laptop.get("/dashboard")
    db.session.refresh(row)
    assert row.last_seen_at == recent  # fresh enough: no write
    row.last_seen_at = utcnow() - timedelta(minutes=6)
    db.session.flush()
    laptop.get("/dashboard")
    db.session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
    page = laptop.get("/settings/sessions").get_data(as_text=True)
    assert "just now" in page


def test_the_page_says_roughly_when_a_session_was_last_used(app):
    MemberFactory(email="ann@example.org")
    laptop, phone = (
        device(app, FIREFOX_ON_WINDOWS, "198.51.100.7"),
        device(app, SAFARI_ON_IPHONE, "203.0.113.9"),
    )
    laptop.login("ann@example.org")
    phone.login("ann@example.org")
    phone_row = db.session.scalars(
        db.select(MemberSession).where(MemberSession.user_agent == SAFARI_ON_IPHONE)
    ).one()
    phone_row.last_seen_at = utcnow() - timedelta(hours=3, minutes=5)
    db.session.flush()
    assert "3 hours ago" in laptop.get("/settings/sessions").get_data(as_text=True)


def test_pages_are_for_signed_in_members(client):
    for path in ("/settings/sessions", "/settings/two-factor"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_the_profile_links_the_account_pages(app):
    MemberFactory(email="ann@example.org")
    laptop = device(app, FIREFOX_ON_WINDOWS, "198.51.100.7")
    laptop.login("ann@example.org")
    page = laptop.get("/profile").get_data(as_text=True)
    assert 'href="/settings/two-factor"' in page and 'href="/settings/sessions"' in page
