"""Email links for verifying an address, resetting a password, signing in: GET shows, POST acts, once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_hub.accounts import services
from referral_hub.accounts.models import AccountLink, LinkPurpose
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.tokens import LinkExpired, LinkUnknown, LinkUsed
from tests.accounts.test_registration import statement_kinds
from tests.conftest import csrf_from, link_in, mail_to
from tests.factories import PASSWORD, AccountLinkFactory, MemberFactory

RESET = LinkPurpose.RESET_PASSWORD
VERIFY = LinkPurpose.VERIFY_EMAIL
SIGN_IN = LinkPurpose.SIGN_IN
LINK_PATHS = {VERIFY: "/verify/", RESET: "/password/reset/", SIGN_IN: "/login/link/"}


def test_verification_link_get_shows_a_button_and_changes_nothing(client):
    member = MemberFactory(unverified=True)
    services.send_verification(member)
    path = link_in(mail_to(member.email)[-1], "/verify/")
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert member.email in page and "Verify my address</button>" in page
    assert client.head(path).status_code == 200
    db.session.refresh(member)
    assert not member.is_verified
    assert db.session.scalar(select(AccountLink.used_at).where(AccountLink.member_id == member.id)) is None


def test_verification_link_post_verifies_the_address_once(browser):
    member = MemberFactory(unverified=True)
    services.send_verification(member)
    path = link_in(mail_to(member.email)[-1], "/verify/")
    response = browser.post(path)
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.is_verified
    again = browser.post(path, form_page="/login")
    assert again.status_code == 410
    assert "Link already used" in again.get_data(as_text=True)


def test_verify_service_marks_the_member_verified_and_the_link_used():
    member = MemberFactory(unverified=True)
    link = AccountLinkFactory(member=member, secret="verify-me")
    assert services.verify_email("verify-me") == member
    db.session.refresh(link)
    assert member.is_verified and link.used_at is not None
    with pytest.raises(LinkUsed):
        services.verify_email("verify-me")


@pytest.mark.parametrize("purpose", [VERIFY, RESET, SIGN_IN])
def test_unknown_expired_and_used_links_each_raise_their_own_error(purpose):
    AccountLinkFactory(purpose=purpose, secret="expired", expires_at=utcnow() - timedelta(seconds=1))
    AccountLinkFactory(purpose=purpose, secret="used", used_at=utcnow())
    with pytest.raises(LinkUnknown):
        services.open_link("no-such-secret", purpose)
    with pytest.raises(LinkExpired):
        services.open_link("expired", purpose)
    with pytest.raises(LinkUsed):
        services.open_link("used", purpose)


def test_a_link_for_one_purpose_does_not_open_the_other():
    AccountLinkFactory(purpose=VERIFY, secret="for-verifying")
    with pytest.raises(LinkUnknown):
        services.open_link("for-verifying", RESET)


@pytest.mark.parametrize("purpose", [VERIFY, RESET, SIGN_IN])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("state", "status", "title"),
    [
        ("unknown", 404, "Link not recognised"),
        ("expired", 410, "Link expired"),
        ("used", 410, "Link already used"),
    ],
)
def test_unusable_links_get_a_page_that_says_why(browser, purpose, method, state, status, title):
    member = MemberFactory()
    if state == "expired":
        AccountLinkFactory(
            member=member, purpose=purpose, secret=state, expires_at=utcnow() - timedelta(hours=1)
        )
    elif state == "used":
        AccountLinkFactory(member=member, purpose=purpose, secret=state, used_at=utcnow())
    path = LINK_PATHS[purpose] + state
    if method == "GET":
        response = browser.get(path)
    else:
        response = browser.post(path, {"password": "a new passphrase"}, form_page="/login")
    assert response.status_code == status
    assert title in response.get_data(as_text=True)
    db.session.refresh(member)
    assert services.authenticate(member.email, PASSWORD) == member


def test_forgotten_password_is_reset_from_the_emailed_link(app, browser):
    member = MemberFactory(email="ann@example.org")
    other_device = type(browser)(app.test_client())
    other_device.login("ann@example.org")
    response = browser.post("/password/forgot", {"email": "ANN@example.org"})
    assert response.status_code == 200
    path = link_in(mail_to("ann@example.org")[-1], "/password/reset/")
    assert browser.get(path).status_code == 200
    response = browser.post(path, {"password": "a brand new passphrase"})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    db.session.refresh(member)
    assert services.authenticate("ann@example.org", "a brand new passphrase") == member
    with pytest.raises(services.InvalidCredentials):
        services.authenticate("ann@example.org", PASSWORD)
    assert other_device.get("/dashboard").status_code == 302, "the reset ends other sessions"
    assert browser.post(path, {"password": "yet another phrase"}, form_page="/login").status_code == 410


def test_a_too_short_reset_password_is_refused_and_the_link_still_works(browser):
    member = MemberFactory(email="ann@example.org")
    AccountLinkFactory(member=member, purpose=RESET, secret="reset-me")
    response = browser.post("/password/reset/reset-me", {"password": "short"})
    assert response.status_code == 422
    assert "Use 8 to 128 characters." in response.get_data(as_text=True)
    assert browser.post("/password/reset/reset-me", {"password": "long enough now"}).status_code == 302


def ask_twice(browser, path: str, count_queries) -> tuple[list, list]:
    """Ask `path` for a link for a known and an unknown address: the two answers and their SQL."""
    answers, statements = [], []
    for email in ("ann@example.org", "nobody@example.org"):
        token = csrf_from(browser.get(path).get_data(as_text=True))
        with count_queries() as log:
            answers.append(browser.post(path, data={"email": email, "csrf_token": token}))
        statements.append(statement_kinds(log))
    return answers, statements


@pytest.mark.parametrize(
    ("path", "template", "link"),
    [
        ("/password/forgot", "reset_password", "/password/reset/"),
        ("/login/link", "sign_in_link", "/login/link/"),
    ],
)
def test_a_link_request_for_an_unknown_address_answers_the_same_and_does_the_same_work(
    browser, count_queries, path, template, link
):
    MemberFactory(email="ann@example.org")
    (known, unknown), (known_work, unknown_work) = ask_twice(browser, path, count_queries)
    assert known.status_code == unknown.status_code == 200
    known_page = known.get_data(as_text=True).replace("ann@example.org", "ADDRESS")
    unknown_page = unknown.get_data(as_text=True).replace("nobody@example.org", "ADDRESS")
    assert known_page == unknown_page
    [to_owner] = mail_to("ann@example.org")
    assert to_owner.template == template and link_in(to_owner, link)
    # The unknown address is told that it has no account: one message either way, one transaction.
    [note] = mail_to("nobody@example.org")
    assert note.template == "no_account" and "no account uses this address" in note.body_text
    # The only difference in work: the known address's link row.
    assert known_work == sorted([*unknown_work, "INSERT INTO account_links"])


def test_resetting_a_password_proves_the_address_and_verifies_it():
    member = MemberFactory(unverified=True)
    AccountLinkFactory(member=member, purpose=RESET, secret="reset-me")
    services.reset_password("reset-me", "a brand new passphrase")
    assert member.is_verified


def test_a_verification_link_can_be_sent_again_to_an_unverified_member(browser):
    member = MemberFactory(unverified=True)
    browser.login(member.email)
    response = browser.post("/verify/resend", form_page="/dashboard")
    assert response.status_code == 302
    [message] = mail_to(member.email)
    assert message.template == "verify_email"


def test_verification_links_can_be_sent_again_five_times_an_hour(browser):
    member = MemberFactory(unverified=True)
    browser.login(member.email)
    statuses = [browser.post("/verify/resend", form_page="/dashboard").status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert len(mail_to(member.email)) == 5


def test_asking_for_a_verification_link_without_logging_in_leads_to_login(browser):
    response = browser.post("/verify/resend", form_page="/login")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# Sign-in links -------------------------------------------------------------------------------


def test_a_sign_in_link_is_mailed_hashed_its_get_only_shows_and_one_post_signs_in(app, browser):
    member = MemberFactory(email="ann@example.org", unverified=True)
    login_page = browser.get("/login").get_data(as_text=True)
    assert 'href="/login/link"' in login_page and "Email me a sign-in link" in login_page
    response = browser.post("/login/link", {"email": "ANN@example.org"})
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    path = link_in(mail_to("ann@example.org")[-1], "/login/link/")
    link = db.session.scalar(select(AccountLink).where(AccountLink.member_id == member.id))
    assert link.purpose is SIGN_IN and link.token_hash != path.rsplit("/", 1)[1]
    assert timedelta(minutes=14) < link.expires_at - utcnow() <= timedelta(minutes=15)

    for _ in range(2):  # a mail scanner's GETs sign nobody in
        page = browser.get(path)
        assert page.status_code == 200 and "Sign in</button>" in page.get_data(as_text=True)
    assert browser.client.head(path).status_code == 200
    assert browser.get("/dashboard").status_code == 302

    response = browser.post(path)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert browser.get("/dashboard").status_code == 200
    db.session.refresh(member)
    assert member.is_verified, "following the link proves the address"
    again = type(browser)(app.test_client()).post(path, form_page="/login")
    assert again.status_code == 410 and "Link already used" in again.get_data(as_text=True)


def test_a_sign_in_link_expires_after_fifteen_minutes(browser):
    member = MemberFactory()
    AccountLinkFactory(
        member=member, purpose=SIGN_IN, secret="late", expires_at=utcnow() - timedelta(seconds=1)
    )
    response = browser.post("/login/link/late", form_page="/login")
    assert response.status_code == 410 and "Link expired" in response.get_data(as_text=True)
    assert browser.get("/dashboard").status_code == 302
    assert services.LINK_LIFETIME[SIGN_IN] == timedelta(minutes=15)


def test_sign_in_link_requests_are_rate_limited_like_password_resets(browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_RESET_PER_ACCOUNT", "2 per hour")
    MemberFactory(email="ann@example.org")
    statuses = [browser.post("/login/link", {"email": "ann@example.org"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert len(mail_to("ann@example.org")) == 2
