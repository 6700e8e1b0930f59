"""Every endpoint's figures against ones worked out by hand from the fixed Riverside data set (conftest)."""

import csv
import io
from datetime import timedelta

import pytest

from referral_hub.accounts.services import update_profile

MARCH = "from=2025-03-01&to=2025-03-31"


def test_chapters_lists_the_one_chapter_the_token_reads(api):
    response = api("/api/v1/chapters")
    assert response.status_code == 200
    body = response.get_json()
    assert body["page"] == 1 and body["per_page"] == 50 and body["total"] == 1
    [row] = body["items"]
    # Olga, Ann, Bob, Cat and Dan: the removed Eve is not a current member; Olga, an organizer, is.
    assert row["slug"] == "riverside" and row["name"] == "Riverside" and row["members"] == 5


def test_summary_of_march_matches_the_hand_computed_figures(api):
    response = api(f"/api/v1/chapters/riverside/summary?{MARCH}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "chapter": "riverside",
        "from": "2025-03-01",
        "to": "2025-03-31",
        # Cat and Dan joined in March; Olga, Ann, Bob and Cat did something; Dan never did.
        "members": {"total": 5, "new": 2, "active": 4, "dormant": 1},
        # N1-N3 posted in March; N1 fulfilled and N2 expired in March; only N3 open on 31 March.
        "needs": {"posted": 3, "open": 1, "fulfilled": 1, "expired": 1},
        # I1-I5 made; I1 and I2 completed, I3 declined; I4 and I5 waiting on 31 March (I4 expired
        # in April). Accepted 2 of 3 resolved; I1 took 24 hours and I2 6, so the median is 15.
        "introductions": {
            "made": 5,
            "completed": 2,
            "declined": 1,
            "expired": 0,
            "pending": 2,
            "acceptance_rate": 0.667,
            "median_hours_to_complete": 15.0,
            "guest_made": 0,
            "guest_completed": 0,
        },
        "business_closed": {"count": 2, "amount": 700, "currency": None},
        # Issued 3 + 3 + 5, spent Ann's 2; on 31 March members held 3 + 5 + 5 (Bob spent 2 in April).
        "credits": {"issued": 11, "spent": 2, "balance_sum": 13},
    }


def test_summary_of_april_counts_what_expired_then(api):
    body = api("/api/v1/chapters/riverside/summary?from=2025-04-01&to=2025-04-30").get_json()
    assert body["introductions"] == {
        "made": 0,
        "completed": 0,
        "declined": 0,
        "expired": 1,
        "pending": 1,
        "acceptance_rate": 0.0,
        "median_hours_to_complete": None,
        "guest_made": 0,
        "guest_completed": 0,
    }
    assert body["members"]["new"] == 0
    assert body["credits"] == {"issued": 0, "spent": 2, "balance_sum": 11}


def test_summary_by_default_covers_everything_up_to_today(api, riverside):
    body = api("/api/v1/chapters/riverside/summary").get_json()
    assert body["from"] is None and body["to"] == riverside.now.date().isoformat()
    assert body["needs"]["posted"] == 5
    assert body["introductions"]["made"] == 7 and body["introductions"]["completed"] == 4
    # Now: only Dan and Ann have done nothing in 90 days (Ann's last need is 100 days old).
    assert body["members"]["dormant"] == 2
    assert body["credits"]["balance_sum"] == 11


def test_an_empty_period_has_zeros_and_no_rates(api):
    body = api("/api/v1/chapters/riverside/summary?from=2020-01-01&to=2020-01-31").get_json()
    assert body["introductions"]["acceptance_rate"] is None
    assert body["introductions"]["median_hours_to_complete"] is None
    assert body["business_closed"] == {"count": 0, "amount": 0, "currency": None}
    assert body["credits"] == {"issued": 0, "spent": 0, "balance_sum": 0}
    assert body["members"] == {"total": 5, "new": 0, "active": 0, "dormant": 5}


EXPECTED_MEMBERS = {
    # name: made, completed, received, needs, given, received business, balance, give_ratio, status
    "Olga": (2, 1, 1, 0, 500, 0, 3, 1.0, "amber"),
    "Ann": (2, 1, 3, 3, 200, 0, 5, 0.25, "red"),
    "Bob": (2, 1, 3, 1, 0, 500, 3, 0.5, "green"),
    "Cat": (1, 1, 4, 1, 0, 200, 0, 0.5, "amber"),
    "Dan": (0, 0, 3, 0, 0, 0, 0, None, "red"),
}


