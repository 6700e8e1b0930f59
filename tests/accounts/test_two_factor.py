"""Two-factor sign-in: set-up, the code step at login (password and link), replays, recovery codes, limits."""

import re
from datetime import timedelta
from functools import partial

import pyotp
import pytest
from sqlalchemy import select

from referral_hub.accounts import two_factor
from referral_hub.accounts.models import LinkPurpose, RecoveryCode, TwoFactor
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from tests.accounts.conftest import race
from tests.conftest import csrf_from
from tests.factories import PASSWORD, AccountLinkFactory, MemberFactory


def turn_on(member, *, at=None):
    """Two-factor on for `member`, set up two minutes ago (so a code of now is not a replay of it);
    returns the secret and the recovery codes."""
    at = at or utcnow() - timedelta(minutes=2)
    row = two_factor.begin_setup(member, now=at)
    secret, _uri = two_factor.provisioning(member, row)
    codes = two_factor.confirm_setup(member, pyotp.TOTP(secret).at(at), now=at)
    return secret, codes


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def wrong_code(secret: str) -> str:
    """Six digits that are none of the codes accepted now."""
    now = utcnow()
    accepted = {pyotp.TOTP(secret).at(now + timedelta(seconds=30 * step)) for step in (-1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in accepted)


def is_logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def password_step(browser, email="ann@example.org"):
    return browser.post("/login", {"email": email, "password": PASSWORD})


def code_step(browser, code: str):
    return browser.post("/login/code", {"code": code}, form_page="/login")


# The services -------------------------------------------------------------------------------------


def test_a_code_is_accepted_once_and_its_replay_within_the_window_is_refused():
    member = MemberFactory()
    secret, _codes = turn_on(member)
    now = utcnow()
    two_factor.check_code(member, pyotp.TOTP(secret).at(now), now=now)
    with pytest.raises(two_factor.CodeAlreadyUsed):
        two_factor.check_code(member, pyotp.TOTP(secret).at(now), now=now + timedelta(seconds=20))
    # An older code, still inside the window, is refused too: steps only move forward.
    with pytest.raises(two_factor.CodeAlreadyUsed):
        two_factor.check_code(member, pyotp.TOTP(secret).at(now - timedelta(seconds=30)), now=now)
    # The next step's code is fine.
    later = now + timedelta(seconds=30)
    two_factor.check_code(member, pyotp.TOTP(secret).at(later), now=later)


def test_codes_of_one_step_either_side_are_accepted_and_further_ones_are_not():
    member = MemberFactory()
    secret, _codes = turn_on(member, at=utcnow() - timedelta(hours=1))
    now = utcnow()
    with pytest.raises(two_factor.WrongCode):
        two_factor.check_code(member, pyotp.TOTP(secret).at(now - timedelta(seconds=90)), now=now)
    two_factor.check_code(member, pyotp.TOTP(secret).at(now - timedelta(seconds=30)), now=now)
    two_factor.check_code(member, pyotp.TOTP(secret).at(now + timedelta(seconds=30)), now=now)
    with pytest.raises(two_factor.WrongCode):
        two_factor.check_code(member, pyotp.TOTP(secret).at(now + timedelta(seconds=90)), now=now)


def test_a_recovery_code_works_once_in_any_case_and_spacing():
    member = MemberFactory()
    _secret, codes = turn_on(member)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert two_factor.recovery_codes_left(member) == 10
    two_factor.check_code(member, " " + codes[0].lower().replace("-", " ") + " ")
    assert two_factor.recovery_codes_left(member) == 9
    with pytest.raises(two_factor.WrongCode):
        two_factor.check_code(member, codes[0])
    two_factor.check_code(member, codes[1])


def test_another_members_recovery_code_does_not_work():
    ann, bob = MemberFactory(), MemberFactory()
    turn_on(ann)
    _secret, bobs_codes = turn_on(bob)
    with pytest.raises(two_factor.WrongCode):
        two_factor.check_code(ann, bobs_codes[0])


def test_the_secret_and_the_recovery_codes_are_not_stored_in_clear():
    member = MemberFactory()
    secret, codes = turn_on(member)
    row = db.session.get(TwoFactor, member.id)
    assert secret.encode() not in row.secret_encrypted
    stored = set(
        db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.member_id == member.id))
    )
    assert len(stored) == 10
    assert not {code.replace("-", "") for code in codes} & stored


def test_confirming_the_set_up_needs_a_right_code_and_a_wrong_one_leaves_it_off():
    member = MemberFactory()
    secret, _uri = two_factor.provisioning(member, two_factor.begin_setup(member))
    with pytest.raises(two_factor.WrongCode):
        two_factor.confirm_setup(member, wrong_code(secret))
    assert not two_factor.is_on(member)
    two_factor.confirm_setup(member, code_now(secret))
    assert two_factor.is_on(member)


def test_a_secret_made_with_the_previous_secret_key_still_works_while_it_is_a_fallback(app, monkeypatch):
    member = MemberFactory()
    secret, _codes = turn_on(member)
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-for-rotation-0123456789")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    two_factor.check_code(member, code_now(secret))


