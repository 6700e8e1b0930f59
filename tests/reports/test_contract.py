"""The API's contract: parameter validation, the OpenAPI document, its docs page, and a schema fuzzer."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode, checks

from referral_hub.web.reports.views import SWAGGER_UI_FILES


@pytest.mark.parametrize(
    ("query", "field", "problem"),
    [
        ("summary?from=2025-02-30", "from", "Not a valid date."),
        ("summary?from=yesterday", "from", "Not a valid date."),
        ("summary?to=2025-03-01T10:00:00", "to", "Not a valid date."),
        ("summary?from=2025-03-02&to=2025-03-01", "to", "Must be on or after `from`."),
        ("summary?from=1066-10-14", "from", "Give a date from 1900-01-01 to 2999-12-31."),
        ("summary?page=1", "page", "Unknown parameter."),
        ("members?per_page=101", "per_page", "less than or equal to 100"),
        ("members?per_page=0", "per_page", "greater than or equal to 1"),
        ("members?page=0", "page", "greater than or equal to 1"),
        ("members?page=two", "page", "Not a valid integer."),
        ("members?sort=email", "sort", "Must be one of"),
        ("members?format=xml", "format", "Must be one of: json, csv."),
        ("members?q=ann", "q", "Unknown parameter."),
        (
            "introductions?status=accepted",
            "status",
            "Must be one of: pending, completed, declined, expired, cancelled.",
        ),
        ("needs?status=done", "status", "Must be one of: open, fulfilled, closed, expired."),
        ("needs?from=2025-01-01", "from", "Unknown parameter."),
        ("ledger?to=31/03/2025", "to", "Not a valid date."),
        ("activity?interval=day", "interval", "Must be one of: week, month."),
        ("activity?interval=week&interval=month", "interval", "Give this parameter once."),
    ],
)
def test_a_bad_parameter_is_422_naming_the_field_and_why(api, query, field, problem):
    response = api(f"/api/v1/chapters/riverside/{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameters"
    assert any(problem in message for message in error["fields"][field]), error
    assert error["message"].startswith(f"{field}: ") or f"; {field}: " in error["message"]


@pytest.mark.parametrize(
    ("query", "field", "problem"),
    [
        ("members?page=\u0663", "page", "Not a valid integer."),
        ("members?page=\uff13", "page", "Not a valid integer."),
        ("members?per_page=%2B5", "per_page", "Not a valid integer."),
        ("members?per_page=1_0", "per_page", "Not a valid integer."),
        ("members?page=%202", "page", "Not a valid integer."),
        ("summary?from=20250301", "from", "Not a valid date."),
        ("summary?to=2025-W10-1", "to", "Not a valid date."),
    ],
)
def test_numbers_take_ascii_digits_only_and_dates_only_yyyy_mm_dd(api, query, field, problem):
    response = api(f"/api/v1/chapters/riverside/{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][field] == [problem]


def test_every_bad_parameter_is_reported_at_once(api):
    error = api("/api/v1/chapters/riverside/introductions?status=x&per_page=500&colour=red").get_json()[
        "error"
    ]
    assert set(error["fields"]) == {"status", "per_page", "colour"}


# The OpenAPI document ------------------------------------------------------------------------------


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_openapi_document_is_public_and_valid_openapi_3(openapi):
    validate(openapi)
    assert openapi["openapi"].startswith("3.")


def test_the_document_lists_every_endpoint_of_the_contract(openapi):
    assert set(openapi["paths"]) == {
        "/chapters",
        "/chapters/{slug}/summary",
        "/chapters/{slug}/members",
        "/chapters/{slug}/introductions",
        "/chapters/{slug}/needs",
        "/chapters/{slug}/ledger",
        "/chapters/{slug}/activity",
    }
    assert openapi["servers"] == [{"url": "/api/v1"}]
    assert openapi["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_document_writes_down_the_definitions(openapi):
    schemas = openapi["components"]["schemas"]
    member = schemas["MemberRow"]["properties"]
    assert "90 days" in member["status"]["description"] and "`amber`" in member["status"]["description"]
    assert "giving / (giving + asking)" in member["give_ratio"]["description"]
    assert (
        "resolved in the period"
        in schemas["IntroductionTotals"]["properties"]["acceptance_rate"]["description"]
    )
    assert "no activity in the 90 days" in schemas["MemberTotals"]["properties"]["dormant"]["description"]
    assert "organizers included" in schemas["MemberTotals"]["properties"]["total"]["description"]
    assert "An *activity* is posting a need" in openapi["info"]["description"]


def test_list_endpoints_document_csv_and_their_parameters(openapi):
    members = openapi["paths"]["/chapters/{slug}/members"]["get"]
    assert set(members["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    parameters = {parameter["name"]: parameter for parameter in members["parameters"]}
    assert parameters["per_page"]["schema"]["maximum"] == 100
    assert parameters["format"]["schema"]["enum"] == ["json", "csv"]
    summary = openapi["paths"]["/chapters/{slug}/summary"]["get"]
    assert "text/csv" not in summary["responses"]["200"]["content"]
    assert {"400", "401", "403", "404", "422", "429"} <= set(summary["responses"])


def test_the_docs_page_is_public_and_serves_its_own_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources  # nothing from a CDN
    assert "<script>" not in html and "style=" not in html  # the CSP allows neither
    for source in sources:
        with client.get(source) as asset:
            assert asset.status_code == 200, source
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_docs_assets_are_only_swagger_ui_files(client):
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200 and bundle.mimetype == "text/javascript"
    assert client.get("/api/docs/assets/index.html").status_code == 404
    assert client.get("/api/docs/assets/..%2Fswagger-ui.js").status_code == 404
    assert "swagger-ui-bundle.js" in SWAGGER_UI_FILES


# The fuzzer ------------------------------------------------------------------------------------------

FUZZ_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def fuzz(operation, mode: GenerationMode, headers: dict) -> set[int]:
    """Run one operation's generated cases through the app; returns the statuses it answered."""
    answered = set()
    # A random slug would only ever meet the 404 that the access tests already cover.
    slug = {"slug": "riverside"} if "{slug}" in operation.path else None

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(mode, path_parameters=slug))
    def exercise(case):
        response = case.call(headers=headers)
        answered.add(response.status_code)
        case.validate_response(response, checks=FUZZ_CHECKS)

    exercise()
    return answered


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_schemathesis_finds_no_server_error_and_no_answer_off_its_schema(app, riverside, token, mode):
    """Every operation, with generated parameters (valid ones, then invalid ones) and a valid token:
    no 5xx, no status, content type or body that the document does not describe."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    headers = {"Authorization": f"Bearer {token}"}
    answered = {operation.label: fuzz(operation, mode, headers) for operation in operations}
    # The valid parameters reached the reports, not only the validation; the invalid ones were refused.
    expected = 200 if mode is GenerationMode.POSITIVE else 422
    assert all(expected in statuses for statuses in answered.values()), answered
