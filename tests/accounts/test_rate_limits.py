"""Rate limits on logging in, registering and resetting: 429 with a message a person can act on."""

import pytest

from referral_hub.accounts import throttle
from tests.conftest import Browser, link_in, mail_to
from tests.factories import PASSWORD, MemberFactory


@pytest.fixture
def limits(app, monkeypatch):
    """Small limits for one test; the limiter's counters are reset per test by `db_session`."""

    def set_limits(**limits: str) -> None:
        for name, value in limits.items():
            monkeypatch.setitem(app.config, f"RATELIMIT_{name}", value)

    return set_limits


def fail_login(browser, email: str):
    return browser.post("/login", {"email": email, "password": "not my password"})


def assert_held_back_after(browser, path: str, form: dict, allowed: int, message: str) -> None:
    """`allowed` posts of `form` pass, the next is a 429, and so is the one after, with `message`."""
    statuses = [browser.post(path, form).status_code for _ in range(allowed + 1)]
    assert 429 not in statuses[:allowed] and statuses[allowed] == 429
    blocked = browser.post(path, form)
    assert blocked.status_code == 429
    assert message in blocked.get_data(as_text=True)


def test_failed_logins_past_the_per_account_limit_get_429_with_a_message(browser, limits):
    limits(LOGIN_PER_ACCOUNT="3 per 15 minutes")
    MemberFactory(email="ann@example.org")
    assert [fail_login(browser, "ann@example.org").status_code for _ in range(3)] == [401, 401, 401]
    blocked = fail_login(browser, "ANN@example.org")
    assert blocked.status_code == 429
    assert "Too many failed attempts for this account" in blocked.get_data(as_text=True)
    # Locked even with the right password, so guessing cannot continue.
    right = browser.post("/login", {"email": "ann@example.org", "password": PASSWORD})
    assert right.status_code == 429


def test_the_per_account_limit_leaves_other_accounts_alone(browser, limits):
    limits(LOGIN_PER_ACCOUNT="2 per 15 minutes")
    MemberFactory(email="ann@example.org")
    MemberFactory(email="bob@example.org")
    for _ in range(3):
        fail_login(browser, "ann@example.org")
    browser.login("bob@example.org")


def test_successful_logins_do_not_count_against_the_account(app, browser, limits):
    limits(LOGIN_PER_ACCOUNT="2 per 15 minutes")
    MemberFactory(email="ann@example.org")
    for _ in range(3):
        type(browser)(app.test_client()).login("ann@example.org")
    assert fail_login(browser, "ann@example.org").status_code == 401


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/login", {"email": "someone@example.org", "password": "whatever it is"}),
        ("/register", {"display_name": "Ann", "email": "not-an-address", "password": "whatever it is"}),
        ("/password/forgot", {"email": "someone@example.org"}),
        ("/login/link", {"email": "someone@example.org"}),
    ],
)
def test_attempts_past_the_per_address_limit_get_429_with_a_message(browser, limits, path, form):
    limits(
        AUTH_PER_ADDRESS="3 per minute",
        LOGIN_PER_ACCOUNT="100 per minute",
        RESET_PER_ACCOUNT="100 per hour",
        REGISTER_PER_ACCOUNT="100 per hour",
    )
    assert_held_back_after(browser, path, form, 3, "Too many attempts from your network")


