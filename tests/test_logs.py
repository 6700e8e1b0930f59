"""LOG_FORMAT=json: the request log as one JSON object per line, carrying the request's id."""

import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest

from referral_hub.config import ConfigError, from_environment
from referral_hub.logs import JsonFormatter

# A process of its own, as gunicorn would run the app: nothing else has set up logging.
SERVE = textwrap.dedent(
    """
    import sys
    from referral_hub import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "MAIL_TRANSPORT": "memory"})
    client = app.test_client()
    for path in ("/healthz", "/no-such-page?x=1", "/healthz"):
        print(client.get(path, headers={"Accept": "text/html"}).headers["X-Request-ID"])
    """
)


def test_json_request_log_is_one_object_per_line_with_the_responses_request_id(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", SERVE, f"sqlite:///{tmp_path / 'logs.sqlite3'}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"REFERRAL_HUB_ENV": "testing", "LOG_FORMAT": "json"},
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stderr.splitlines()]  # every line parses, or this fails
    requests = [line for line in lines if line["logger"] == "referral_hub.requests"]
    assert [line["request_id"] for line in requests] == run.stdout.split()
    assert [(line["method"], line["path"], line["status"]) for line in requests] == [
        ("GET", "/healthz", 200),
        ("GET", "/no-such-page", 404),
        ("GET", "/healthz", 200),
    ]
    for line in requests:
        assert line["level"] == "INFO"
        assert line["timestamp"].endswith("+00:00")
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert f"request_id={line['request_id']}" in line["message"]


def test_a_traceback_stays_inside_its_one_json_line():
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        record = logging.LogRecord(
            "referral_hub.mail", logging.ERROR, __file__, 1, "send %s", ("x",), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "send x" and parsed["level"] == "ERROR"
    assert "ValueError: broken\nacross lines" in parsed["exception"]
    assert "request_id" not in parsed  # not a request's line


@pytest.mark.parametrize(
    ("value", "chosen"), [(None, "text"), ("", "text"), ("text", "text"), ("json", "json")]
)
def test_log_format_is_text_unless_json_is_asked_for(value, chosen):
    environ = {"REFERRAL_HUB_ENV": "testing"} | ({"LOG_FORMAT": value} if value is not None else {})
    assert from_environment("instance", environ)["LOG_FORMAT"] == chosen


@pytest.mark.parametrize("value", ["JSON ", "xml", "logfmt", "1"])
def test_any_other_log_format_refuses_to_start(value):
    with pytest.raises(ConfigError, match="LOG_FORMAT must be one of text, json"):
        from_environment("instance", {"REFERRAL_HUB_ENV": "testing", "LOG_FORMAT": value})
