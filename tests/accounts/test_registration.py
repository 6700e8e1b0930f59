"""Registration: unique addresses by their NFKC-casefolded form (raced too), no enumeration, password
length, visible names, field validation."""

import re
import unicodedata
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from referral_hub.accounts import services
from referral_hub.accounts.models import Member
from referral_hub.extensions import db
from referral_hub.mail.models import OutboxMessage
from tests.accounts.conftest import race
from tests.conftest import Browser, csrf_from, link_in, mail_to
from tests.factories import MemberFactory


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


STATEMENT = re.compile(
    r"^\s*(?:(INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)|SELECT\b.*?\bFROM\s+(\w+))", re.S | re.I
)


def statement_kinds(log) -> list[str]:
    """Each SQL statement in the log as its verb and table ("INSERT INTO members"), sorted."""
    kinds = []
    for sql in log.queries:
        verb, table, read_table = STATEMENT.match(sql).groups()
        kinds.append(f"{verb.upper()} {table}" if verb else f"SELECT {read_table}")
    return sorted(kinds)


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
def test_registering_a_taken_address_in_any_case_makes_no_account_and_mails_its_owner(email):
    owner = MemberFactory(email="taken@example.org", display_name="Tara Taken")
    members = count(Member)
    assert services.register(display_name="Copycat", email=email, password="a long passphrase") is None
    assert count(Member) == members
    [message] = mail_to("taken@example.org")
    assert message.template == "registration_attempt" and "Tara Taken" in message.body_text
    assert "http://localhost/login" in message.body_text and link_in(message, "/password/reset/")
    assert services.authenticate("taken@example.org", "correct horse battery") == owner


def answer_to_register(app, email: str, count_queries):
    """A fresh visitor registers `email`: the response, the kinds of SQL statements sent, the visitor."""
    browser = Browser(app.test_client())
    token = csrf_from(browser.get("/register").get_data(as_text=True))
    with count_queries() as log:
        response = browser.post(
            "/register", data={**register_form(email=email, display_name="Sam"), "csrf_token": token}
        )
    return response, statement_kinds(log), browser


def test_registering_a_taken_address_answers_exactly_as_a_new_registration(app, count_queries, monkeypatch):
    MemberFactory(email="taken@example.org")
    hashes = []
    real_hash = services.generate_password_hash
    monkeypatch.setattr(services, "generate_password_hash", lambda *a: hashes.append(a) or real_hash(*a))
    new, new_work, new_visitor = answer_to_register(app, "fresh@example.org", count_queries)
    hashed_for_new = len(hashes)
    taken, taken_work, taken_visitor = answer_to_register(app, "TAKEN@example.org", count_queries)

    assert new.status_code == taken.status_code == 200
    assert new.headers.get("Location") is None and taken.headers.get("Location") is None
    assert ("Set-Cookie" in new.headers) == ("Set-Cookie" in taken.headers)
    pages = [
        re.sub(r'value="[^"]*"', "", answer.get_data(as_text=True).replace(address, "ADDRESS"))
        for answer, address in ((new, "fresh@example.org"), (taken, "TAKEN@example.org"))
    ]
    assert pages[0] == pages[1] and "Check your email" in pages[0]
    # Neither answer logs anybody in.
    assert new_visitor.get("/dashboard").status_code == taken_visitor.get("/dashboard").status_code == 302
    # The same work: one password hash, one link, one mail; a new address also gets its account row.
    assert hashed_for_new == len(hashes) - hashed_for_new == 1
    assert new_work == sorted([*taken_work, "INSERT INTO members"])
    assert [message.template for message in mail_to("fresh@example.org")] == ["verify_email"]
    assert [message.template for message in mail_to("taken@example.org")] == ["registration_attempt"]


@pytest.mark.parametrize("password", ["a" * 8, "a" * 128, "correct horse battery staple"])
def test_passwords_of_8_to_128_characters_are_accepted(browser, password):
    response = browser.post("/register", register_form(password=password))
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
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


def test_registration_logs_nobody_in_and_keeps_a_local_next_for_logging_in(browser):
    response = browser.post("/register?next=/join/some-token", register_form(), form_page="/register")
    assert response.status_code == 200
    assert 'href="/login?next=/join/some-token"' in response.get_data(as_text=True)
    assert browser.get("/dashboard").status_code == 302
    credentials = {"email": "nora@example.org", "password": "a long passphrase"}
    assert browser.post("/login?next=/join/some-token", credentials).headers["Location"] == "/join/some-token"


def test_registration_ignores_a_foreign_next(browser):
    response = browser.post("/register?next=https://evil.example/", register_form(), form_page="/register")
    page = response.get_data(as_text=True)
    assert 'href="/login"' in page and "evil.example" not in page


