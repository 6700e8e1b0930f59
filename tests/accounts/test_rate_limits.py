"""Rate limits on logging in, registering and resetting: 429 with a message a person can act on."""

import pytest

from tests.conftest import Browser
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
    ],
)
def test_attempts_past_the_per_address_limit_get_429_with_a_message(browser, limits, path, form):
    limits(
        AUTH_PER_ADDRESS="3 per minute",
        LOGIN_PER_ACCOUNT="100 per minute",
        RESET_PER_ACCOUNT="100 per hour",
        REGISTER_PER_ACCOUNT="100 per hour",
    )
    statuses = [browser.post(path, form).status_code for _ in range(4)]
    assert 429 not in statuses[:3] and statuses[3] == 429
    blocked = browser.post(path, form)
    assert blocked.status_code == 429
    assert "Too many attempts from your network" in blocked.get_data(as_text=True)


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
