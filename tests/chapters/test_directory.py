"""The chapter directory: search, pages, empty states, and contact details kept private."""

import re

import pytest
from sqlalchemy import select

from referral_hub.accounts.models import Member
from referral_hub.chapters import directory
from referral_hub.chapters.models import MembershipStatus
from referral_hub.database import contains_pattern
from referral_hub.extensions import db
from tests.conftest import ON_POSTGRESQL
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside", slug="riverside")


def join(chapter, **profile):
    return MembershipFactory(chapter=chapter, member=MemberFactory(**profile)).member


def names(page) -> list[str]:
    return [member.display_name for member in page.items]


@pytest.fixture
def professionals(chapter):
    return {
        "dentist": join(chapter, display_name="Dina Dentist", headline="Smiles", expertise="orthodontics"),
        "lawyer": join(
            chapter,
            display_name="Larry Law",
            headline="I draft contracts",
            expertise="leases",
            ideal_referral="",
        ),
        "baker": join(
            chapter,
            display_name="Bea Baker",
            headline="Bread",
            expertise="sourdough",
            ideal_referral="Cafe owners opening a second site",
            company="Contracts Bakery Ltd",
            bio="orthodontics is not my thing",
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dina", ["Dina Dentist"]),  # name
        ("DRAFT CONTRACTS", ["Larry Law"]),  # headline, case-insensitive
        ("Orthodon", ["Dina Dentist"]),  # expertise, not the bio
        ("cafe OWNERS", ["Bea Baker"]),  # ideal referral
        ("contracts", ["Larry Law"]),  # not the company
        ("  sourdough  ", ["Bea Baker"]),
        ("", ["Bea Baker", "Dina Dentist", "Larry Law"]),
        ("plumbing", []),
    ],
)
def test_directory_search_covers_name_headline_expertise_and_ideal_referral(
    chapter, professionals, query, expected
):
    assert names(directory.directory(chapter, query=query)) == expected


@pytest.mark.parametrize("query", ["%", "_", "\\", "%dentist", "d_na"])
def test_directory_search_treats_wildcards_as_plain_text(chapter, professionals, query):
    assert names(directory.directory(chapter, query=query)) == []


def test_directory_search_does_not_match_email_addresses(chapter):
    join(chapter, display_name="Ann", email="secret-handle@example.org")
    assert names(directory.directory(chapter, query="secret-handle")) == []


def test_directory_lists_only_active_members_of_this_chapter(chapter, professionals):
    for status in (MembershipStatus.PENDING, MembershipStatus.REMOVED, MembershipStatus.LEFT):
        MembershipFactory(chapter=chapter, status=status, member__display_name=f"Dentist {status.value}")
    MembershipFactory(member__display_name="Dentist elsewhere")
    assert names(directory.directory(chapter, query="dentist")) == ["Dina Dentist"]


def test_directory_pages_hold_20_members_in_name_order(chapter):
    for number in range(45):
        join(chapter, display_name=f"Member {number:02d}")
    pages = [directory.directory(chapter, page=page) for page in (1, 2, 3)]
    assert [len(page.items) for page in pages] == [20, 20, 5]
    assert pages[0].total == 45 and pages[0].pages == 3
    assert names(pages[0])[0] == "Member 00" and names(pages[2])[-1] == "Member 44"


def test_directory_page_links_to_the_next_page_and_keeps_the_query(browser, chapter):
    viewer = join(chapter, display_name="Viewer")
    for number in range(25):
        join(chapter, display_name=f"Printer {number:02d}", expertise="printing")
    browser.login(viewer.email)
    first = browser.get("/chapters/riverside/members?q=print").get_data(as_text=True)
    assert "25 members match “print”." in first and "Page 1 of 2" in first
    assert 'href="/chapters/riverside/members?page=2&amp;q=print"' in first
    second = browser.get("/chapters/riverside/members?q=print&page=2").get_data(as_text=True)
    assert second.count("Printer ") == 5 and "Printer 24" in second


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99"])
def test_an_odd_page_number_never_fails(browser, chapter, page):
    viewer = join(chapter)
    browser.login(viewer.email)
    assert browser.get(f"/chapters/riverside/members?page={page}").status_code == 200


