"""Registration: unique addresses in any case (raced too), password length, field validation."""

from functools import partial

import pytest
from sqlalchemy import func, select

from referral_hub.accounts import services
from referral_hub.accounts.models import AccountLink, Member
from referral_hub.extensions import db
from referral_hub.mail.models import OutboxMessage
from tests.accounts.conftest import race
from tests.conftest import csrf_from, mail_to
from tests.factories import MemberFactory


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def register_form(**overrides) -> dict:
    return {"display_name": "Nora Newcomer", "email": "nora@example.org", "password": "a long passphrase"} | (
        overrides
    )


def test_register_creates_an_unverified_account_and_mails_a_verification_link():
    member = services.register(display_name=" Nora ", email="Nora@Example.org ", password="a long passphrase")
    assert member.display_name == "Nora"
    assert member.email == "Nora@Example.org" and member.email_key == "nora@example.org"
    assert not member.is_verified
    assert member.password_hash.startswith("scrypt:") and "a long passphrase" not in member.password_hash
    [message] = mail_to("Nora@Example.org")
    assert message.template == "verify_email" and "http://localhost/verify/" in message.body_text


@pytest.mark.parametrize("email", ["taken@example.org", "TAKEN@example.org", "Taken@Example.Org"])
def test_registering_a_taken_address_in_any_case_is_refused_and_writes_nothing(email):
    MemberFactory(email="taken@example.org")
    members, links, mail = count(Member), count(AccountLink), count(OutboxMessage)
    with pytest.raises(services.EmailTaken):
        services.register(display_name="Copycat", email=email, password="a long passphrase")
    assert (count(Member), count(AccountLink), count(OutboxMessage)) == (members, links, mail)


def test_registration_form_with_a_taken_address_says_so_and_writes_nothing(browser):
    MemberFactory(email="taken@example.org")
    members = count(Member)
    response = browser.post("/register", register_form(email="TAKEN@example.org"))
    assert response.status_code == 422
    assert "An account with this email address already exists" in response.get_data(as_text=True)
    assert count(Member) == members and mail_to("TAKEN@example.org") == []


@pytest.mark.parametrize("password", ["a" * 8, "a" * 128, "correct horse battery staple"])
def test_passwords_of_8_to_128_characters_are_accepted(browser, password):
    response = browser.post("/register", register_form(password=password))
    assert response.status_code == 302
    assert services.authenticate("nora@example.org", password)


@pytest.mark.parametrize("password", ["", "a" * 7, "a" * 129])
def test_passwords_outside_8_to_128_characters_are_refused_with_a_message(browser, password):
    response = browser.post("/register", register_form(password=password))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Use 8 to 128 characters." in page or "This field is required." in page
    assert services.find_by_email("nora@example.org") is None


@pytest.mark.parametrize("password", ["a" * 7, "a" * 129])
def test_the_register_service_enforces_password_length_too(password):
    with pytest.raises(services.PasswordRejected, match="8 to 128"):
        services.register(display_name="Nora", email="nora@example.org", password=password)
    assert services.find_by_email("nora@example.org") is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "This field is required."),
        ("display_name", "   ", "This field is required."),
        ("display_name", "N" * 81, "Field cannot be longer than 80 characters."),
        ("email", "", "This field is required."),
        ("email", "not-an-address", "Enter a valid email address."),
        ("email", "n" * 250 + "@example.org", "Field cannot be longer than 254 characters."),
    ],
)
def test_an_empty_or_over_long_field_re_renders_the_form_with_its_message(browser, field, value, message):
    members = count(Member)
    response = browser.post("/register", register_form(**{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'name="display_name"' in page and 'aria-invalid="true"' in page
    assert count(Member) == members and count(OutboxMessage) == 0


def test_registration_logs_the_newcomer_in_and_follows_a_local_next(browser):
    response = browser.post("/register?next=/join/some-token", register_form(), form_page="/register")
    assert response.status_code == 302 and response.headers["Location"] == "/join/some-token"
    assert browser.get("/dashboard").status_code == 200


def test_registration_ignores_a_foreign_next(browser):
    response = browser.post("/register?next=https://evil.example/", register_form(), form_page="/register")
    assert response.headers["Location"] == "/dashboard"


def test_two_registrations_racing_on_one_address_make_one_account_and_one_clear_error(app, committed):
    forms = [
        register_form(display_name="First", email="racer@example.org"),
        register_form(display_name="Second", email="RACER@example.org"),
    ]
    clients = [app.test_client() for _ in forms]
    tokens = [csrf_from(client.get("/register").get_data(as_text=True)) for client in clients]
    answers = race(
        *(
            partial(client.post, "/register", data={**form, "csrf_token": token})
            for client, form, token in zip(clients, forms, tokens, strict=True)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [302, 422]
    [loser] = [answer.get_data(as_text=True) for answer in answers if answer.status_code == 422]
    assert "An account with this email address already exists" in loser
    assert (
        db.session.scalar(
            select(func.count()).select_from(Member).where(Member.email_key == "racer@example.org")
        )
        == 1
    )
    # The loser's verification email rolled back with its account.
    to_racer = func.lower(OutboxMessage.to_address) == "racer@example.org"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(to_racer)) == 1
