"""A chapter's time zone, language and currency: checked, changed from the organize page or the command
line, each change recorded."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from referral_hub.chapters.models import Chapter, ChapterSettingChange
from referral_hub.chapters.settings import InvalidChapterSetting, change_settings, settings_history
from referral_hub.extensions import db
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

SETTINGS = "/chapters/riverside/organize/settings"
# English stays: this test client's browser asks for no language, so the chapter's would answer.
VALID = {"timezone": "Europe/Madrid", "language": "en", "currency": "EUR"}


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside", slug="riverside")


@pytest.fixture
def organizer(chapter):
    return MembershipFactory(chapter=chapter, organizer=True).member


def changes_count() -> int:
    return db.session.scalar(select(func.count(ChapterSettingChange.id)))


def html(response) -> str:
    return response.get_data(as_text=True)


def test_a_new_chapter_meets_in_utc_in_english_without_a_currency(chapter):
    assert (chapter.timezone, chapter.language, chapter.currency) == ("UTC", "en", None)


def test_each_settings_change_is_recorded_from_to_with_who_and_when(chapter, organizer):
    changes = change_settings(chapter, changed_by=organizer, timezone="Pacific/Tongatapu", currency="top")
    assert {(c.setting, c.old_value, c.new_value) for c in changes} == {
        ("timezone", "UTC", "Pacific/Tongatapu"),
        ("currency", None, "TOP"),
    }
    assert (chapter.timezone, chapter.currency) == ("Pacific/Tongatapu", "TOP")
    change_settings(chapter, changed_by=organizer, currency="")
    assert chapter.currency is None
    history = settings_history(chapter)
    assert [(c.setting, c.old_value, c.new_value) for c in history][0] == ("currency", "TOP", None)
    assert all(c.changed_by_id == organizer.id for c in history)


def test_an_unchanged_setting_records_nothing(chapter, organizer):
    assert change_settings(chapter, changed_by=organizer, timezone="UTC", language="en", currency="") == []
    assert changes_count() == 0


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"language": "fr"}, "language"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_changes(chapter, organizer, settings, setting):
    with pytest.raises(InvalidChapterSetting) as refused:
        change_settings(chapter, changed_by=organizer, **{"language": "es", "currency": "EUR", **settings})
    assert refused.value.setting == setting
    assert (chapter.timezone, chapter.language, chapter.currency) == ("UTC", "en", None)
    assert changes_count() == 0


def test_the_database_refuses_a_currency_that_is_not_a_code(chapter):
    chapter.currency = "EURO"
    with pytest.raises(Exception), db.session.begin_nested():  # noqa: B017 - the driver's IntegrityError or DataError
        db.session.flush()


# The organize page -------------------------------------------------------------------------------


def test_the_organize_nav_links_to_the_settings(browser, chapter, organizer):
    browser.login(organizer.email)
    assert f'href="{SETTINGS}"' in html(browser.get("/chapters/riverside/organize"))


def test_the_settings_page_shows_the_current_settings_with_labelled_fields(browser, chapter, organizer):
    browser.login(organizer.email)
    page = html(browser.get(SETTINGS))
    assert re.search(r'<label for="timezone">', page) and re.search(r'name="timezone"[^>]*value="UTC"', page)
    assert 'list="time-zones"' in page and '<option value="Europe/Madrid">' in page
    assert re.search(r'<option selected value="en">|<option value="en" selected>', page)
    assert "No changes yet." in page


def test_saving_the_settings_confirms_and_shows_the_history(browser, chapter, organizer):
    browser.login(organizer.email)
    response = browser.post(SETTINGS, VALID)
    assert response.status_code == 302
    db.session.refresh(chapter)
    assert (chapter.timezone, chapter.currency) == ("Europe/Madrid", "EUR")
    page = html(browser.get(SETTINGS))
    assert "Saved 2 changes" in page
    assert "Europe/Madrid" in page and organizer.display_name in page and 'data-setting="currency"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Europe/Madird", "Europe/Madird is not a time zone"),
        ("timezone", "", "Choose a time zone."),
        ("currency", "EU", "EU is not a currency code"),
        ("language", "de", "Not a valid choice"),
    ],
)
def test_a_bad_setting_re_renders_with_its_message_on_the_field_and_changes_nothing(
    browser, chapter, organizer, field, value, message
):
    browser.login(organizer.email)
    response = browser.post(SETTINGS, {**VALID, field: value})
    page = html(response)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page), page
    assert 'aria-invalid="true"' in page
    db.session.refresh(chapter)
    assert (chapter.timezone, chapter.language, chapter.currency) == ("UTC", "en", None)
    assert changes_count() == 0


def test_a_member_who_does_not_organize_cannot_see_the_settings(browser, chapter):
    member = MembershipFactory(chapter=chapter).member
    browser.login(member.email)
    assert browser.get(SETTINGS).status_code == 403


# The command line --------------------------------------------------------------------------------


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_chapters_create_takes_a_zone_a_language_and_a_currency(flask):
    MemberFactory(email="founder@example.org")
    result = flask(
        "chapters", "create", "Nuku'alofa", "--organizer", "founder@example.org", "--slug", "tonga",
        "--timezone", "Pacific/Tongatapu", "--language", "es", "--currency", "top",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    chapter = db.session.scalar(select(Chapter).where(Chapter.slug == "tonga"))
    assert (chapter.timezone, chapter.language, chapter.currency) == ("Pacific/Tongatapu", "es", "TOP")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--timezone", "Europe/Atlantis", "Europe/Atlantis is not a time zone"),
        ("--language", "klingon", "Choose one of these languages: en, es."),
        ("--currency", "dollars", "DOLLARS is not a currency code"),
    ],
)
def test_chapters_create_refuses_a_bad_setting_clearly_and_creates_nothing(flask, option, value, message):
    MemberFactory(email="founder@example.org")
    result = flask("chapters", "create", "North Side", "--organizer", "founder@example.org", option, value)
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count(Chapter.id))) == 0


def test_the_chapter_s_pages_show_times_in_its_zone(browser, chapter, organizer):
    with time_machine.travel(datetime(2026, 1, 14, 18, 0, tzinfo=UTC), tick=False):
        change_settings(chapter, changed_by=organizer, timezone="Pacific/Tongatapu")
    db.session.commit()
    browser.login(organizer.email)
    page = html(browser.get(SETTINGS, headers={"Accept-Language": "en"}))
    assert re.search(r'<time datetime="2026-01-14T18:00:00\+00:00">1/15/26, 7:00\s?AM</time>', page), page