# Setting it up on the page ---------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_and_the_key_and_a_current_code_turns_it_on_with_ten_recovery_codes(browser):
    member = MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    page = browser.get("/settings/two-factor").get_data(as_text=True)
    assert "Two-factor sign-in is <strong>off</strong>" in page
    started = browser.post("/settings/two-factor/setup", {}, form_page="/settings/two-factor")
    assert started.status_code == 302
    page = browser.get("/settings/two-factor").get_data(as_text=True)
    assert "<svg" in page and 'class="segno"' in page  # drawn by the server, inline
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    wrong = browser.post("/settings/two-factor/confirm", {"code": "12345"}, form_page="/settings/two-factor")
    assert wrong.status_code == 422 and not two_factor.is_on(member)
    done = browser.post(
        "/settings/two-factor/confirm", {"code": code_now(secret)}, form_page="/settings/two-factor"
    )
    assert done.status_code == 200
    shown = re.findall(r'<code class="recovery-code">([0-9A-Z-]+)</code>', done.get_data(as_text=True))
    assert len(shown) == 10
    assert two_factor.is_on(member)
    # Shown once: the page afterwards has no codes and no key.
    again = browser.get("/settings/two-factor").get_data(as_text=True)
    assert "recovery-code" not in again and secret not in again
    assert "10 unused recovery codes" in again


def test_turning_it_off_needs_a_code(browser):
    member = MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    secret, _codes = turn_on(member)
    refused = browser.post(
        "/settings/two-factor/off", {"code": "not-a-code"}, form_page="/settings/two-factor"
    )
    assert refused.status_code == 401 and two_factor.is_on(member)
    done = browser.post(
        "/settings/two-factor/off", {"code": code_now(secret)}, form_page="/settings/two-factor"
    )
    assert done.status_code == 302
    assert not two_factor.is_on(member)
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.member_id == member.id)).all() == []


# The second step at login ------------------------------------------------------------------------------


def test_the_password_alone_does_not_sign_in_and_the_code_completes_it(browser):
    member = MemberFactory(email="ann@example.org")
    secret, _codes = turn_on(member)
    response = password_step(browser)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert not is_logged_in(browser.client)
    done = code_step(browser, code_now(secret))
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard"
    assert is_logged_in(browser.client)


def test_a_replayed_code_is_refused_on_a_second_sign_in(app, browser):
    member = MemberFactory(email="ann@example.org")
    secret, _codes = turn_on(member)
    code = code_now(secret)
    password_step(browser)
    assert code_step(browser, code).status_code == 302
    thief = type(browser)(app.test_client())
    password_step(thief)
    replayed = code_step(thief, code)
    assert replayed.status_code == 401
    assert "That code has been used already" in replayed.get_data(as_text=True)
    assert not is_logged_in(thief.client)


def test_a_recovery_code_signs_in_once(app, browser):
    member = MemberFactory(email="ann@example.org")
    _secret, codes = turn_on(member)
    password_step(browser)
    assert code_step(browser, codes[3]).status_code == 302
    second = type(browser)(app.test_client())
    password_step(second)
    assert code_step(second, codes[3]).status_code == 401
    assert not is_logged_in(second.client)


def test_the_code_page_without_a_right_password_sends_back_to_login(browser):
    member = MemberFactory(email="ann@example.org")
    secret, _codes = turn_on(member)
    response = code_step(browser, code_now(secret))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(browser.client)


def test_the_password_marker_expires(app, browser):
    member = MemberFactory(email="ann@example.org")
    secret, _codes = turn_on(member)
    password_step(browser)
    with browser.client.session_transaction() as session:
        session["two_factor_pending"] = {
            **session["two_factor_pending"],
            "until": int(utcnow().timestamp()) - 1,
        }
    assert code_step(browser, code_now(secret)).headers["Location"] == "/login"
    assert not is_logged_in(browser.client)


def test_wrong_codes_are_rate_limited_like_passwords(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_PER_ACCOUNT", "3 per 15 minutes")
    member = MemberFactory(email="ann@example.org")
    secret, _codes = turn_on(member)
    password_step(browser)
    wrong = wrong_code(secret)
    assert [code_step(browser, wrong).status_code for _ in range(3)] == [401, 401, 401]
    held = code_step(browser, code_now(secret))
    assert held.status_code == 429
    assert "Too many wrong codes" in held.get_data(as_text=True)
    assert not is_logged_in(browser.client)


def test_the_code_page_has_the_per_address_limit(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH_PER_ADDRESS", "2 per minute")
    member = MemberFactory(email="ann@example.org")
    secret, _codes = turn_on(member)
    password_step(browser)
    assert [code_step(browser, wrong_code(secret)).status_code for _ in range(2)] == [401, 401]
    assert code_step(browser, code_now(secret)).status_code == 429


def test_login_by_emailed_link_also_needs_the_code(browser):
    member = MemberFactory(email="ann@example.org")
    secret, _codes = turn_on(member)
    AccountLinkFactory(member=member, purpose=LinkPurpose.SIGN_IN, secret="sign-me-in")
    response = browser.post("/login/link/sign-me-in", {})
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert not is_logged_in(browser.client)
    assert code_step(browser, code_now(secret)).status_code == 302
    assert is_logged_in(browser.client)


def test_a_password_reset_link_also_needs_the_code(browser):
    member = MemberFactory(email="ann@example.org")
    turn_on(member)
    AccountLinkFactory(member=member, purpose=LinkPurpose.RESET_PASSWORD, secret="reset-me")
    response = browser.post("/password/reset/reset-me", {"password": "a brand new passphrase"})
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert not is_logged_in(browser.client)


def test_one_code_raced_by_two_sign_ins_signs_in_once(app, committed):
    member = MemberFactory(email="racer@example.org")
    secret, _codes = turn_on(member)
    db.session.commit()
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"email": "racer@example.org", "password": PASSWORD, "csrf_token": token})
    tokens = [csrf_from(client.get("/login/code").get_data(as_text=True)) for client in clients]
    code = code_now(secret)
    answers = race(
        *(
            partial(client.post, "/login/code", data={"code": code, "csrf_token": token})
            for client, token in zip(clients, tokens, strict=True)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [302, 401]
