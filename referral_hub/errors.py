"""Domain errors and the one place that turns them (and HTTP errors) into pages and JSON."""

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import login_manager


class DomainError(Exception):
    """A rule refused an action. `status` is the HTTP status a view answers with."""

    status = 400
    code = "refused"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()


class NotFound(DomainError):
    """That page does not exist, or you do not have access to it."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """You are not allowed to do that."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthorized(DomainError):
    """Send a valid API token: Authorization: Bearer <token>."""

    status = 401
    code = "unauthorized"


class InvalidInput(DomainError):
    """Some parameters are not valid. `fields` maps each one to what is wrong with it."""

    status = 422
    code = "invalid_parameters"

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__(
            "; ".join(f"{name}: {' '.join(problems)}" for name, problems in sorted(fields.items()))
        )


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _answer(status: int, code: str, message: str, title: str, **details):
    if wants_json():
        return jsonify(error={"code": code, "message": message, **details}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
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
        return _answer(
            503,
            "unavailable",
            "The service is briefly unavailable. Please try again in a moment.",
            "Temporarily unavailable",
        )
