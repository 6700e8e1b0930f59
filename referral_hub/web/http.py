"""Cross-cutting HTTP behaviour: request ids and logs, security headers, health check, addresses."""

import functools
import logging
import time
import uuid
from contextvars import ContextVar

from flask import Blueprint, Flask, abort, g, has_request_context, jsonify, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from sqlalchemy import event, text
from werkzeug.routing import BaseConverter, IntegerConverter

from ..database import MAX_INT, write_lock_up_front
from ..extensions import db
from ..i18n import gettext as _

log = logging.getLogger("referral_hub.requests")

# The statements the current request has sent, for its log line: a list of one count, set when the
# request starts, so that counting a statement looks nothing up through Flask's context proxies.
_statements: ContextVar[list[int] | None] = ContextVar("statements", default=None)

bp = Blueprint("http", __name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


MAX_PAGE = 10_000
# The longest slug, token or name a path segment carries: slugs are 60, email-link tokens 43.
MAX_SEGMENT = 128
# What pages that show contact details, and the pages email links open, tell every cache.
PRIVATE = "private, no-store"


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in every route: a number too large for the database is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(url_map, *args, **kwargs)


class BoundedStringConverter(BaseConverter):
    """`<slug>`, `<token>` and every other text segment: URL-safe characters (RFC 3986's unreserved
    ones), at most MAX_SEGMENT of them. Anything else matches no route: a 404 that asks nothing of
    the database. (A NUL byte is refused before routing, with a 400: `_refuse_nul_bytes`.)"""

    regex = rf"[A-Za-z0-9._~-]{{1,{MAX_SEGMENT}}}"


def id_from(raw) -> int | None:
    """A positive database id from user input (a form or query value), or None."""
    text_value = str(raw or "")
    if not (text_value.isascii() and text_value.isdigit() and len(text_value) <= 10):
        return None
    value = int(text_value)
    return value if 0 < value <= MAX_INT else None


def page_arg(name: str = "page") -> int:
    """The `?page=` number (or the argument `name`, for a second list on the same page) in ASCII
    digits, clamped to what a paginated page can sensibly ask for; anything else (`٣`, `+2`, `-1`,
    `abc`) is the first page."""
    digits = request.args.get(name, "").lstrip("0")
    if not (digits.isascii() and digits.isdigit()):
        return 1
    return min(int(digits), MAX_PAGE) if len(digits) <= len(str(MAX_PAGE)) else MAX_PAGE


def _refuse_nul_bytes(request):
    # PostgreSQL text cannot hold NUL; no honest form or link sends one, in a field or in the path.
    sent = [request.args] if request.query_string else []
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent.append(request.form)
    if "\x00" in request.path or any(
        "\x00" in value for values in sent for _name, value in values.items(multi=True)
    ):
        abort(400, description=_("The request contains a NUL character, which no field or address accepts."))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        # Ended here, so the request's unit of work has no COMMIT to send: a database that goes down
        # just after the check fails it in this `try`, and the answer is still this JSON, not a page.
        db.session.rollback()
    except Exception as error:  # any failure to reach the database means "not healthy"
        log.warning("health check failed: %s", error)
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per secret key:
    Flask builds a new one for every request, and itsdangerous test-serializes `{}` each time."""

    _built: tuple = (None, None)

    def get_signing_serializer(self, app: Flask):
        secrets = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._built[0] != secrets:
            self._built = (secrets, super().get_signing_serializer(app))
        return self._built[1]


class Application(Flask):
    """Flask, with a page's addresses built once: an address inside a request, with none of url_for's
    options, is a function of its endpoint, its values and the app's root (no subdomains, no
    `url_defaults`), so the same link on every row and page is not built by the URL map again. And
    each hook and view is checked for `async def` once, not on every request that runs it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = functools.lru_cache(maxsize=4096)(self._build_address)
        # Bounded: functions registered for one request only (after_this_request) pass through too.
        self._synchronous = functools.lru_cache(maxsize=256)(super().ensure_sync)

    def ensure_sync(self, func):
        return self._synchronous(func)

    def url_for(self, endpoint: str, /, **values) -> str:
        if (
            endpoint[:1] != "."
            and not any(name.startswith("_") for name in values)
            and all(type(value) in _PLAIN for value in values.values())
            and not any(self.url_default_functions.values())
            and has_request_context()
        ):
            return self._address(endpoint, request.script_root, tuple(values.items()))
        return super().url_for(endpoint, **values)

    def _build_address(self, endpoint: str, _root: str, values: tuple) -> str:
        # Built by the first request with this key, whose root the key holds; a failure is not kept.
        return super().url_for(endpoint, **dict(values))


_PLAIN = frozenset({str, int})


def bearer_token() -> str | None:
    """The token of the request's `Authorization: Bearer <token>` header (the scheme in any case)."""
    scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _start_request():
    # The request and `g` are looked up once here: each use of Flask's proxies finds them again.
    current, request_globals = request._get_current_object(), g._get_current_object()
    # A request that may write takes SQLite's write lock with its first statement (database.py).
    request_globals.write_lock_token = write_lock_up_front.set(
        current.method not in ("GET", "HEAD", "OPTIONS")
    )
    request_globals.statements_token = _statements.set([0])
    incoming = current.headers.get("X-Request-ID", "")
    # Accept a proxy's id when it looks like one; never echo arbitrary header content.
    valid = 0 < len(incoming) <= 64 and all(c.isalnum() or c in "-_." for c in incoming)
    request_globals.request_id = incoming if valid else uuid.uuid4().hex
    request_globals.request_started = time.perf_counter()
    _refuse_nul_bytes(current)


def _count_query(*_args):
    if (sent := _statements.get()) is not None:
        sent[0] += 1


def _end_request(_error=None):
    request_globals = g._get_current_object()
    if token := request_globals.pop("statements_token", None):
        _statements.reset(token)
    if token := request_globals.pop("write_lock_token", None):
        write_lock_up_front.reset(token)


def _is_private(request) -> bool:
    """A response no cache may keep: one to a signed-in request, or an email link's page (every
    route with a `<token>` segment: the token is a secret, and the page shows whom it is for)."""
    if request.url_rule is not None and "token" in request.url_rule.arguments:
        return True
    # The session first: it costs nothing, where Flask-Login may load the member from the database.
    return session.get("_user_id") is not None or current_user.is_authenticated


def cache_privately(max_age: int) -> None:
    """Let the browser (never a shared cache) keep this response: only for the member photo route,
    whose URL carries the photo's version, so a changed photo has a new address."""
    g.private_cache = f"private, max-age={max_age}" + (", immutable" if max_age else ", no-cache")


def _finish_request(response):
    current, request_globals = request._get_current_object(), g._get_current_object()
    request_id = request_globals.get("request_id", "-")
    response.headers["X-Request-ID"] = request_id
    if _is_private(current):
        response.headers["Cache-Control"] = request_globals.get("private_cache", PRIVATE)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    started = request_globals.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    sent = _statements.get()
    fields = {
        "request_id": request_id,
        "method": current.method,
        "path": current.path,
        "status": response.status_code,
        "duration_ms": round(duration_ms, 1),
        "queries": sent[0] if sent else 0,
    }
    # The text line is what bench/load.py reads `queries=N` from; LOG_FORMAT=json adds the fields.
    log.info(
        "%(method)s %(path)s %(status)s %(duration_ms).1fms queries=%(queries)d request_id=%(request_id)s",
        fields,
        extra=fields,
    )
    return response


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = BoundedStringConverter
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count_query)
    app.register_blueprint(bp)
