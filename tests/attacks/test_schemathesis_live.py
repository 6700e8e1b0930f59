"""The schemathesis CLI, every check on, finds nothing wrong in the API as gunicorn serves it."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES_PER_OPERATION = 60
# A random slug would only ever meet a 404; fuzz the demo chapter's reports instead.
CONFIG = """
hooks = "{hooks}"

[parameters]
"path.slug" = "{slug}"
"""
# Hooks for the schemathesis process, which loads them from the file the config names.
HOOKS = r"""
import re

import schemathesis

DAY = re.compile(r"\d{4}-\d\d-\d\d")


@schemathesis.hook
def map_query(context, query):
    # The API refuses a period that ends before it starts (422, as the contract says): a rule between
    # two parameters that OpenAPI cannot write down. Generated periods are put the right way round, so
    # that positive_data_acceptance judges the rules the document does state.
    start, end = (query or {}).get("from"), (query or {}).get("to")
    if isinstance(start, str) and isinstance(end, str) and DAY.fullmatch(start) and DAY.fullmatch(end):
        query["from"], query["to"] = min(start, end), max(start, end)
    return query


@schemathesis.hook
def filter_failure(context, failure, case, response):
    # gunicorn itself refuses a request line over 4 KB, with an HTML 400, before the app sees it; the
    # app marks every answer of its own with X-Request-ID, and only those are the API's to judge.
    return "x-request-id" in response.headers
"""


def operations_in(openapi: dict) -> set[str]:
    """The document's operations, labelled as schemathesis labels them: `GET /chapters/{slug}/needs`."""
    return {f"{method.upper()} {path}" for path, item in openapi["paths"].items() for method in item}


def test_schemathesis_finds_no_failure_in_any_operation_of_the_live_api(served_app, tmp_path):
    with urllib.request.urlopen(f"{served_app.base_url}/api/v1/openapi.json") as response:
        operations = operations_in(json.load(response))
    hooks = tmp_path / "hooks.py"
    hooks.write_text(HOOKS)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(hooks=hooks, slug=served_app.slug))
    since = served_app.log_mark()
    run = subprocess.run(
        [
            SCHEMATHESIS,
            f"--config-file={config}",
            "run",
            f"{served_app.base_url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {served_app.token}",
            "--checks=all",
            f"--max-examples={EXAMPLES_PER_OPERATION}",
            "--workers=2",
            "--request-timeout=30",
            "--report=json",
            f"--report-json-path={tmp_path / 'report.json'}",
            "--no-color",
        ],
        cwd=tmp_path,  # its example database and cache stay in the test's folder
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-3000:]

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["operations"] == {
        "total": len(operations),
        "selected": len(operations),
        "tested": len(operations),
        "errored": 0,
        "skipped": 0,
        "skip_reasons": [],
    }
    # schemathesis counted requests the API accepted in every operation, not only refusals.
    accepted = {
        operation: sum(phase["accepted"] for phase in rates.values())
        for operation, rates in report["valid_rates"].items()
    }
    assert set(accepted) == operations and all(accepted.values()), accepted
    for operation in operations:
        method, template = operation.split(" ", 1)
        path = "/api/v1" + template.replace("{slug}", served_app.slug)
        statuses = served_app.statuses(method, path, since=since)
        # Valid requests reached the report, invalid ones its validation, and none made the app fail.
        assert {200, 422} <= set(statuses), (path, sorted(set(statuses)))
        assert all(status < 500 for status in statuses), (path, sorted(set(statuses)))
