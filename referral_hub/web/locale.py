"""Which language and time zone a page is answered in."""

from flask import g, has_request_context, request
from flask_login import current_user

from ..i18n import LANGUAGES


def language() -> str | None:
    """The member's choice, else the browser's `Accept-Language`, else the chapter's (set by its pages)."""
    chosen = getattr(current_user, "language", None) if has_request_context() else None
    if chosen:
        return chosen
    if has_request_context() and (asked := request.accept_languages.best_match(LANGUAGES)):
        return asked
    return g.get("chapter_language")


def timezone() -> str | None:
    """A chapter's pages show its zone (set by its views); pages about a member show the member's."""
    if not has_request_context():
        return None
    return g.get("page_timezone") or getattr(current_user, "timezone", None)
