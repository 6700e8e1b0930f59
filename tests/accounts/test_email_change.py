"""Changing the email address: verified at the new address before it takes effect, undone from the old
one within 7 days, ending other sessions, and never telling whether an address has an account."""

import re
from datetime import timedelta

import pytest

from referral_hub.accounts import email_change
from referral_hub.accounts.models import Member
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.tokens import LinkExpired, LinkUsed
from tests.conftest import Browser, link_in, mail_to
from tests.factories import PASSWORD, MemberFactory

OLD, NEW = "ann@example.org", "ann.new@example.org"


@pytest.fixture
def ann():
    return MemberFactory(display_name="Ann", email=OLD)


@pytest.fixture
def signed_in(client, ann) -> Browser:
    browser = Browser(client)
    browser.login(OLD)
    return browser


def ask_for(browser: Browser, email=NEW, password=PASSWORD):
    return browser.post("/settings/email", {"email": email, "password": password})


def page_text(response) -> str:
    """The page without its CSRF tokens (signed with the time, so they differ by the second)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def reloaded(member: Member) -> Member:
    db.session.expire_all()
    return db.session.get(Member, member.id)


def test_the_new_address_takes_effect_only_when_its_link_is_followed(app, client, signed_in, ann):
    response = ask_for(signed_in)
    assert response.status_code == 200
    assert "Check your new mailbox" in response.get_data(as_text=True)
    [message] = mail_to(NEW)
    assert message.template == "email_change_confirm"
    path = link_in(message, "/settings/email/confirm/")
    assert reloaded(ann).email == OLD, "nothing changes before the link is followed"
    assert NEW in signed_in.get("/settings/email").get_data(as_text=True), "the page says what waits"

    # GET (a mail scanner) only shows the button.
    page = client.get(path)
    assert page.status_code == 200 and NEW in page.get_data(as_text=True)
    assert reloaded(ann).email == OLD

    other_device = Browser(app.test_client())
    other_device.login(OLD)
    assert other_device.get("/profile").status_code == 200
    response = signed_in.post(path, {})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    ann = reloaded(ann)
    assert (ann.email, ann.email_key) == (NEW, NEW)
    assert ann.is_verified
    assert signed_in.get("/profile").status_code == 200, "the browser that confirmed stays signed in"
    assert other_device.get("/profile").status_code == 302, "every other session ended"
    [notice] = mail_to(OLD)
    assert notice.template == "email_changed" and NEW in notice.body_text
    assert link_in(notice, "/settings/email/undo/")
    Browser(app.test_client()).login(NEW)
    assert Browser(app.test_client()).post("/login", {"email": OLD, "password": PASSWORD}).status_code == 401
    assert client.get(path).status_code == 410, "the link works once"


def test_the_old_address_undoes_the_change_and_every_session_ends(app, client, signed_in, ann):
    ask_for(signed_in)
    signed_in.post(link_in(mail_to(NEW)[0], "/settings/email/confirm/"), {})
    undo = link_in(mail_to(OLD)[0], "/settings/email/undo/")
    page = client.get(undo)
    assert page.status_code == 200 and OLD in page.get_data(as_text=True)
    assert reloaded(ann).email == NEW, "GET changes nothing"

    stranger = Browser(app.test_client())  # the owner, from the old mailbox, not signed in
    response = stranger.post(undo, {})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    ann = reloaded(ann)
    assert (ann.email, ann.email_key) == (OLD, OLD)
    assert signed_in.get("/profile").status_code == 302, "the session that made the change ended"
    assert client.get(undo).status_code == 410, "the undo link works once"


def test_the_undo_link_expires_after_seven_days(ann):
    email_change.request_change(ann, new_email=NEW, password=PASSWORD)
    email_change.confirm_change(link_in(mail_to(NEW)[0], "/settings/email/confirm/").rsplit("/", 1)[1])
    secret = link_in(mail_to(OLD)[0], "/settings/email/undo/").rsplit("/", 1)[1]
    with pytest.raises(LinkExpired):
        email_change.undo_change(secret, now=utcnow() + timedelta(days=7, seconds=1))
    assert reloaded(ann).email == NEW
    email_change.undo_change(secret, now=utcnow() + timedelta(days=6, hours=23))
    assert reloaded(ann).email == OLD
    with pytest.raises(LinkUsed):
        email_change.undo_change(secret)


def test_an_address_with_an_account_gets_the_same_answer_and_a_note_without_a_link(signed_in, ann):
    MemberFactory(email=NEW)
    taken = ask_for(signed_in)
    free = ask_for(signed_in, email="ann.free@example.org")
    assert taken.status_code == free.status_code == 200
    assert page_text(taken).replace(NEW, "X") == page_text(free).replace("ann.free@example.org", "X")
    [note] = mail_to(NEW)
    assert note.template == "email_change_taken"
    assert "/settings/email/confirm/" not in note.body_text
    assert reloaded(ann).email == OLD


def test_an_address_taken_before_the_link_is_followed_is_refused_clearly(signed_in, ann):
    ask_for(signed_in)
    path = link_in(mail_to(NEW)[0], "/settings/email/confirm/")
    MemberFactory(email="Ann.New@example.org")  # registered meanwhile, in another case
    response = signed_in.post(path, {})
    assert response.status_code == 409
    assert "belongs to another account" in response.get_data(as_text=True)
    assert reloaded(ann).email == OLD
    assert mail_to(OLD) == [], "no notice: nothing changed"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        (NEW, "not my password", "Your current password is not correct."),
        ("ANN@example.org", PASSWORD, "That is already your address"),
        ("ann@ｅxample.org", PASSWORD, "ASCII form"),
        ("not an address", PASSWORD, "Enter a valid email address."),
    ],
)
def test_a_refused_request_says_why_and_sends_nothing(signed_in, ann, email, password, message):
    response = ask_for(signed_in, email=email, password=password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert mail_to(email.strip()) == []
    assert email_change.pending_change(ann) is None


def test_a_confirm_link_that_is_unknown_gets_a_clear_page(client):
    response = client.get("/settings/email/confirm/not-a-real-token")
    assert response.status_code == 404
    assert "We do not recognise this link" in response.get_data(as_text=True)
