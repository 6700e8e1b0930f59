"""Which language and time zone a page is answered in."""

from flask import g, has_request_context, request
from flask_login import current_user

from ..i18n import DEFAULT_LANGUAGE, LANGUAGES


def language() -> str | None:
    """The member's choice, else the browser's `Accept-Language`, else the chapter's (set by its pages).

    The API answers in English whoever asks: its messages are for programs and their logs.
    """
    if not has_request_context():
        return None
    if request.path.startswith("/api/v1/"):
        return DEFAULT_LANGUAGE
    if chosen := getattr(current_user, "language", None):
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or g.get("chapter_language")


def timezone() -> str | None:
    """A chapter's pages show its zone (set by its views); pages about a member show the member's."""
    if not has_request_context():
        return None
    return g.get("page_timezone") or getattr(current_user, "timezone", None)
