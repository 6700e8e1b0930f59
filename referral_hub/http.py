"""Cross-cutting HTTP behaviour: request ids and logs, security headers, health check."""

import logging
import time
import uuid

from flask import Blueprint, Flask, g, jsonify, request
from sqlalchemy import text

from .extensions import db

log = logging.getLogger("referral_hub.requests")

bp = Blueprint("http", __name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means "not healthy"
        db.session.rollback()
        log.warning("health check failed: %s", error)
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")


def _start_request():
    incoming = request.headers.get("X-Request-ID", "")
    # Accept a proxy's id when it looks like one; never echo arbitrary header content.
    valid = 0 < len(incoming) <= 64 and all(c.isalnum() or c in "-_." for c in incoming)
    g.request_id = incoming if valid else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "-")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    log.info(
        "%s %s %s %.1fms request_id=%s",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        g.get("request_id", "-"),
    )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_blueprint(bp)