def test_directory_search_with_no_match_shows_an_empty_state(browser, chapter, professionals):
    browser.login(professionals["dentist"].email)
    page = browser.get("/chapters/riverside/members?q=plumbing").get_data(as_text=True)
    assert "No member matches “plumbing”." in page
    assert 'href="/chapters/riverside/members">see everyone</a>' in page


def test_directory_entries_link_to_member_profiles(browser, chapter, professionals):
    browser.login(professionals["dentist"].email)
    page = browser.get("/chapters/riverside/members").get_data(as_text=True)
    for member in professionals.values():
        assert f'<a href="/members/{member.id}">{member.display_name}</a>' in page


def test_directory_and_profiles_never_show_email_or_phone(browser, chapter):
    private = join(chapter, display_name="Pat Private", email="pat.private@example.org", phone="+1 555 0199")
    viewer = join(chapter, display_name="Viewer")
    browser.login(viewer.email)
    for path in (
        "/chapters/riverside/members",
        "/chapters/riverside/members?q=pat",
        f"/members/{private.id}",
    ):
        page = browser.get(path).get_data(as_text=True)
        assert "Pat Private" in page, path
        assert "pat.private@example.org" not in page and "555 0199" not in page, path


def test_organizers_see_members_email_addresses_on_the_organize_page(browser, chapter):
    join(chapter, display_name="Pat Private", email="pat.private@example.org", phone="+1 555 0199")
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    browser.login(organizer.email)
    page = browser.get("/chapters/riverside/organize/members").get_data(as_text=True)
    assert "pat.private@example.org" in page and "555 0199" not in page


def test_markup_in_profiles_is_escaped_in_the_directory_and_organize_page(browser, chapter):
    join(
        chapter,
        display_name="<img src=x onerror=alert(1)>",
        headline="<script>alert('headline')</script>",
        expertise="<b>bold</b>",
    )
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    browser.login(organizer.email)
    for path in (
        "/chapters/riverside/members",
        "/chapters/riverside/members?q=<script>",
        "/chapters/riverside/organize/members",
    ):
        page = browser.get(path).get_data(as_text=True)
        assert "<img src=x" not in page and "<script>alert" not in page and "<b>bold" not in page, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, path


def test_a_search_query_with_markup_is_echoed_escaped(browser, chapter):
    viewer = join(chapter)
    browser.login(viewer.email)
    page = browser.get('/chapters/riverside/members?q="><script>x</script>').get_data(as_text=True)
    assert "<script>x" not in page and "&lt;script&gt;x" in page


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the trigram index exists on PostgreSQL only")
def test_directory_search_uses_the_trigram_index_on_postgresql_even_in_a_generic_plan(chapter, professionals):
    pattern = directory.search_text().like(contains_pattern("orthodontics"), escape="\\")
    compiled = select(Member.id).where(pattern).compile(dialect=db.engine.dialect)
    names: list[str] = []

    def positional(match: re.Match) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    # A prepared statement may be run with a generic plan, which sees its parameters as unknowns:
    # the expression as the app sends it must still match the index expression.
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(
        "PREPARE directory_search AS " + re.sub(r"%\((\w+)\)s", positional, str(compiled))
    )
    arguments = ", ".join(repr(compiled.params[name]) for name in names).replace("%", "%%")
    plan = "\n".join(
        row[0] for row in connection.exec_driver_sql(f"EXPLAIN EXECUTE directory_search({arguments})")
    )
    assert "ix_members_directory_search" in plan, plan


def test_the_directory_counts_in_the_same_query_and_past_its_last_page(chapter, count_queries):
    for n in range(directory.DIRECTORY_PAGE_SIZE + 1):
        join(chapter, display_name=f"Member {n:02d}")
    other = ChapterFactory()
    join(other, display_name="Member elsewhere")
    with count_queries() as log:
        first = directory.directory(chapter)
    assert log.count == 1
    assert first.total == directory.DIRECTORY_PAGE_SIZE + 1 and first.has_next and first.pages == 2
    last = directory.directory(chapter, page=2)
    assert names(last) == [f"Member {directory.DIRECTORY_PAGE_SIZE:02d}"] and not last.has_next
    beyond = directory.directory(chapter, page=9)
    assert beyond.items == [] and beyond.total == directory.DIRECTORY_PAGE_SIZE + 1 and beyond.has_prev
    assert names(directory.directory(other)) == ["Member elsewhere"] and directory.directory(other).total == 1
    assert directory.directory(other, query="nobody").total == 0