def test_two_registrations_racing_on_one_address_make_one_account_and_the_same_answer(app, committed):
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
    assert [answer.status_code for answer in answers] == [200, 200]
    assert all("Check your email" in answer.get_data(as_text=True) for answer in answers)
    assert (
        db.session.scalar(
            select(func.count()).select_from(Member).where(Member.email_key == "racer@example.org")
        )
        == 1
    )
    # The winner's verification email, and for the loser a note to the owner: nothing else.
    to_racer = func.lower(OutboxMessage.to_address) == "racer@example.org"
    templates = db.session.scalars(select(OutboxMessage.template).where(to_racer))
    assert sorted(templates) == ["registration_attempt", "verify_email"]


# Unicode addresses ----------------------------------------------------------------------------

KELVIN = "\u212aelvin@example.org"  # starts with U+212A KELVIN SIGN: NFKC makes it "Kelvin"


def test_a_kelvin_sign_look_alike_can_neither_register_nor_take_the_ascii_owners_mail(browser):
    response = browser.post("/register", register_form(email=KELVIN))
    assert response.status_code == 422
    assert "characters that count as other letters" in response.get_data(as_text=True)
    assert count(Member) == 0 and count(OutboxMessage) == 0

    owner = MemberFactory(email="kelvin@example.org")
    assert services.find_by_email(KELVIN) == owner, "the look-alike's key is the owner's"
    browser.post("/password/forgot", {"email": KELVIN})
    [reset] = db.session.scalars(select(OutboxMessage))
    assert reset.to_address == "kelvin@example.org", "reset mail goes to the owner, never the look-alike"


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("stra\u00dfe@example.org", "characters that count as other letters"),  # ß folds to ss
        ("\uff41nn@example.org", "characters that count as other letters"),  # a full-width a
        ("ann@b\u00fccher.de", "in its ASCII form"),
    ],
)
def test_look_alike_and_non_ascii_domain_addresses_are_refused_with_a_message(browser, email, message):
    response = browser.post("/register", register_form(email=email))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count(Member) == 0
    with pytest.raises(services.AddressRefused):
        services.register(display_name="Nora", email=email, password="a long passphrase")


@pytest.mark.parametrize(
    "email", ["\u0130nan@example.org", "ann@xn--bcher-kva.de", "gi\u00e1m\u0111\u1ed1c@example.vn"]
)
def test_a_legitimate_unicode_or_idna_address_registers_and_logs_in(browser, email):
    response = browser.post("/register", register_form(email=email))
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    member = services.find_by_email(email.upper())
    assert member is not None and member.email == email
    assert member.email_key == unicodedata.normalize("NFKC", email).casefold()
    assert browser.post("/login", {"email": email, "password": "a long passphrase"}).status_code == 302


def test_only_the_unique_address_key_counts_as_taken():
    MemberFactory(email="ann@example.org")
    clashes = []
    for member in (
        Member(email="ANN@example.org", email_key="ann@example.org", display_name="Ann", password_hash="x"),
        Member(email="bo@example.org", email_key="bo@example.org", display_name="", password_hash="x"),
    ):
        with pytest.raises(IntegrityError) as raised, db.session.begin_nested():
            db.session.add(member)
        clashes.append(services.clashes_on_email_key(raised.value))
    assert clashes == [True, False]


# Display names --------------------------------------------------------------------------------

INVISIBLE_NAMES = ["\u200b", "\u200e\u202e", "\u2066\ufeff\u2069", " \u200b\u00a0"]


@pytest.mark.parametrize("name", INVISIBLE_NAMES)
def test_a_name_of_only_invisible_characters_is_refused_at_registration(browser, name):
    response = browser.post("/register", register_form(display_name=name))
    assert response.status_code == 422
    assert "Choose a name with at least one visible letter" in response.get_data(as_text=True)
    assert count(Member) == 0
    with pytest.raises(services.DisplayNameRejected):
        services.register(display_name=name, email="nora@example.org", password="a long passphrase")
    # One visible character among them is a name.
    member = services.register(
        display_name=name + "A", email="nora@example.org", password="a long passphrase"
    )
    assert member.display_name == (name + "A").strip()


@pytest.mark.parametrize("name", INVISIBLE_NAMES)
def test_a_name_of_only_invisible_characters_is_refused_in_the_profile(browser, name):
    member = MemberFactory(email="ann@example.org", display_name="Ann")
    browser.login("ann@example.org")
    response = browser.post("/profile", {"display_name": name})
    assert response.status_code == 422
    assert "Choose a name with at least one visible letter" in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.display_name == "Ann"
    with pytest.raises(services.DisplayNameRejected):
        services.update_profile(member, display_name=name)
