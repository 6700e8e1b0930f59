"""Health check, request ids, security headers and error pages."""

import re

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.routing import BuildError

from referral_hub.accounts import sessions
from referral_hub.extensions import db
from referral_hub.web.http import MAX_PAGE, MAX_SEGMENT, BoundedIntConverter, page_arg
from tests.factories import ChapterFactory, InvitationFactory, MemberFactory, MembershipFactory

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def test_healthz_answers_200_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "up"}


def test_healthz_answers_503_when_database_fails(client, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "down"


def test_a_logged_in_page_answers_503_not_500_when_the_database_cannot_load_the_member(browser, monkeypatch):
    member = MemberFactory()
    browser.login(member.email)

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT members", {}, Exception("server closed the connection"))

    # Loading the member fails, and the error page must not try to load it again to render the menu.
    monkeypatch.setattr(sessions, "signed_in", broken)
    response = browser.get("/dashboard")
    assert response.status_code == 503
    assert "briefly unavailable" in response.get_data(as_text=True)


def test_a_chapter_page_answers_503_when_the_database_is_down_in_any_language(browser, monkeypatch):
    """The 503 page picks its language and zone without asking the database for the chapter's."""
    membership = MembershipFactory()
    browser.login(membership.member.email)

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT members", {}, Exception("server closed the connection"))

    monkeypatch.setattr(sessions, "signed_in", broken)
    for name in ("execute", "scalar", "scalars"):
        monkeypatch.setattr(db.session, name, broken)
    answers = {None: "briefly unavailable", "fr": "briefly unavailable", "es": "Vuelve a intentarlo"}
    for language, said in answers.items():
        headers = {"Accept-Language": language} if language else {}
        response = browser.get(f"/chapters/{membership.chapter.slug}/", headers=headers)
        assert response.status_code == 503, language
        assert said in response.get_data(as_text=True), language


def test_every_response_carries_a_request_id_and_security_headers(client):
    response = client.get("/login")
    assert len(response.headers["X-Request-ID"]) >= 16
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_a_proxy_request_id_is_kept_and_a_malformed_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert replaced != "bad id <script>" and replaced.isalnum()


def test_request_is_logged_with_method_path_status_duration_and_id(client, caplog):
    caplog.set_level("INFO", logger="referral_hub.requests")
    response = client.get("/healthz")
    line = caplog.records[-1].getMessage()
    assert line.startswith("GET /healthz 200 ")
    assert "ms" in line and response.headers["X-Request-ID"] in line


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Not Found" in response.data


def test_request_log_line_counts_the_sql_statements_the_request_sent(client, caplog, count_queries):
    caplog.set_level("INFO", logger="referral_hub.requests")
    client.get("/login")
    assert " queries=0 " in caplog.records[-1].getMessage()
    with count_queries() as sent:
        client.get("/healthz")
    logged = int(re.search(r" queries=(\d+) ", caplog.records[-1].getMessage()).group(1))
    # The test's savepoint is counted too, and the check's own end of its read (in a test, the
    # savepoint's rollback): the request's commit then has nothing to send.
    *_, select, ended = sent.statements[:logged]
    assert select == "SELECT 1" and ended.startswith("ROLLBACK TO SAVEPOINT")
    assert len(sent.statements) == logged


def test_statements_sent_between_requests_are_in_no_request_log_line(client, caplog):
    caplog.set_level("INFO", logger="referral_hub.requests")
    client.get("/healthz")
    db.session.execute(text("SELECT 1"))  # a command's or a job's statement, in this thread after a request
    db.session.rollback()
    client.get("/login")
    assert " queries=0 " in caplog.records[-1].getMessage()


def test_a_method_the_route_does_not_take_is_a_405_that_says_which_it_does(client):
    for path in ("/healthz", "/api/v1/chapters"):
        response = client.delete(path)
        assert response.status_code == 405
        assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "multipart/form-data"],
    ids=["query", "form", "multipart"],
)
def test_a_nul_character_anywhere_a_field_can_come_from_is_a_400(client, content_type):
    if content_type is None:
        response = client.get("/login?email=a%00b")
    else:
        data = {"email": "a\x00b@example.org", "password": "x"}
        response = client.post("/login", data=data, content_type=content_type)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_the_session_serializer_is_built_once_per_secret_key(app, monkeypatch):
    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)
    assert sessions.get_signing_serializer(app) is first
    monkeypatch.setattr(app, "secret_key", "a-rotated-secret")
    rotated = sessions.get_signing_serializer(app)
    assert rotated is not first and rotated.secret_keys[-1] == b"a-rotated-secret"


