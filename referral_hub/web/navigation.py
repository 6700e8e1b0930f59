"""The header's links: those every page has, and the member's chapters and introductions waiting for them."""

import functools
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import contains_eager

from ..chapters.models import Chapter, Membership, MembershipStatus
from ..clock import utcnow
from ..extensions import db
from ..introductions.queries import waiting_count_column
from .locale import home_timezone_from


@dataclass(frozen=True)
class Navigation:
    chapters: list  # (slug, name) of each chapter the member is active in
    waiting: int


@dataclass(frozen=True)
class Header:
    """What the header reads, from a page that read it already in its own query (the dashboard)."""

    memberships: list  # the member's, with their chapters, by chapter name (pending ones too)
    waiting: int


def navigation(header: Header | None = None) -> Navigation | None:
    """Read when the header is drawn (one query), not for every template such as an email; not read
    again when the page gives the `header` it read."""
    if not current_user.is_authenticated:
        return None
    if g.get("database_unavailable"):
        # The 503 page, drawn after the database failed: the plain links, without asking it again.
        return Navigation(chapters=[], waiting=0)
    # Not caught here: a page whose header cannot be read fails whole, and its unit of work rolls back.
    if header is None:
        rows = db.session.execute(_header_query(), {"member_id": current_user.id, "now": utcnow()}).all()
        waiting = rows[0].waiting
        memberships = [row.Membership for row in rows if row.Membership is not None]
    else:
        waiting, memberships = header.waiting, header.memberships
    home_timezone_from(memberships)
    chapters = [(m.chapter.slug, m.chapter.name) for m in memberships if m.status is MembershipStatus.ACTIVE]
    return Navigation(chapters=chapters, waiting=waiting)


@functools.cache
def _header_query():
    """Built once: the waiting count and the member's active memberships with their chapters, by
    chapter name, in one query (one row with no membership when they have none)."""
    waiting = select(waiting_count_column()).subquery("waiting")
    active = and_(
        Membership.member_id == bindparam("member_id"), Membership.status == MembershipStatus.ACTIVE
    )
    return (
        select(waiting.c.waiting, Membership)
        .select_from(waiting)
        .outerjoin(Membership, active)
        .outerjoin(Chapter, Chapter.id == Membership.chapter_id)
        .options(contains_eager(Membership.chapter))
        .order_by(Chapter.name)
    )


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
    app.context_processor(lambda: {"navigation": navigation, "page_layout": page_layout})
