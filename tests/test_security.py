"""Security defaults: CSRF on every form, local-only redirects, cookie flags, production settings."""

from urllib.parse import quote

import pytest

from referral_hub import create_app
from referral_hub.accounts.models import Member
from referral_hub.config import ConfigError
from referral_hub.extensions import db
from tests.conftest import Browser, csrf_from
from tests.factories import PASSWORD, ChapterFactory, MemberFactory, MembershipFactory

SESSION_COOKIE = "referral_hub_session"


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/register", {"display_name": "Ann", "email": "ann@example.org", "password": "a long passphrase"}),
        ("/login", {"email": "member@example.org", "password": PASSWORD}),
        ("/logout", {}),
        ("/profile", {"display_name": "Hacked"}),
        ("/password/change", {"current_password": PASSWORD, "new_password": "hacked passphrase"}),
        ("/password/forgot", {"email": "member@example.org"}),
        ("/chapters/join", {"slug": "riverside"}),
        ("/chapters/riverside/invitations", {"email": "guest@example.org"}),
        ("/chapters/riverside/leave", {}),
    ],
)
def test_a_post_without_a_csrf_token_is_refused_with_400(browser, path, form):
    chapter = ChapterFactory(slug="riverside")
    MembershipFactory(chapter=chapter, organizer=True, member__email="member@example.org")
    browser.login("member@example.org")
    response = browser.client.post(path, data=form)
    assert response.status_code == 400
    assert "CSRF token is missing" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(Member).filter_by(display_name="Hacked").count() == 0
    assert db.session.query(Member).filter_by(email_key="ann@example.org").count() == 0
    assert browser.get("/dashboard").status_code == 200, "still logged in"


def test_a_post_with_another_sessions_csrf_token_is_refused(app, browser):
    MemberFactory(email="member@example.org")
    foreign_token = csrf_from(app.test_client().get("/login").get_data(as_text=True))
    browser.get("/login")
    response = browser.client.post(
        "/login", data={"email": "member@example.org", "password": PASSWORD, "csrf_token": foreign_token}
    )
    assert response.status_code == 400


def token_of(browser) -> str:
    return csrf_from(browser.get("/login").get_data(as_text=True))


def login_with_next(browser, target: str):
    return browser.client.post(
        "/login?next=" + quote(target, safe=""),
        data={"email": "member@example.org", "password": PASSWORD, "csrf_token": token_of(browser)},
    )


@pytest.mark.parametrize("target", ["/chapters/riverside/members?q=law", "/profile", "/join/abc"])
def test_login_follows_a_local_next(browser, target):
    MemberFactory(email="member@example.org")
    response = login_with_next(browser, target)
    assert response.status_code == 302 and response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.com/path",
        "https://evil.com",
        "http://evil.com/dashboard",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "javascript:alert(1)",
        "evil.com",
        "///evil.com",
        "https:/evil.com",
    ],
)
def test_login_ignores_a_next_that_leaves_the_site(browser, target):
    MemberFactory(email="member@example.org")
    response = login_with_next(browser, target)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def session_set_cookie(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE + "=")]
    return header


def test_the_session_cookie_is_http_only_and_same_site_lax(browser):
    MemberFactory(email="member@example.org")
    response = browser.login("member@example.org")
    header = session_set_cookie(response)
    assert "session" in SESSION_COOKIE
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header, "plain http in tests; production adds Secure"


PRODUCTION_SECRET = "a-long-random-production-secret-5f3b9c1e"


@pytest.fixture
def production(monkeypatch, database_url):
    """Build an app the way production does: from the environment, with REFERRAL_HUB_ENV=production.

    It reads and writes in the test's transaction, like the test app (`db.session` is the test's).
    """

    def build(**environment):
        monkeypatch.setenv("REFERRAL_HUB_ENV", "production")
        for name in ("SECRET_KEY", "TRUST_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATABASE_URL", database_url)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return create_app()

    return build


def test_production_refuses_to_start_without_a_secret_key(production):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set in production"):
        production()


def test_production_marks_cookies_secure_http_only_and_same_site_lax(production):
    app = production(SECRET_KEY=PRODUCTION_SECRET)
    assert app.config["SECRET_KEY"] == PRODUCTION_SECRET
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    header = session_set_cookie(response)
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


def test_production_never_redirects_to_https_itself(production):
    app = production(SECRET_KEY=PRODUCTION_SECRET)
    assert app.test_client().get("/login").status_code == 200


def test_an_unknown_environment_name_is_refused(production):
    with pytest.raises(ConfigError, match="REFERRAL_HUB_ENV must be one of"):
        production(REFERRAL_HUB_ENV="staging", SECRET_KEY="x")


def fail_logins_from(app, addresses: list[str]) -> list[int]:
    """Failed logins, each sent with an `X-Forwarded-For` header from the list; their statuses."""
    browser = Browser(app.test_client())  # over https, as production's test client is
    form = {"email": "nobody@example.org", "password": "not the password"}
    return [
        browser.post(
            "/login", form, headers={"X-Forwarded-For": address, "Referer": "https://localhost/login"}
        ).status_code
        for address in addresses
    ]


def test_by_default_a_forged_x_forwarded_for_does_not_escape_the_per_address_login_limit(production):
    app = production(SECRET_KEY=PRODUCTION_SECRET, RATELIMIT_AUTH_PER_ADDRESS="3 per minute")
    rotated = [f"203.0.113.{n}" for n in range(1, 6)]
    assert fail_logins_from(app, rotated) == [401, 401, 401, 429, 429]


def test_behind_the_proxies_trust_proxy_counts_the_client_address_they_forward(production):
    app = production(SECRET_KEY=PRODUCTION_SECRET, TRUST_PROXY="2", RATELIMIT_AUTH_PER_ADDRESS="3 per minute")
    # Two proxies: the outer one appends the client's address, the inner one the outer's.
    clients = [f"203.0.113.{n}, 10.0.0.2" for n in range(1, 6)]
    assert fail_logins_from(app, clients) == [401] * 5, "each client has its own count"
    one_client = ["198.51.100.7, 10.0.0.2"] * 4
    assert fail_logins_from(app, one_client) == [401, 401, 401, 429]


def test_security_headers_are_on_pages_errors_and_refusals_alike(browser):
    MemberFactory(email="member@example.org")
    responses = {
        "page": browser.get("/login"),
        "not found": browser.get("/chapters/nowhere/"),
        "csrf refusal": browser.client.post("/login", data={}),
        "redirect": browser.get("/dashboard"),
    }
    for name, response in responses.items():
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"], name
