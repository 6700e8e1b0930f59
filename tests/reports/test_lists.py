"""The API's lists of introductions, needs and ledger transactions: a page is found newest first, ties
broken by id, and each list's total is the whole list's, counted by the chapter's local days."""

from datetime import UTC, datetime, timedelta

import pytest

from referral_hub.extensions import db
from referral_hub.introductions.models import IntroState
from referral_hub.ledger.models import Kind
from referral_hub.needs.models import NeedStatus
from referral_hub.reports import completions, transactions
from referral_hub.reports.access import create_token
from referral_hub.reports.counting import rebuild
from tests.factories import ChapterFactory, MembershipFactory, NeedFactory
from tests.reports.conftest import introduce, post_at

# 05:00 UTC on 1 December is 19:00 on 30 November in Honolulu (UTC-10).
EVENING = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def recount() -> None:
    """The rows here are written without the services: the kept figures are recounted from them."""
    db.session.flush()
    rebuild(db.session.connection())
    completions.rebuild(db.session.connection())
    transactions.rebuild(db.session.connection())


@pytest.fixture
def honolulu(client):
    """A chapter in Honolulu with two introductions, one need and one transaction made at EVENING,
    read through the API."""
    chapter = ChapterFactory(slug="honolulu", timezone="Pacific/Honolulu")
    organizer, first, second = (
        MembershipFactory(chapter=chapter, organizer=True).member,
        MembershipFactory(chapter=chapter).member,
        MembershipFactory(chapter=chapter).member,
    )
    introduce(chapter, organizer, first, second, EVENING)
    introduce(chapter, second, organizer, first, EVENING, state=IntroState.DECLINED, closed=EVENING)
    NeedFactory(chapter=chapter, asker=first, created_at=EVENING)
    post_at(chapter, EVENING, Kind.GRANT, [(None, -5), (first, 5)])
    recount()
    secret = create_token(organizer, name="Spreadsheet", chapter_slug="honolulu")[1]

    def get(path: str) -> dict:
        answer = client.get(
            f"/api/v1/chapters/honolulu/{path}", headers={"Authorization": f"Bearer {secret}"}
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    return get


@pytest.mark.parametrize(
    ("report", "on_the_day"),
    [
        ("introductions", 2),
        ("introductions?status=declined", 1),
        ("introductions?status=completed", 0),
        ("ledger", 1),
    ],
)
def test_a_list_filtered_by_dates_counts_the_chapters_local_days(honolulu, report, on_the_day):
    joiner = "&" if "?" in report else "?"
    thirtieth = honolulu(f"{report}{joiner}from=2026-11-30&to=2026-11-30")
    assert thirtieth["total"] == len(thirtieth["items"]) == on_the_day
    first = honolulu(f"{report}{joiner}from=2026-12-01&to=2026-12-01")
    assert first["total"] == len(first["items"]) == 0
    everything = honolulu(report)
    assert everything["total"] == len(everything["items"]) == on_the_day


def test_the_totals_of_the_whole_lists_agree_with_the_summary(honolulu):
    summary = honolulu("summary?from=2026-11-30&to=2026-11-30")
    assert honolulu("introductions")["total"] == summary["introductions"]["made"] == 2
    assert honolulu("needs")["total"] == summary["needs"]["posted"] == 1
    assert honolulu("needs?status=open")["total"] == summary["needs"]["open"] == 1


@pytest.mark.parametrize("report", ["introductions", "needs", "ledger"])
def test_rows_made_at_the_same_instant_page_newest_id_first_each_once(api, riverside, report):
    """Three rows share one instant, the newest of the list: one a page, they come by id descending,
    and every page says the whole list's total."""
    chapter, ann, bob, cat = riverside.chapter, riverside.ann, riverside.bob, riverside.cat
    moment = riverside.now.replace(microsecond=0)
    for _ in range(3):
        if report == "introductions":
            introduce(chapter, ann, bob, cat, moment)
            ann, bob, cat = bob, cat, ann  # a pending pair is unique: each introduction a new pair
        elif report == "needs":
            NeedFactory(chapter=chapter, asker=ann, created_at=moment)
        else:
            post_at(chapter, moment, Kind.GRANT, [(None, -1), (ann, 1)])
    recount()
    whole = api(f"/api/v1/chapters/riverside/{report}?per_page=100").get_json()
    pages = [
        api(f"/api/v1/chapters/riverside/{report}?per_page=1&page={page}").get_json() for page in (1, 2, 3)
    ]
    ids = [page["items"][0]["id"] for page in pages]
    assert ids == sorted(ids, reverse=True) == [row["id"] for row in whole["items"][:3]]
    assert {page["total"] for page in pages} == {whole["total"]} and whole["total"] == len(whole["items"])


@pytest.mark.parametrize("state", list(IntroState))
def test_the_total_of_a_state_is_the_number_of_introductions_in_it(api, riverside, state):
    """Riverside has introductions in every state but cancelled: one is cancelled here."""
    introduce(
        riverside.chapter,
        riverside.olga,
        riverside.dan,
        riverside.cat,
        riverside.now - timedelta(days=3),
        state=IntroState.CANCELLED,
        closed=riverside.now - timedelta(days=2),
    )
    recount()
    body = api(f"/api/v1/chapters/riverside/introductions?status={state}&per_page=100").get_json()
    assert body["total"] == len(body["items"]) > 0
    assert {row["status"] for row in body["items"]} == {state}


@pytest.mark.parametrize("status", list(NeedStatus))
def test_the_total_of_a_status_is_the_number_of_needs_in_it(api, status):
    body = api(f"/api/v1/chapters/riverside/needs?status={status}&per_page=100").get_json()
    assert body["total"] == len(body["items"]) > 0
    assert {row["status"] for row in body["items"]} == {status}
