"""Every endpoint and the dashboard run the same number of queries for a chapter ten times bigger."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_hub.chapters.models import Chapter
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions.models import Decision, IntroState, OutcomeKind
from referral_hub.ledger.models import Kind
from referral_hub.needs.models import NeedStatus
from referral_hub.reports.access import create_token
from referral_hub.web.chapters import report as dashboard
from tests.factories import ChapterFactory, MembershipFactory, NeedFactory, OutcomeFactory
from tests.reports.conftest import answer, introduce, post_at

STATES = (
    IntroState.PENDING,
    IntroState.COMPLETED,
    IntroState.COMPLETED,
    IntroState.DECLINED,
    IntroState.EXPIRED,
)


def grow(slug: str, scale: int):
    """A chapter with 6×scale members, 10×scale introductions, 4×scale needs, 5×scale ledger transactions."""
    now = utcnow()
    chapter = ChapterFactory(slug=slug)
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    members = [organizer] + [MembershipFactory(chapter=chapter).member for _ in range(6 * scale - 1)]
    count = len(members)
    for number in range(10 * scale):
        state = STATES[number % len(STATES)]
        created = now - timedelta(days=number % 120, hours=number)
        if state is IntroState.PENDING:
            # At most one pending introduction per pair: pending ones get pairs that never repeat.
            low = (number // len(STATES)) % count
            introducer, first, second = members[(low + 2) % count], members[low], members[(low + 1) % count]
        else:
            introducer, first, second = (members[(number + offset) % count] for offset in (0, 1, 2))
        intro = introduce(
            chapter,
            introducer,
            first,
            second,
            created,
            state=state,
            completed=created + timedelta(hours=5) if state is IntroState.COMPLETED else None,
            closed=created + timedelta(days=3)
            if state in (IntroState.DECLINED, IntroState.EXPIRED)
            else None,
        )
        if state is IntroState.COMPLETED:
            answer(intro, first, Decision.ACCEPT, created + timedelta(hours=1))
            answer(intro, second, Decision.ACCEPT, created + timedelta(hours=5))
            OutcomeFactory(
                introduction=intro,
                reported_by=second,
                kind=OutcomeKind.BUSINESS_CLOSED,
                amount=100 + number,
                created_at=created,
            )
    for number in range(4 * scale):
        created = now - timedelta(days=number * 7)
        status = NeedStatus.OPEN if number % 2 else NeedStatus.FULFILLED
        NeedFactory(
            chapter=chapter,
            asker=members[number % len(members)],
            created_at=created,
            expires_at=created + timedelta(days=30),
            status=status,
            closed_at=None if status is NeedStatus.OPEN else created + timedelta(days=1),
        )
    for number in range(5 * scale):
        post_at(
            chapter,
            now - timedelta(days=number),
            Kind.GRANT,
            [(None, -2), (members[number % len(members)], 2)],
        )
    return create_token(organizer, name="counting", chapter_slug=slug)[1], organizer


PATHS = [
    "/api/v1/chapters",
    "/api/v1/chapters/{slug}/summary",
    "/api/v1/chapters/{slug}/summary?from=2020-01-01&to=2030-12-31",
    "/api/v1/chapters/{slug}/members?per_page=100",
    "/api/v1/chapters/{slug}/members?sort=status&format=csv",
    "/api/v1/chapters/{slug}/introductions?per_page=100",
    "/api/v1/chapters/{slug}/introductions?status=completed&from=2020-01-01&format=csv",
    "/api/v1/chapters/{slug}/needs?per_page=100",
    "/api/v1/chapters/{slug}/ledger?per_page=100",
    "/api/v1/chapters/{slug}/ledger?from=2020-01-01&to=2030-12-31&format=csv",
    "/api/v1/chapters/{slug}/activity?interval=week&from=2020-01-01&per_page=100",
    "/api/v1/chapters/{slug}/activity?interval=month",
]


def test_each_endpoint_runs_the_same_queries_at_1x_and_10x(client, count_queries):
    counts = {path: {} for path in PATHS}
    for slug, scale in (("small", 1), ("large", 10)):
        token, _organizer = grow(slug, scale)
        headers = {"Authorization": f"Bearer {token}"}
        for path in PATHS:
            with count_queries() as log:
                response = client.get(path.format(slug=slug), headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            counts[path][scale] = log.count
    assert all(by_scale[1] == by_scale[10] for by_scale in counts.values()), counts
    # Two statements authenticate the token; the figures take at most five more.
    assert max(by_scale[1] for by_scale in counts.values()) <= 7, counts


def test_the_organize_figures_run_the_same_queries_at_1x_and_10x(count_queries):
    counts = {}
    for slug, scale in (("small", 1), ("large", 10)):
        grow(slug, scale)
        chapter_id = db.session.scalar(select(Chapter.id).where(Chapter.slug == slug))
        with count_queries() as log:
            dashboard.overview(chapter_id, {}, zone="UTC")
            table = dashboard.member_table(chapter_id, {"sort": "give_ratio", "order": "desc"}, zone="UTC")
        assert table.members_total == 6 * scale
        counts[scale] = log.count
    assert counts[1] == counts[10] == 6, counts  # five for the overview, one for the table


@pytest.mark.parametrize("section", ["", "/members", "/invitations"])
def test_each_organize_section_runs_the_same_queries_at_1x_and_10x(browser, count_queries, section):
    counts = {}
    for slug, scale in (("small", 1), ("large", 10)):
        _token, organizer = grow(slug, scale)
        browser.login(organizer.email)
        with count_queries() as log:
            assert browser.get(f"/chapters/{slug}/organize{section}").status_code == 200
        counts[scale] = log.count
        browser.post("/logout", form_page="/dashboard")
    assert counts[1] == counts[10], counts


@pytest.mark.parametrize("query", ["?per_page=100", "?from=2020-01-01&to=2030-12-31&format=csv", "?page=9"])
def test_the_ledger_is_one_statement_after_the_token_at_1x_and_10x(client, count_queries, query):
    counts = {}
    for slug, scale in (("small", 1), ("large", 10)):
        token, _organizer = grow(slug, scale)
        with count_queries() as log:
            response = client.get(
                f"/api/v1/chapters/{slug}/ledger{query}", headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code == 200, response.get_data(as_text=True)
        counts[scale] = log.count
    # Two statements authenticate the token; one reads the page's transactions, entries and total. A
    # page past the last one reads the first row again for the total.
    assert counts[1] == counts[10] == (4 if query == "?page=9" else 3), counts
