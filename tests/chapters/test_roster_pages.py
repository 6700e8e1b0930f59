"""The organizer's roster a page at a time, by its own `roster_page` argument, in English and Spanish."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from referral_hub.chapters.models import Membership
from referral_hub.chapters.services import ROSTER_PAGE_SIZE
from referral_hub.extensions import db
from tests.factories import ChapterFactory, MembershipFactory

MEMBERS = "/chapters/riverside/organize/members"
ROSTER_ROW = re.compile(r'<tr data-roster="(\d+)">')
STATUS_ROW = re.compile(r'<tr data-member="(\d+)"')
PAGER = re.compile(r'<nav class="pager" aria-label="([^"]*)">(.*?)</nav>', re.DOTALL)
LINK = re.compile(r'<a rel="(prev|next)" href="([^"]*)">')
LANGUAGES = {"en": "en", "es": "es-ES,es;q=0.9"}


@pytest.fixture
def chapter():
    chapter = ChapterFactory(name="Riverside", slug="riverside")
    MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org")
    # One page and five more: the organizer and 29 members.
    for number in range(ROSTER_PAGE_SIZE + 4):
        MembershipFactory(chapter=chapter, member__display_name=f"Member {number:02d}")
    return chapter


@pytest.fixture(params=LANGUAGES)
def language(request, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = LANGUAGES[request.param]
    return request.param


def translated(app, language: str, message: str, **values) -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


def pagers(page: str) -> dict[str, dict[str, dict[str, list[str]]]]:
    """Each pager's links by its label: rel -> the link's query arguments."""
    return {
        label: {rel: parse_qs(urlsplit(html.unescape(href)).query) for rel, href in LINK.findall(links)}
        for label, links in PAGER.findall(page)
    }


def roster_ids(page: str) -> list[int]:
    return [int(member_id) for member_id in ROSTER_ROW.findall(page)]


def test_the_second_page_of_the_roster_shows_the_rest(app, browser, chapter, language):
    browser.login("org@example.org")
    first = browser.get(MEMBERS).get_data(as_text=True)
    roster_label = translated(app, language, "Pages of the roster")
    assert pagers(first)[roster_label] == {"next": {"roster_page": ["2"]}}
    second = browser.get(f"{MEMBERS}?roster_page=2").get_data(as_text=True)
    assert pagers(second)[roster_label] == {"prev": {"roster_page": ["1"]}}
    members = set(db.session.scalars(select(Membership.member_id).filter_by(chapter_id=chapter.id)))
    assert len(roster_ids(first)) == ROSTER_PAGE_SIZE and len(roster_ids(second)) == 5
    assert set(roster_ids(first)) | set(roster_ids(second)) == members
    assert translated(app, language, "Page %(number)s of %(pages)s", number=2, pages=2) in second
    heading = {"en": "Members of Riverside (30)", "es": "Miembros de Riverside (30)"}[language]
    assert heading in first and heading in second, "the heading counts the whole roster"


def test_a_page_past_the_roster_s_end_says_where_it_ends(app, browser, chapter, language):
    browser.login("org@example.org")
    page = browser.get(f"{MEMBERS}?roster_page=7").get_data(as_text=True)
    assert roster_ids(page) == []
    with app.test_request_context():
        last = f"{MEMBERS}?roster_page=2"
    message = translated(
        app,
        language,
        'The roster has no such page: it ends on <a href="%(url)s">page %(pages)s</a>.',
        url=last,
        pages=2,
    )
    assert message in page
    assert STATUS_ROW.findall(page), "the members table is still shown"


def test_the_roster_and_the_members_table_keep_each_other_s_page(app, browser, chapter, language):
    browser.login("org@example.org")
    page = browser.get(f"{MEMBERS}?page=2&sort=display_name&order=desc&roster_page=2").get_data(as_text=True)
    links = pagers(page)
    roster = links[translated(app, language, "Pages of the roster")]
    table = links[translated(app, language, "Pages of the members table")]
    assert roster == {
        "prev": {"roster_page": ["1"], "page": ["2"], "sort": ["display_name"], "order": ["desc"]}
    }
    assert table == {
        "prev": {"page": ["1"], "roster_page": ["2"], "sort": ["display_name"], "order": ["desc"]}
    }
    # Each list shows its own second page: 5 of the 30 members.
    assert len(roster_ids(page)) == 5 and len(STATUS_ROW.findall(page)) == 5
    sorting = re.search(r'href="([^"]*)#status-heading"', page).group(1)
    assert parse_qs(urlsplit(html.unescape(sorting)).query)["roster_page"] == ["2"]
