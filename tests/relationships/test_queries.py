"""The profile and the dashboard run as many SQL queries with ten times the interactions.

Run with `-s` to see the figures.
"""

from datetime import timedelta

import pytest

from referral_hub.chapters.sharing import shared_chapters
from referral_hub.clock import utcnow
from referral_hub.ledger import posting
from referral_hub.ledger.models import Kind
from referral_hub.relationships import connectors
from referral_hub.relationships.models import InteractionKind
from tests.conftest import Browser
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory, NeedFactory

from .conftest import interact

SMALL, LARGE = 1, 10
ASK_NOTE = "Tom runs the harbour restaurants and I would love to cater for his next opening."


def build(scale: int):
    """Ann, who wants to meet Tom, in a chapter whose relationships grow with `scale`: 5×scale
    interactions between them, 3×scale connectors, 3×scale quiet strong relationships (nudges),
    3×scale needs that match Ann, and 2×scale members asking Ann to connect them to Tom."""
    now = utcnow()
    chapter = ChapterFactory()

    def member(**profile):
        return MembershipFactory(chapter=chapter, member=MemberFactory(**profile)).member

    ann = member(headline="Wedding catering", expertise="catering, weddings")
    tom = member()
    for day in range(5 * scale):
        interact(ann, tom, InteractionKind.THANKS, at=now - timedelta(days=day))
    for _ in range(3 * scale):
        connector = member()
        interact(connector, ann, InteractionKind.ONE_TO_ONE, at=now)
        interact(connector, tom, InteractionKind.ONE_TO_ONE, at=now)
        interact(member(), ann, InteractionKind.BUSINESS_CLOSED, at=now - timedelta(days=70))
        NeedFactory(chapter=chapter, asker=tom, title="Catering for a wedding", details="Weddings in June.")
    for _ in range(2 * scale):
        asker = member()
        interact(asker, ann, InteractionKind.ONE_TO_ONE, at=now)
        posting.post(
            chapter,
            key=f"test:credits:{asker.id}",
            kind=Kind.GRANT,
            memo="test",
            caused_by=None,
            entries=[(posting.POOL, -1), (asker, 1)],
        )
        connectors.ask(asker, connector_id=ann.id, target_id=tom.id, note=ASK_NOTE)
    return ann, tom


# What each page must show, so that the count covers every relationship panel.
SHOWN = {
    "/members/{tom}": ('class="history"', "to introduce you</button>"),
    "/members/{ann}": ("Edit your profile",),
    "/dashboard": ('class="cards nudges"', "would like to meet", "Catering for a wedding"),
}
# The statements each sends. Another member's profile: the signed-in member with the header, the
# member shown beside the shared chapters with the asking cost (none: not found) and whether the viewer
# has an open ask, the acquaintance, the connectors (and the open asks when there are some, below).
# Your own: the signed-in member with the header (the member shown).
# The dashboard: the member with the header; its chapters with balances and need costs and the first
# steps' history in one; the introductions to follow through in one; the open needs (own and others')
# in one; and three for the relationship panel.
STATEMENTS = {"/members/{tom}": 4, "/members/{ann}": 1, "/dashboard": 7}


@pytest.mark.parametrize("page", SHOWN)
def test_the_profile_and_dashboard_run_a_fixed_number_of_queries(app, count_queries, page):
    counts = []
    for scale in (SMALL, LARGE):
        ann, tom = build(scale)
        browser = Browser(app.test_client())
        browser.login(ann.email)
        path = page.format(tom=tom.id, ann=ann.id)
        first = browser.get(path).get_data(as_text=True)
        assert all(part in first for part in SHOWN[page]), page
        with count_queries() as log:
            assert browser.get(path).status_code == 200
        counts.append(log.count)
    print(f"\n{page}: {counts[0]} queries at {SMALL}x interactions, {counts[1]} at {LARGE}x")
    assert counts[0] == counts[1], f"{page} runs more queries as interactions grow: {counts}"
    assert counts[0] == STATEMENTS[page]


def test_a_profile_reads_the_viewer_s_open_asks_only_when_there_are_some(app, count_queries):
    ann, tom = build(SMALL)
    browser = Browser(app.test_client())
    browser.login(ann.email)
    path = f"/members/{tom.id}"
    assert "You asked" not in browser.get(path).get_data(as_text=True)
    with count_queries() as before:
        browser.get(path)
    connector = connectors.connectors_for(ann, tom)[0].member
    posting.post(
        shared_chapters({ann.id, tom.id})[0],
        key="test:credits:ann",
        kind=Kind.GRANT,
        memo="test",
        caused_by=None,
        entries=[(posting.POOL, -1), (ann, 1)],
    )
    connectors.ask(ann, connector_id=connector.id, target_id=tom.id, note=ASK_NOTE)
    asked = browser.get(path).get_data(as_text=True)
    assert f">{connector.display_name}</a> for this introduction" in asked
    with count_queries() as after:
        browser.get(path)
    assert (before.count, after.count) == (STATEMENTS["/members/{tom}"], STATEMENTS["/members/{tom}"] + 1)
