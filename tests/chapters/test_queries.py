"""Every page runs a fixed number of SQL queries: the same for a small chapter and one ten times larger.

Run with `-s` to see the figures.
"""

import pytest

from tests.conftest import Browser
from tests.factories import ChapterFactory, InvitationFactory, MemberFactory, MembershipFactory

SMALL, LARGE = 1, 10
MEMBER_PAGES = [
    "/",
    "/dashboard",
    "/profile",
    "/chapters/{slug}/",
    "/chapters/{slug}/members",
    "/chapters/{slug}/members?q=a",
    "/members/{member_id}",
    "/chapters/{slug}/organize",
    "/chapters/{slug}/organize/members",
    "/chapters/{slug}/organize/invitations",
]
VISITOR_PAGES = ["/", "/login", "/register"]


def build_chapter(scale: int, slug: str):
    """A chapter with 5×scale members, 2×scale requests to join and 2×scale open invitations.

    The organizer viewing it belongs to `scale` chapters, so per-chapter lists grow too.
    """
    chapter = ChapterFactory(slug=slug)
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    members = [
        MembershipFactory(chapter=chapter, member__display_name=f"Alex {number}").member
        for number in range(5 * scale)
    ]
    for _ in range(2 * scale):
        MembershipFactory(chapter=chapter, pending=True)
        InvitationFactory(chapter=chapter, invited_by=organizer)
    for _ in range(scale - 1):
        MembershipFactory(member=organizer)
    return organizer, members[-1]


def queries_on(app, count_queries, organizer, path: str) -> int:
    browser = Browser(app.test_client())
    browser.login(organizer.email)
    assert browser.get(path).status_code in (200, 302), path
    with count_queries() as log:
        response = browser.get(path)
    assert response.status_code in (200, 302), path
    return log.count


@pytest.mark.parametrize("page", MEMBER_PAGES)
def test_a_members_page_runs_as_many_queries_for_a_large_chapter_as_for_a_small_one(app, count_queries, page):
    counts = []
    for scale in (SMALL, LARGE):
        organizer, member = build_chapter(scale, slug=f"chapter-x{scale}")
        path = page.format(slug=f"chapter-x{scale}", member_id=member.id)
        counts.append(queries_on(app, count_queries, organizer, path))
    print(f"\n{page}: {counts[0]} queries at {SMALL}x, {counts[1]} at {LARGE}x")
    assert counts[0] == counts[1], f"{page} runs more queries as the data grows: {counts}"


@pytest.mark.parametrize("page", VISITOR_PAGES)
def test_a_visitors_page_runs_no_queries(app, count_queries, page):
    build_chapter(LARGE, slug="busy")
    client = app.test_client()
    with count_queries() as log:
        assert client.get(page).status_code == 200
    print(f"\n{page} (visitor): {log.count} queries")
    assert log.count == 0


def test_logging_in_runs_a_fixed_number_of_queries(app, count_queries):
    counts = []
    for scale in (SMALL, LARGE):
        organizer, _ = build_chapter(scale, slug=f"chapter-x{scale}")
        browser = Browser(app.test_client())
        token_page = browser.get("/login")
        assert token_page.status_code == 200
        with count_queries() as log:
            browser.login(organizer.email)
        counts.append(log.count)
    print(f"\nPOST /login: {counts}")
    assert counts[0] == counts[1]


def test_query_counts_leave_out_only_transaction_control(app, count_queries):
    member = MemberFactory()
    browser = Browser(app.test_client())
    browser.login(member.email)
    with count_queries() as log:
        browser.get("/profile")
    # One: the member with the header's chapters and how many introductions wait for them.
    assert log.count == 1 and all(query.lstrip().upper().startswith("SELECT") for query in log.queries)
