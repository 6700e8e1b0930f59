"""The member's own profile: what they do, validated, stored, and shown escaped."""

import pytest

from referral_hub.accounts import services
from referral_hub.extensions import db
from referral_hub.web.accounts.forms import WEB_ADDRESS
from tests.factories import MemberFactory

PROFILE = {
    "display_name": "Ann Able",
    "headline": "I sell widgets to hospitals",
    "expertise": "widgets, procurement",
    "ideal_referral": "Hospital purchasing managers",
    "company": "Able Widgets",
    "city": "Riverton",
    "website": "https://able.example",
    "phone": "+44 20 7946 0000",
    "bio": "Twenty years in medical supplies.",
}


def test_update_profile_sets_each_field_stripped():
    member = MemberFactory()
    services.update_profile(member, **{name: f"  {value} " for name, value in PROFILE.items()})
    assert {name: getattr(member, name) for name in PROFILE} == PROFILE


def test_update_profile_leaves_unnamed_fields_alone():
    member = MemberFactory(city="Riverton", phone="123")
    services.update_profile(member, headline="New headline")
    assert (member.headline, member.city, member.phone) == ("New headline", "Riverton", "123")


def test_profile_form_saves_the_profile(browser):
    member = MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    response = browser.post("/profile", PROFILE)
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    db.session.refresh(member)
    assert {name: getattr(member, name) for name in PROFILE} == PROFILE
    page = browser.get("/profile").get_data(as_text=True)
    assert "Your profile is saved." in page and 'value="I sell widgets to hospitals"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "This field is required."),
        ("display_name", "A" * 81, "Field cannot be longer than 80 characters."),
        ("headline", "H" * 121, "Field cannot be longer than 120 characters."),
        ("expertise", "e" * 301, "Field cannot be longer than 300 characters."),
        ("ideal_referral", "i" * 301, "Field cannot be longer than 300 characters."),
        ("phone", "1" * 41, "Field cannot be longer than 40 characters."),
        ("bio", "b" * 1001, "Field cannot be longer than 1000 characters."),
        ("website", "not a website", WEB_ADDRESS),
        ("website", "javascript:alert(1)", WEB_ADDRESS),
        ("website", "ftp://files.example.org", WEB_ADDRESS),
    ],
)
def test_an_invalid_profile_field_re_renders_with_its_message_and_saves_nothing(
    browser, field, value, message
):
    member = MemberFactory(email="ann@example.org", headline="Before", display_name="Ann Before")
    browser.login("ann@example.org")
    response = browser.post("/profile", PROFILE | {field: value})
    assert response.status_code == 422
    assert response.get_data(as_text=True).count(str(message)) == 1, "the message is printed once"
    db.session.refresh(member)
    assert (member.display_name, member.headline) == ("Ann Before", "Before")


def test_a_website_without_a_scheme_is_saved_with_https(browser):
    member = MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    assert browser.post("/profile", PROFILE | {"website": "able.example.org/about"}).status_code == 302
    db.session.refresh(member)
    assert member.website == "https://able.example.org/about"


def test_the_digest_choice_is_a_fieldset_with_each_label_beside_its_button(browser):
    MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    page = browser.get("/profile").get_data(as_text=True)
    fieldset = page.split('<fieldset class="field choices">')[1].split("</fieldset>")[0]
    assert "<legend>Weekly digest email</legend>" in fieldset and "<ul" not in fieldset
    assert fieldset.count('<div class="choice"><input') == 2


def test_markup_typed_into_the_profile_is_shown_escaped(browser):
    member = MemberFactory(email="ann@example.org")
    browser.login("ann@example.org")
    script = "<script>alert('x')</script>"
    fields = {name: f"{name} {script}" for name in PROFILE if name != "website"}
    fields["display_name"] = f"<b>Ann</b>{script}"[:80]
    assert browser.post("/profile", PROFILE | fields).status_code == 302
    for path in ("/profile", f"/members/{member.id}", "/dashboard"):
        page = browser.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<b>Ann</b>" not in page, path
        assert "&lt;script&gt;alert(" in page, path