def test_reset_requests_past_the_per_account_limit_get_429(browser, limits):
    limits(RESET_PER_ACCOUNT="2 per hour")
    MemberFactory(email="ann@example.org")
    statuses = [browser.post("/password/forgot", {"email": "ann@example.org"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_registration_attempts_for_one_address_past_the_limit_get_429_from_any_network(
    browser, client, limits
):
    limits(REGISTER_PER_ACCOUNT="2 per hour")
    form = {"display_name": "Ann", "email": "Ann@Example.org", "password": "short"}
    statuses = [browser.post("/register", form).status_code for _ in range(2)]
    assert 429 not in statuses
    other_network = client.application.test_client()
    blocked = Browser(other_network).post(
        "/register", {**form, "email": "ann@example.org"}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert blocked.status_code == 429
    assert "Too many attempts to register this address" in blocked.get_data(as_text=True)


def from_address(app, address: str):
    """A visitor at another client address: every request of theirs comes from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def test_the_owner_logs_in_from_an_address_that_has_not_failed_while_the_account_is_held(app, limits):
    limits(LOGIN_PER_ACCOUNT="3 per 15 minutes")
    MemberFactory(email="ann@example.org")
    attacker = from_address(app, "203.0.113.66")
    assert [fail_login(attacker, "ann@example.org").status_code for _ in range(4)] == [401, 401, 401, 429]
    held = attacker.post("/login", {"email": "ann@example.org", "password": PASSWORD})
    assert held.status_code == 429, "the address that failed stays held back, right password or not"
    page = held.get_data(as_text=True)
    assert "Too many failed attempts for this account" in page and 'href="/login/link"' in page

    owner = from_address(app, "198.51.100.7")
    assert owner.post("/login", {"email": "ANN@example.org", "password": PASSWORD}).status_code == 302
    assert owner.get("/dashboard").status_code == 200


def test_failures_from_many_addresses_reach_a_ceiling_that_holds_back_clean_addresses_too(app, limits):
    limits(LOGIN_PER_ACCOUNT="1 per 15 minutes", AUTH_PER_ADDRESS="100 per minute")
    MemberFactory(email="ann@example.org")
    ceiling = 1 * throttle.CEILING_FACTOR
    statuses = [
        fail_login(from_address(app, f"203.0.113.{n}"), "ann@example.org").status_code for n in range(ceiling)
    ]
    assert statuses == [401] * ceiling
    owner = from_address(app, "198.51.100.7")
    held = owner.post("/login", {"email": "ann@example.org", "password": PASSWORD})
    assert held.status_code == 429 and 'href="/login/link"' in held.get_data(as_text=True)
    # The emailed sign-in link still lets the owner in.
    assert owner.post("/login/link", {"email": "ann@example.org"}).status_code == 200
    path = link_in(mail_to("ann@example.org")[-1], "/login/link/")
    assert owner.post(path).status_code == 302 and owner.get("/dashboard").status_code == 200


def test_a_typed_address_cannot_spell_the_throttle_key_of_the_owners_address(app, limits):
    limits(LOGIN_PER_ACCOUNT="3 per 15 minutes")
    MemberFactory(email="ann@example.org")
    attacker = from_address(app, "203.0.113.66")
    for _ in range(3):
        fail_login(attacker, "ann@example.org")
    # The limiter joins key parts with "/": this "account" would name ann's failures from her address.
    assert fail_login(attacker, "ann@example.org/198.51.100.7").status_code == 401
    owner = from_address(app, "198.51.100.7")
    assert owner.post("/login", {"email": "ann@example.org", "password": PASSWORD}).status_code == 302


def test_turning_two_factor_off_has_the_per_address_limit(browser, limits):
    limits(AUTH_PER_ADDRESS="2 per minute", LOGIN_PER_ACCOUNT="100 per minute")
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    statuses = [
        browser.post(
            "/settings/two-factor/off", {"code": "000000"}, form_page="/settings/two-factor"
        ).status_code
        for _ in range(3)
    ]
    assert 429 not in statuses[:2] and statuses[2] == 429


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/settings/email", {"email": "ann.new@example.org", "password": "not my password"}),
        ("/settings/delete", {"password": "not my password", "confirm": "yes"}),
    ],
)
def test_wrong_passwords_on_account_forms_past_ten_an_hour_get_429(browser, limits, path, form):
    limits(LOGIN_PER_ACCOUNT="100 per minute")
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    assert_held_back_after(browser, path, form, 10, "Too many attempts with your password")


def test_only_rate_limited_answers_carry_rate_limit_headers(browser, limits):
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    assert "X-RateLimit-Limit" not in browser.get("/dashboard").headers
    limited = browser.post("/login/link", {"email": "ann@example.org"})
    assert limited.headers["X-RateLimit-Limit"] and limited.headers["X-RateLimit-Remaining"]
