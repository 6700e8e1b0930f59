"""The header's links: those every page has, and the member's chapters and introductions waiting for them."""

import functools
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import contains_eager

from ..accounts import sessions
from ..accounts.models import Member
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..clock import utcnow
from ..extensions import db
from ..introductions.queries import waiting_count_column
from .forms import csrf_token
from .locale import home_timezone_from


@dataclass(frozen=True)
class Navigation:
    chapters: list  # (slug, name) of each chapter the member is active in
    waiting: int


def signed_in_with_header(member_id: int, secret: str) -> sessions.SignedIn | None:
    """The member behind a login cookie with their header, in one query: for a request that shows a page
    and writes nothing before (a GET), whose header is then not read again when it is drawn."""
    found = sessions.signed_in(member_id, secret, _signed_in_with_header_query(), now=utcnow())
    if found is not None:
        # Plain values, read now: a page whose unit of work rolls back (an error page) draws them still.
        g.navigation = _navigation_of(found.member, found.rows)
    return found


def navigation() -> Navigation | None:
    """The header's member part: read with the member (`signed_in_with_header`), else when the header is
    drawn (one query), not for every template such as an email."""
    member = current_user._get_current_object()  # found once: each use of the proxy finds it again
    if not member.is_authenticated:
        return None
    request_globals = g._get_current_object()
    if request_globals.get("database_unavailable"):
        # The 503 page, drawn after the database failed: the plain links, without asking it again.
        return Navigation(chapters=[], waiting=0)
    if (read := request_globals.get("navigation")) is not None:
        return read
    # Not caught here: a page whose header cannot be read fails whole, and its unit of work rolls back.
    rows = db.session.execute(_header_query(), {"member_id": member.id, "now": utcnow()}).all()
    return _navigation_of(member, rows)


def _navigation_of(member: Member, rows: list) -> Navigation:
    memberships = [row.Membership for row in rows if row.Membership is not None]
    home_timezone_from(member, memberships)
    chapters = [(m.chapter.slug, m.chapter.name) for m in memberships]
    return Navigation(chapters=chapters, waiting=rows[0].waiting)


def _with_header(query: Select) -> Select:
    """`query` (one row for the member `member_id`) with the waiting count and the member's active
    memberships with their chapters, by chapter name: a row for each (one with no membership when they
    have none)."""
    active = and_(
        Membership.member_id == bindparam("member_id"), Membership.status == MembershipStatus.ACTIVE
    )
    return (
        query.add_columns(waiting_count_column(), Membership)
        .outerjoin(Membership, active)
        .outerjoin(Chapter, Chapter.id == Membership.chapter_id)
        .options(contains_eager(Membership.chapter))
        .order_by(Chapter.name)
    )


@functools.cache
def _header_query() -> Select:
    """Built once: the header alone, for a page drawn after a write (a refused form's)."""
    return _with_header(select(Member.id).where(Member.id == bindparam("member_id")))


@functools.cache
def _signed_in_with_header_query() -> Select:
    """Built once: the user loader's query with the header."""
    return _with_header(sessions.signed_in_query())


def page_layout():
    """The layout's parts that depend only on the page's language, its endpoint and the app's root
    (templates/_layout.html, its links and their words): drawn once for each, not on every page; on
    every page while templates reload (development), so that an edit of the layout shows at once."""
    app = current_app._get_current_object()
    if app.jinja_env.auto_reload:
        return _draw_layout(app, request.endpoint)
    return _layout(app, str(get_locale()), request.endpoint, request.script_root)


@functools.lru_cache(maxsize=1024)
def _layout(app: Flask, _language: str, endpoint: str | None, _script_root: str):
    # Drawn by the first request with this key: its words and addresses are in the key's language and root.
    return _draw_layout(app, endpoint)


def _draw_layout(app: Flask, endpoint: str | None):
    return app.jinja_env.get_template("_layout.html").make_module({"page_endpoint": endpoint})


def init_app(app: Flask) -> None:
    # `csrf_token` replaces Flask-WTF's in templates (imported macros read the globals, pages the context).
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(
        lambda: {"navigation": navigation, "page_layout": page_layout, "csrf_token": csrf_token}
    )
