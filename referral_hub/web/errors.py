"""The one place that turns domain errors, link errors and HTTP errors into pages and JSON (what
the request wrote is already rolled back: see unit_of_work.py)."""

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError, InvalidInput
from ..extensions import login_manager
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..tokens import LinkError

# The HTTP errors a member can meet, in their language: Werkzeug's own English names and
# descriptions, from the catalog (the API keeps them as Werkzeug writes them).
HTTP_PAGES = {
    400: (
        _l("Bad Request"),
        _l("The browser (or proxy) sent a request that this server could not understand."),
    ),
    403: (
        _l("Forbidden"),
        _l(
            "You don't have the permission to access the requested resource. It is either read-protected "
            "or not readable by the server."
        ),
    ),
    404: (
        _l("Not Found"),
        _l(
            "The requested URL was not found on the server. If you entered the URL manually please check "
            "your spelling and try again."
        ),
    ),
    405: (_l("Method Not Allowed"), _l("The method is not allowed for the requested URL.")),
    413: (_l("Request Entity Too Large"), _l("The data value transmitted exceeds the capacity limit.")),
    429: (_l("Too Many Requests"), _l("This user has exceeded an allotted request count. Try again later.")),
    500: (
        _l("Internal Server Error"),
        _l(
            "The server encountered an internal error and was unable to complete your request. Either the "
            "server is overloaded or there is an error in the application."
        ),
    ),
}

# Flask-WTF's own reasons for refusing a form (in English in its code), from the catalog.
CSRF_REASONS = {
    "The CSRF token is missing.": _l("The CSRF token is missing."),
    "The CSRF session token is missing.": _l("The CSRF session token is missing."),
    "The CSRF token has expired.": _l("The CSRF token has expired."),
    "The CSRF token is invalid.": _l("The CSRF token is invalid."),
    "The CSRF tokens do not match.": _l("The CSRF tokens do not match."),
    "The referrer header is missing.": _l("The referrer header is missing."),
    "The referrer does not match the host.": _l("The referrer does not match the host."),
}


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
        body, status = _answer(error.status, error.code, error.message, _("That did not work"), **details)
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if status == 401 else {}
        return body, status, headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        title, message = error.name, str(error.description or "")
        if not wants_json() and error.code in HTTP_PAGES:
            title, standard = HTTP_PAGES[error.code]
            # A description a view or the rate limiter gave is kept; Werkzeug's own English is replaced.
            if error.description == type(error).description:
                message = standard
            elif error.description in CSRF_REASONS:
                message = _(
                    "%(reason)s Reload the page and send the form again.",
                    reason=CSRF_REASONS[error.description],
                )
        body, status = _answer(error.code or 500, code, message, title)
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
            _("The service is briefly unavailable. Please try again in a moment."),
            _("Temporarily unavailable"),
        )

    @app.errorhandler(LinkError)
    def link_error(error: LinkError):
        return render_template("errors/link.html", error=error), error.status
