"""The API reports the chapter's currency beside every amount (null without one); OpenAPI describes it."""

import pytest

from referral_hub.extensions import db


@pytest.fixture
def in_euros(riverside):
    riverside.chapter.currency = "EUR"
    db.session.flush()


def test_every_amount_carries_the_chapter_s_currency(api, in_euros):
    summary = api("/api/v1/chapters/riverside/summary?from=2025-03-01&to=2025-03-31").get_json()
    assert summary["business_closed"] == {"count": 2, "amount": 700, "currency": "EUR"}
    for path in ("members", "introductions", "activity?interval=month&from=2025-03-01&to=2025-03-31"):
        items = api(f"/api/v1/chapters/riverside/{path}").get_json()["items"]
        assert items and {item["currency"] for item in items} == {"EUR"}, path


def test_the_currency_is_a_column_of_the_csv_too(api, in_euros):
    lines = api("/api/v1/chapters/riverside/members?format=csv").get_data(as_text=True).splitlines()
    columns = lines[0].split(",")
    assert lines[1].split(",")[columns.index("currency")] == "EUR"


def test_the_openapi_document_describes_the_currency_beside_amounts(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name in ("BusinessTotals", "MemberRow", "IntroductionRow", "ActivityRow"):
        currency = schemas[name]["properties"]["currency"]
        assert "ISO 4217" in currency["description"], name
        assert "currency" in schemas[name]["required"], name