def test_an_address_is_built_once_for_its_endpoint_values_and_root_and_equals_flasks(app):
    built = Flask.url_for  # the URL map's answer, as a plain Flask app gives it
    cases = [
        ("needs.detail", {"need_id": 7}),
        ("needs.board", {"slug": "riverside", "page": 2, "q": "café & co"}),
        ("needs.board", {"q": "café & co", "slug": "riverside", "page": 2}),  # query in this order
        ("static", {"filename": "app.css"}),
    ]
    for root in ("", "/hub"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for endpoint, values in cases:
                assert app.url_for(endpoint, **values) == built(app, endpoint, **values)
                assert app.url_for(endpoint, **values).startswith(f"{root}/")
            hits = app._address.cache_info().hits
            assert app.url_for("needs.detail", need_id=7) == built(app, "needs.detail", need_id=7)
            assert app._address.cache_info().hits == hits + 1
            # Options and values other than text and numbers are Flask's own work, every time.
            assert app.url_for("needs.detail", need_id=7, _anchor="x") == f"{root}/needs/7#x"
            assert app.url_for("needs.detail", need_id=7, _external=True) == f"http://localhost{root}/needs/7"
            assert app.url_for("needs.board", slug="riverside", q=["a", "b"]).endswith("?q=a&q=b")
            assert app._address.cache_info().hits == hits + 1
    kept = app._address.cache_info().currsize
    with app.test_request_context("/"), pytest.raises(BuildError):
        app.url_for("needs.detail")
    assert app._address.cache_info().currsize == kept  # a failure is not kept as an address


def test_each_hook_and_view_is_checked_for_async_once_as_flask_checks_it(app):
    def plain():
        return "plain"

    async def waited():
        return "waited"

    checks = app._synchronous.cache_info()
    assert app.ensure_sync(plain) is plain and app.ensure_sync(plain) is plain
    assert app._synchronous.cache_info().hits == checks.hits + 1
    # As in plain Flask: an async view needs the `async` extra, which the app does not install.
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(waited)
    with pytest.raises(RuntimeError, match="async"):
        Flask.ensure_sync(app, waited)


def routes_with(app, *, argument) -> list:
    """The app's routes that have a path argument for which `argument(rule, name)` is true."""
    return [rule for rule in app.url_map.iter_rules() if any(argument(rule, name) for name in rule.arguments)]


def is_text(rule, name: str) -> bool:
    return not isinstance(rule._converters[name], BoundedIntConverter)


def path_of(rule, text: str, number: str = "1") -> str:
    """The rule's path with each int argument `number` and each other argument `text`."""
    return ARGUMENT.sub(lambda match: number if match.group(1) == "int" else text, rule.rule)


def test_a_nul_byte_in_any_path_segment_is_a_4xx_on_every_route(app, browser):
    member = MemberFactory()
    browser.login(member.email)
    routes = routes_with(app, argument=is_text)
    assert len(routes) >= 14
    answers = {}
    for rule in routes:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = browser.client.open(path_of(rule, "a%00b"), method=method)
            answers[f"{method} {rule.rule}"] = response.status_code
    assert {name: status for name, status in answers.items() if not 400 <= status < 500} == {}
    assert answers["GET /chapters/<slug>/"] == 400


@pytest.mark.parametrize("prefix", ["/i/", "/join/", "/verify/", "/password/reset/"])
def test_a_link_token_longer_than_any_the_app_issues_is_a_404_without_a_query(client, count_queries, prefix):
    with count_queries() as sent:
        response = client.get(prefix + "x" * (MAX_SEGMENT + 1))
    assert response.status_code == 404
    assert sent.count == 0


def test_a_page_number_is_read_in_ascii_digits_only(app):
    read = {"3": 3, "003": 3, "99999999999": MAX_PAGE, "": 1, "0": 1, "-3": 1, "abc": 1}
    read |= dict.fromkeys(["\u0663", "\uff13", "+3", " 3", "3.0", "0x3", "3_0"], 1)
    for page, number in read.items():
        with app.test_request_context("/chapters/riverside/members", query_string={"page": page}):
            assert page_arg() == number, page


def test_every_page_a_signed_in_member_gets_is_private_and_not_stored(app, browser):
    chapter = ChapterFactory(slug="riverside")
    member = MembershipFactory(chapter=chapter, organizer=True).member
    browser.login(member.email)
    pages = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    assert len(pages) > 30
    not_private = {}
    for rule in pages:
        path = path_of(rule, "riverside", str(member.id))
        response = browser.get(path)
        if response.headers.get("Cache-Control") != "private, no-store":
            not_private[path] = (response.status_code, response.headers.get("Cache-Control"))
    assert not_private == {}


def test_every_email_link_page_is_private_and_not_stored(app, client):
    InvitationFactory(secret="join-us")
    link_pages = routes_with(app, argument=lambda _rule, name: name == "token")
    paths = [path_of(rule, "not-a-known-token") for rule in link_pages] + ["/join/join-us"]
    assert len(link_pages) >= 5
    for path in paths:
        for method in ("GET", "HEAD"):
            response = client.open(path, method=method)
            assert response.headers.get("Cache-Control") == "private, no-store", (method, path)
    assert "Join" in client.get("/join/join-us").get_data(as_text=True)
    assert "private" not in client.get("/login").headers.get("Cache-Control", ""), "a visitor's public page"
