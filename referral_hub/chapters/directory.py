"""The chapter directory: its active members, searched by name, headline, expertise and ideal referral."""

import functools

from sqlalchemy import String, bindparam, func, literal_column, select

from ..accounts.models import Member
from ..database import contains_pattern, page_of, paged
from .models import Chapter, Membership, MembershipStatus

DIRECTORY_PAGE_SIZE = 20


def search_text():
    """The text the directory searches; the PostgreSQL trigram index is built on this expression.

    The separators are SQL literals: as bound parameters they would stop a prepared statement's
    generic plan from matching the index expression.
    """
    space = literal_column("' '", String)
    return func.lower(
        Member.display_name
        + space
        + Member.headline
        + space
        + Member.expertise
        + space
        + Member.ideal_referral
    )


def directory(chapter: Chapter, *, query: str = "", page: int = 1):
    """The chapter's active members by name, a page at a time, with how many there are (or match the
    search): the page shows that total, counted in the same query."""
    parameters = {"chapter_id": chapter.id}
    query = query.strip()[:100]
    if query:
        parameters["pattern"] = contains_pattern(query)
    return page_of(
        _directory_query(bool(query)), parameters, page=page, per_page=DIRECTORY_PAGE_SIZE, counted=True
    )


@functools.cache
def _directory_query(searched: bool):
    """Built once with and once without a search, the chapter and the pattern as parameters."""
    statement = (
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.chapter_id == bindparam("chapter_id"), Membership.status == MembershipStatus.ACTIVE)
        .order_by(func.lower(Member.display_name), Member.id)
    )
    if searched:
        statement = statement.where(search_text().like(bindparam("pattern"), escape="\\"))
    return paged(statement, counted=True)