def test_members_rows_match_the_hand_computed_figures(api):
    body = api("/api/v1/chapters/riverside/members").get_json()
    assert body["total"] == 5
    assert [row["display_name"] for row in body["items"]] == ["Ann", "Bob", "Cat", "Dan", "Olga"]
    for row in body["items"]:
        expected = EXPECTED_MEMBERS[row["display_name"]]
        assert (
            row["intros_made"],
            row["intros_completed"],
            row["intros_received"],
            row["needs_posted"],
            row["business_given_amount"],
            row["business_received_amount"],
            row["balance"],
            row["give_ratio"],
            row["status"],
        ) == expected, row["display_name"]


def test_members_last_active_is_the_latest_activity(api, riverside):
    rows = {row["display_name"]: row for row in api("/api/v1/chapters/riverside/members").get_json()["items"]}
    assert rows["Dan"]["last_active_at"] is None
    assert rows["Olga"]["last_active_at"] == (riverside.now - timedelta(days=9)).isoformat()
    assert rows["Ann"]["joined_at"] == "2025-01-10T08:00:00+00:00"


@pytest.mark.parametrize(
    ("sort", "order", "names"),
    [
        ("intros_received", "desc", ["Cat", "Ann", "Bob", "Dan", "Olga"]),
        ("give_ratio", "desc", ["Olga", "Bob", "Cat", "Ann", "Dan"]),
        ("status", "asc", ["Ann", "Dan", "Cat", "Olga", "Bob"]),
        ("balance", "asc", ["Cat", "Dan", "Bob", "Olga", "Ann"]),
        ("balance", "desc", ["Ann", "Bob", "Olga", "Cat", "Dan"]),
    ],
)
def test_members_sort_by_any_column_with_ties_broken_by_name(api, sort, order, names):
    body = api(f"/api/v1/chapters/riverside/members?sort={sort}&order={order}").get_json()
    assert [row["display_name"] for row in body["items"]] == names


def test_members_are_paged(api):
    body = api("/api/v1/chapters/riverside/members?per_page=2&page=3").get_json()
    assert [row["display_name"] for row in body["items"]] == ["Olga"]
    assert (body["page"], body["per_page"], body["total"]) == (3, 2, 5)


def test_introductions_filter_by_status_and_period(api):
    body = api(f"/api/v1/chapters/riverside/introductions?status=completed&{MARCH}").get_json()
    assert body["total"] == 2
    i2, i1 = body["items"]
    assert (i1["introducer_name"], i1["first_name"], i1["second_name"]) == ("Olga", "Ann", "Bob")
    assert i1["status"] == "completed" and i1["hours_to_complete"] == 24.0
    assert i1["outcome"] == "business_closed" and i1["business_amount"] == 500
    assert (
        i1["created_at"] == "2025-03-03T09:00:00+00:00" and i1["completed_at"] == "2025-03-04T09:00:00+00:00"
    )
    assert i2["hours_to_complete"] == 6.0 and i2["business_amount"] == 200


def test_introductions_without_filters_list_the_chapter_newest_first(api):
    body = api("/api/v1/chapters/riverside/introductions").get_json()
    assert body["total"] == 7
    first = body["items"][0]
    assert (first["introducer_name"], first["status"]) == ("Bob", "completed")
    declined = [row for row in body["items"] if row["status"] == "declined"]
    assert len(declined) == 1 and declined[0]["closed_at"] == "2025-03-11T09:00:00+00:00"
    assert declined[0]["outcome"] is None and declined[0]["hours_to_complete"] is None


def test_needs_filter_by_status(api):
    body = api("/api/v1/chapters/riverside/needs?status=open").get_json()
    assert body["total"] == 2
    assert [row["asker_name"] for row in body["items"]] == ["Ann", "Cat"]
    assert api("/api/v1/chapters/riverside/needs").get_json()["total"] == 5
    fulfilled = api("/api/v1/chapters/riverside/needs?status=fulfilled").get_json()["items"]
    assert [row["closed_at"] for row in fulfilled] == ["2025-03-10T10:00:00+00:00"]


def test_ledger_lists_transactions_with_entries_that_sum_to_zero(api, riverside):
    body = api(f"/api/v1/chapters/riverside/ledger?{MARCH}").get_json()
    assert body["total"] == 4
    assert [row["kind"] for row in body["items"]] == [
        "grant",
        "intro_completed",
        "intro_completed",
        "ask_need",
    ]
    grant = body["items"][0]
    assert sorted((entry["amount"], entry["member_name"]) for entry in grant["entries"]) == [
        (-5, None),
        (5, "Bob"),
    ]
    assert {entry["member_id"] for entry in grant["entries"]} == {None, riverside.bob.id}
    assert all(sum(entry["amount"] for entry in row["entries"]) == 0 for row in body["items"])


