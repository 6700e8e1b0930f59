"""Two-factor in Chromium: set up from the page's key, sign out, sign back in with password and code."""

import time

import pyotp
from playwright.sync_api import expect

from tests.browser.journey import ORGANIZER, Cast, harbour_forum


def test_organizer_sets_up_two_factor_and_signs_in_with_password_and_code(journey, live_app):
    harbour_forum(live_app)
    olga = journey.person()
    olga.log_in(Cast.email(ORGANIZER))

    olga.open("/profile")
    olga.follow("Two-factor sign-in")
    page = olga.press("Set up two-factor sign-in")
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    secret = page.locator("#two-factor-secret").get_attribute("data-secret")
    totp = pyotp.TOTP(secret)
    page = olga.press("Turn two-factor on", code=totp.now())
    expect(page.locator("code.recovery-code")).to_have_count(10)

    page = olga.press("Log out")
    assert page.url.endswith("/login")

    olga.open("/login")
    page = olga.press("Log in", email=Cast.email(ORGANIZER), password="correct horse battery")
    assert page.url.endswith("/login/code"), "the password alone does not sign in"
    # The set-up used this time step's code, and a code works once: type the next step's code, which
    # the one-step window accepts (as an app a few seconds ahead would show it).
    page = olga.press("Sign in", code=totp.at(time.time() + 30))
    assert page.url.endswith("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Olga Organizer")

    olga.open("/settings/sessions")
    assert "(this session)" in olga.main_text()
    assert "Chrome" in olga.main_text()
