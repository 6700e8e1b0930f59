"""The header's links: the member's chapters and how many introductions wait for them."""

from dataclasses import dataclass

from flask import Flask, g
from flask_login import current_user

from ..chapters.services import memberships_of
from ..introductions.queries import waiting_count


@dataclass(frozen=True)
class Navigation:
    chapters: list  # (slug, name) of each chapter the member is active in
    waiting: int


def navigation(memberships: list | None = None) -> Navigation | None:
    """Read when the header is drawn (two small queries), not for every template such as an email.
    A page that read the member's memberships already (the dashboard) gives them, not read twice."""
    if not current_user.is_authenticated:
        return None
    if g.get("database_unavailable"):
        # The 503 page, drawn after the database failed: the plain links, without asking it again.
        return Navigation(chapters=[], waiting=0)
    # Not caught here: a page whose header cannot be read fails whole, and its unit of work rolls back.
    chapters = [
        (m.chapter.slug, m.chapter.name)
        for m in (memberships if memberships is not None else memberships_of(current_user))
        if m.status.value == "active"
    ]
    return Navigation(chapters=chapters, waiting=waiting_count(current_user))


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"navigation": navigation})
