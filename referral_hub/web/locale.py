"""Which language and time zone a page is answered in."""

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Member
from ..chapters.models import Chapter
from ..chapters.settings import home_timezone
from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_remember_chapter)


def _remember_chapter(_endpoint: str | None, values: dict | None) -> None:
    # Every page under /chapters/<slug>/ is about that chapter: it speaks in its zone and language.
    if values and "slug" in values and not request.path.startswith("/api/"):
        g.page_chapter_slug = values["slug"]


def show_chapter(chapter: Chapter, *, reader: Member | None = None) -> None:
    """For a page about one chapter whose address does not name it (a need): its zone and language.

    An emailed link's page names its `reader` (signed in or not): their own language comes first, as
    in the email that carried the link.
    """
    g.page_timezone, g.chapter_language = chapter.timezone, chapter.language
    g.reader_language = reader.language if reader else None


def _page_chapter() -> Chapter | None:
    """The chapter the address names: the one its view loaded already, else one query."""
    slug = g.get("page_chapter_slug")
    if slug is None:
        return None
    if "page_chapter" not in g:
        loaded = (
            found
            for found in db.session.identity_map.values()
            if isinstance(found, Chapter) and found.slug == slug
        )
        g.page_chapter = next(loaded, None) or db.session.scalar(select(Chapter).where(Chapter.slug == slug))
    return g.page_chapter


def language() -> str | None:
    """An emailed link's reader's choice, else the signed-in member's, else the browser's
    `Accept-Language`, else the chapter's (set by its pages).

    The API answers in English whoever asks: its messages are for programs and their logs.
    """
    if not has_request_context():
        return None
    # Each use of Flask's proxies finds the request's objects again: found once here.
    current, request_globals = request._get_current_object(), g._get_current_object()
    if current.path.startswith("/api/v1/"):
        return DEFAULT_LANGUAGE
    if request_globals.get("database_unavailable"):
        # The 503 page: neither the member nor the chapter can be read.
        return current.accept_languages.best_match(LANGUAGES)
    if chosen := request_globals.get("reader_language") or getattr(current_user, "language", None):
        return chosen
    if browser := current.accept_languages.best_match(LANGUAGES):
        return browser
    if chapter_language := request_globals.get("chapter_language"):
        return chapter_language
    chapter = _page_chapter()
    return chapter.language if chapter else None


def timezone() -> str | None:
    """A chapter's pages show its zone; other pages the member's own, else their first chapter's."""
    if not has_request_context():
        return None
    request_globals = g._get_current_object()
    if request_globals.get("database_unavailable"):
        return None
    if zone := request_globals.get("page_timezone"):
        return zone
    if chapter := _page_chapter():
        return chapter.timezone
    member = current_user._get_current_object()
    if not member.is_authenticated:
        return None
    if "home_timezone" not in request_globals:
        request_globals.home_timezone = home_timezone(member)
    return request_globals.home_timezone


def home_timezone_from(member: Member, memberships: list) -> None:
    """The signed-in member's memberships, read already for the header: a page about no one chapter
    takes its zone from them instead of asking the database again (`timezone`)."""
    if "home_timezone" not in g:
        g.home_timezone = home_timezone(member, memberships)
