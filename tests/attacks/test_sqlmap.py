"""sqlmap finds no SQL injection in the login form, the directory search or the API's report filters."""

import os
import re
import subprocess
import urllib.parse
import urllib.request

import pytest

from tests.conftest import ON_POSTGRESQL

from .conftest import DEMO_MEMBERS

SQLMAP = "/usr/bin/sqlmap"
# Level 3 and risk 2 are where sqlmap's time-based tests for SQLite begin (heavy queries; PostgreSQL's
# pg_sleep ones begin at 1); 2 s delays; only the payloads of the database the app runs on (an attacker
# fingerprints it first). A run takes a minute or two.
PROBE = [
    *("--batch", "--flush-session", "--level=3", "--risk=2", "--time-sec=2"),
    "--dbms=PostgreSQL" if ON_POSTGRESQL else "--dbms=SQLite",
]
# Boolean-based blind, error-based, UNION query, stacked queries and time-based blind.
EVERY_TECHNIQUE = "BEUST"
# sqlmap's verdicts when it believes a parameter reaches SQL (or the page leaks database errors or
# echoes markup). Its interim "appears to be … injectable" is left out: on a page that differs on every
# load (the login form's timed CSRF token), or on a busy machine's jittery response times, sqlmap may
# say it, then check it and reject it as a false positive.
POSITIVE_VERDICTS = re.compile(
    r"identified the following injection point|parameter '[^']+' is vulnerable|might be injectable"
    r"|might be vulnerable"
)
# sqlmap sends about 190 (SQLite) to 450 (PostgreSQL) requests for each parameter it tests here.
REQUESTS_PER_PARAMETER = 150


def attack(tmp_path, target: str, *options: str, techniques: str = EVERY_TECHNIQUE) -> str:
    """Run sqlmap against `target`; returns what it printed."""
    run = subprocess.run(
        [SQLMAP, "-u", target, *PROBE, f"--technique={techniques}", f"--output-dir={tmp_path / 'sqlmap'}"]
        + ["--disable-coloring", *options],
        env={**os.environ, "HOME": str(tmp_path)},  # its history file too stays in the test's folder
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def assert_not_injectable(output: str, parameters: list[str]) -> None:
    assert not POSITIVE_VERDICTS.search(output), output[-5000:]
    for parameter in parameters:
        assert f"parameter '{parameter}' does not seem to be injectable" in output, output[-5000:]
    assert "all tested parameters do not appear to be injectable" in output, output[-5000:]


def assert_probed(statuses: list[int], parameters: list[str]) -> None:
    """sqlmap really sent its payloads, and none of them made the app fail."""
    assert len(statuses) >= REQUESTS_PER_PARAMETER * len(parameters), len(statuses)
    assert all(status < 500 for status in statuses), sorted(set(statuses))


def test_the_login_form_is_not_injectable(served_app, tmp_path):
    login = f"{served_app.base_url}/login"
    # A member's address with a wrong password: the lookup finds a row, so an injected condition after
    # it is evaluated (a time-based payload has no effect on a lookup that matches nothing).
    form = urllib.parse.urlencode(
        {"email": served_app.member_email, "password": "not-the-password", "csrf_token": "fetched"}
    )
    since = served_app.log_mark()
    output = attack(
        tmp_path,
        login,
        f"--data={form}",
        # A fresh token from the form before each request; sqlmap keeps the session cookie it was set.
        "--csrf-token=csrf_token",
        f"--csrf-url={login}",
        "-p",
        "email,password",
        # A refused login is answered 401, which sqlmap otherwise takes for "HTTP authentication needed".
        "--ignore-code=401",
        # No UNION: it reads a query's result off the page, and this page shows none; an injection that
        # a union could use shows through the time-based tests too. Leaving it out halves the run.
        techniques=EVERY_TECHNIQUE.replace("U", ""),
    )
    assert_not_injectable(output, ["email", "password"])
    statuses = served_app.statuses("POST", "/login", since=since)
    assert_probed(statuses, ["email", "password"])
    assert set(statuses) == {401}, "the CSRF token was refused: sqlmap probed a 400, not the login"


def test_the_directory_search_is_not_injectable(served_app, tmp_path):
    # A search that finds most of the chapter: an injected true condition then shows a page that an
    # injected false one does not, which boolean-based blind injection needs to be seen at all.
    search = f"{served_app.base_url}/chapters/{served_app.slug}/members?q=a"
    cookie = served_app.session_cookie(served_app.member_email)
    with urllib.request.urlopen(urllib.request.Request(search, headers={"Cookie": cookie})) as page:
        assert page.read().decode().count('href="/members/') >= DEMO_MEMBERS // 2
    since = served_app.log_mark()
    # `-p q`: the session cookie is the member's login, not a parameter to tamper with.
    output = attack(tmp_path, search, f"--cookie={cookie}", "-p", "q")
    assert_not_injectable(output, ["q"])
    statuses = served_app.statuses("GET", f"/chapters/{served_app.slug}/members", since=since)
    assert_probed(statuses, ["q"])
    assert set(statuses) == {200}, "the session was lost: sqlmap probed the login page, not the search"


@pytest.mark.parametrize(
    ("report", "query", "parameters"),
    [
        ("introductions", "status=completed&from=2020-01-01&to=2099-12-31", ["status", "from", "to"]),
        ("needs", "status=open", ["status"]),
    ],
    ids=["introductions", "needs"],
)
def test_the_api_report_filters_are_not_injectable(served_app, tmp_path, report, query, parameters):
    path = f"/api/v1/chapters/{served_app.slug}/{report}"
    since = served_app.log_mark()
    output = attack(
        tmp_path,
        f"{served_app.base_url}{path}?{query}",
        "-H",
        f"Authorization: Bearer {served_app.token}",
        "-p",
        ",".join(parameters),
    )
    assert_not_injectable(output, parameters)
    statuses = served_app.statuses("GET", path, since=since)
    assert_probed(statuses, parameters)
    assert 200 in statuses, "the token was refused: sqlmap probed the 401, not the report"