def test_activity_by_week_counts_each_kind_of_event(api):
    body = api("/api/v1/chapters/riverside/activity?interval=week&from=2025-03-01&to=2025-03-16").get_json()
    assert body["total"] == 3
    assert body["items"] == [
        {
            "period_start": "2025-02-24",
            "period_end": "2025-03-02",
            "needs_posted": 0,
            "introductions_made": 0,
            "introductions_completed": 0,
            "business_closed": 0,
            "business_amount": 0,
            "currency": None,
        },
        {
            "period_start": "2025-03-03",
            "period_end": "2025-03-09",
            "needs_posted": 2,
            "introductions_made": 2,
            "introductions_completed": 2,
            "business_closed": 0,
            "business_amount": 0,
            "currency": None,
        },
        {
            "period_start": "2025-03-10",
            "period_end": "2025-03-16",
            "needs_posted": 1,
            "introductions_made": 1,
            "introductions_completed": 0,
            "business_closed": 1,
            "business_amount": 500,
            "currency": None,
        },
    ]


def test_activity_by_month_agrees_with_the_summary(api):
    body = api("/api/v1/chapters/riverside/activity?interval=month&from=2025-02-01&to=2025-03-31").get_json()
    february, march = body["items"]
    assert (february["period_start"], february["period_end"]) == ("2025-02-01", "2025-02-28")
    assert (
        february["needs_posted"],
        february["introductions_made"],
        february["introductions_completed"],
    ) == (1, 1, 1)
    assert (march["needs_posted"], march["introductions_made"], march["introductions_completed"]) == (3, 5, 2)
    assert (march["business_closed"], march["business_amount"]) == (2, 700)


def test_activity_pages_through_long_ranges(api):
    body = api(
        "/api/v1/chapters/riverside/activity?interval=month&from=2024-01-01&to=2025-12-31&per_page=10&page=3"
    ).get_json()
    assert body["total"] == 24
    assert [row["period_start"] for row in body["items"]] == [
        f"2025-{month:02d}-01" for month in range(9, 13)
    ]


def test_activity_defaults_to_the_last_twelve_weeks(api, riverside):
    body = api("/api/v1/chapters/riverside/activity").get_json()
    assert body["total"] == 12 and len(body["items"]) == 12
    assert (
        body["items"][-1]["period_start"]
        <= riverside.now.date().isoformat()
        <= body["items"][-1]["period_end"]
    )
    assert sum(row["introductions_made"] for row in body["items"]) == 1  # I7, ten days ago


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/chapters",
        "/api/v1/chapters/riverside/members",
        "/api/v1/chapters/riverside/introductions?status=completed",
        "/api/v1/chapters/riverside/needs",
        "/api/v1/chapters/riverside/ledger",
        "/api/v1/chapters/riverside/activity?interval=month&from=2025-01-01&to=2025-06-30",
    ],
)
def test_csv_gives_the_same_rows_with_a_header_line(api, path):
    joiner = "&" if "?" in path else "?"
    json_items = api(path).get_json()["items"]
    response = api(f"{path}{joiner}format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(json_items) > 0
    assert set(rows[0].keys()) == set(json_items[0].keys())
    for row, item in zip(rows, json_items, strict=True):
        for key, value in item.items():
            if isinstance(value, list | dict):
                continue
            assert row[key] == ("" if value is None else str(value)), key


def test_csv_defuses_text_that_a_spreadsheet_would_run(api, riverside):
    update_profile(riverside.dan, display_name='=HYPERLINK("http://evil.example")')
    response = api("/api/v1/chapters/riverside/members?format=csv&sort=intros_made&order=asc")
    names = [row["display_name"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]
    assert '\'=HYPERLINK("http://evil.example")' in names


@pytest.mark.parametrize(
    "path",
    [
        "members?per_page=2&page={page}",
        "needs?per_page=2&page={page}",
        "introductions?per_page=2&page={page}",
        f"ledger?{MARCH}&per_page=2&page={{page}}",
    ],
)
def test_a_page_past_the_last_still_says_how_many_rows_there_are(api, path):
    """Each list's total comes with its rows, in the same query; a page with no rows reads it apart."""
    total = api(f"/api/v1/chapters/riverside/{path.format(page=1)}").get_json()["total"]
    beyond = api(f"/api/v1/chapters/riverside/{path.format(page=99)}").get_json()
    assert total > 2 and beyond["items"] == [] and beyond["total"] == total
    assert "total" not in api(f"/api/v1/chapters/riverside/{path.format(page=1)}").get_json()["items"][0]
