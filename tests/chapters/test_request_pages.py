"""The organizer's requests to join a page at a time, by their own `requests_page` argument, oldest
first, each page keeping the roster's and the members table's pages in its links and theirs keeping it."""

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext

from referral_hub.chapters.services import REQUESTS_PAGE_SIZE
from referral_hub.clock import utcnow
from tests.chapters.test_roster_pages import MEMBERS, pagers
from tests.factories import ChapterFactory, MembershipFactory

REQUEST = re.compile(r"<li>Asker (\d+) \(")


@pytest.fixture
def chapter():
    chapter = ChapterFactory(name="Riverside", slug="riverside")
    MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org")
    start = utcnow() - timedelta(days=1)
    # One page and three more, asked in the order of their numbers.
    for number in range(REQUESTS_PAGE_SIZE + 3):
        MembershipFactory(
            chapter=chapter,
            pending=True,
            requested_at=start + timedelta(minutes=number),
            member__display_name=f"Asker {number:02d}",
        )
    return chapter


def label(app) -> str:
    with app.test_request_context(), force_locale("en"):
        return gettext("Pages of the requests to join")


def askers(page: str) -> list[int]:
    return [int(number) for number in REQUEST.findall(page)]


def test_requests_come_oldest_first_a_page_at_a_time(app, browser, chapter):
    browser.login("org@example.org")
    first = browser.get(MEMBERS).get_data(as_text=True)
    assert askers(first) == list(range(REQUESTS_PAGE_SIZE))
    assert pagers(first)[label(app)] == {"next": {"requests_page": ["2"]}}
    second = browser.get(f"{MEMBERS}?requests_page=2").get_data(as_text=True)
    assert askers(second) == list(range(REQUESTS_PAGE_SIZE, REQUESTS_PAGE_SIZE + 3))
    assert pagers(second)[label(app)] == {"prev": {"requests_page": ["1"]}}
    assert "Page 2 of 2" in second


def test_the_lists_keep_each_other_s_pages(app, browser, chapter):
    browser.login("org@example.org")
    page = browser.get(f"{MEMBERS}?requests_page=2&sort=display_name&order=desc").get_data(as_text=True)
    links = pagers(page)
    assert links[label(app)] == {
        "prev": {"requests_page": ["1"], "sort": ["display_name"], "order": ["desc"]}
    }
    sorting = re.search(r'href="([^"]*)#status-heading"', page).group(1)
    assert "requests_page=2" in sorting


def test_a_page_past_the_requests_end_says_where_they_end(browser, chapter):
    browser.login("org@example.org")
    page = browser.get(f"{MEMBERS}?requests_page=9").get_data(as_text=True)
    assert askers(page) == []
    last = f'<a href="{MEMBERS}?requests_page=2">page 2</a>'
    assert f"The requests to join have no such page: they end on {last}." in page
    assert "No one is waiting." not in page


def test_no_requests_say_no_one_is_waiting(browser):
    chapter = ChapterFactory(slug="quiet")
    MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org")
    browser.login("org@example.org")
    page = browser.get("/chapters/quiet/organize/members").get_data(as_text=True)
    assert "No one is waiting." in page and "Pages of the requests to join" not in page
