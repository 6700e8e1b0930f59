"""The one place that turns domain errors, link errors and HTTP errors into pages and JSON (what
the request wrote is already rolled back: see unit_of_work.py)."""

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError, InvalidInput
from ..extensions import login_manager
from ..tokens import LinkError


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _answer(status: int, code: str, message: str, title: str, **details):
    if wants_json():
        return jsonify(error={"code": code, "message": message, **details}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        details = {"fields": error.fields} if isinstance(error, InvalidInput) else {}
        body, status = _answer(error.status, error.code, error.message, "That did not work", **details)
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if status == 401 else {}
        return body, status, headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        body, status = _answer(error.code or 500, code, error.description or "", error.name)
        # Keep what the error says about itself, such as a 405's Allow (RFC 9110 requires it).
        headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
        return body, status, headers

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        app.logger.warning("database unavailable: %s", error.orig)
        # The member could not be loaded: show the page as to a visitor, or rendering it would ask the
        # database again (Flask-Login's context processor loads `current_user`) and fail with a 500.
        g.setdefault("_login_user", login_manager.anonymous_user())
        g.database_unavailable = True  # and a signed-in member's header does not ask it either
        return _answer(
            503,
            "unavailable",
            "The service is briefly unavailable. Please try again in a moment.",
            "Temporarily unavailable",
        )

    @app.errorhandler(LinkError)
    def link_error(error: LinkError):
        return render_template("errors/link.html", error=error), error.status
