"""A member's own language and time zone on the profile form: blank follows the browser and the first
chapter; a zone that does not exist is refused on its field and nothing changes."""

import re

import pytest

from referral_hub.extensions import db
from tests.factories import ChapterFactory, MembershipFactory

PROFILE = "/profile"


@pytest.fixture
def member():
    return MembershipFactory(chapter=ChapterFactory(timezone="Pacific/Honolulu")).member


def saved(browser, **fields):
    return browser.post(PROFILE, {"display_name": "Ann Example", "weekly_digest": "True", **fields})


def test_a_member_chooses_a_language_and_a_zone_and_blank_goes_back_to_following(browser, member):
    browser.login(member.email)
    assert saved(browser, language="es", timezone="Europe/Madrid").status_code == 302
    db.session.refresh(member)
    assert (member.language, member.timezone) == ("es", "Europe/Madrid")
    assert saved(browser, language="", timezone="").status_code == 302
    db.session.refresh(member)
    assert (member.language, member.timezone) == (None, None)


def test_a_profile_posted_without_the_fields_leaves_them_alone(browser, member):
    member.language, member.timezone = "es", "Europe/Madrid"
    db.session.commit()
    browser.login(member.email)
    assert saved(browser).status_code == 302
    db.session.refresh(member)
    assert (member.language, member.timezone) == ("es", "Europe/Madrid")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Europe/Madird", "Europe/Madird is not a time zone"),
        ("language", "fr", "Not a valid choice"),
    ],
)
def test_a_bad_language_or_zone_is_refused_on_its_field_and_nothing_changes(
    browser, member, field, value, message
):
    browser.login(member.email)
    response = saved(browser, **{"language": "es", "timezone": "Europe/Madrid", field: value})
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', response.get_data(as_text=True))
    db.session.refresh(member)
    assert (member.language, member.timezone) == (None, None)
