"""Cross-cutting HTTP behaviour: request ids and logs, security headers, health check."""

import logging
import time
import uuid

from flask import Blueprint, Flask, abort, g, has_request_context, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event, text
from werkzeug.routing import IntegerConverter

from ..database import MAX_INT, write_lock_up_front
from ..extensions import db

log = logging.getLogger("referral_hub.requests")

bp = Blueprint("http", __name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


MAX_PAGE = 10_000


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in every route: a number too large for the database is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(url_map, *args, **kwargs)


def id_from(raw) -> int | None:
    """A positive database id from user input (a form or query value), or None."""
    text_value = str(raw or "")
    if not (text_value.isascii() and text_value.isdigit() and len(text_value) <= 10):
        return None
    value = int(text_value)
    return value if 0 < value <= MAX_INT else None


def page_arg() -> int:
    """The `?page=` number, clamped to what a paginated page can sensibly ask for."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def _refuse_nul_bytes():
    # PostgreSQL text cannot hold NUL; no honest form or link sends one.
    sent = [request.args] if request.query_string else []
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent.append(request.form)
    if any("\x00" in value for values in sent for _name, value in values.items(multi=True)):
        abort(400, description="The request contains a NUL character, which no field accepts.")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means "not healthy"
        db.session.rollback()
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


def _start_request():
    # A request that may write takes SQLite's write lock with its first statement (database.py).
    g.write_lock_token = write_lock_up_front.set(request.method not in ("GET", "HEAD", "OPTIONS"))
    incoming = request.headers.get("X-Request-ID", "")
    # Accept a proxy's id when it looks like one; never echo arbitrary header content.
    valid = 0 < len(incoming) <= 64 and all(c.isalnum() or c in "-_." for c in incoming)
    g.request_id = incoming if valid else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    g.queries = 0


def _count_query(*_args):
    if has_request_context():
        g.queries = g.get("queries", 0) + 1


def _end_request(_error=None):
    if token := g.pop("write_lock_token", None):
        write_lock_up_front.reset(token)


def _finish_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "-")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    log.info(
        "%s %s %s %.1fms queries=%d request_id=%s",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        g.get("queries", 0),
        g.get("request_id", "-"),
    )
    return response


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(_start_request)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count_query)
    app.register_blueprint(bp)
