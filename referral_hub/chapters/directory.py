"""The chapter directory: its active members, searched by name, headline, expertise and ideal referral."""

from sqlalchemy import String, func, literal_column, select

from ..accounts.models import Member
from ..database import contains_pattern, page_of
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
    statement = (
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.chapter_id == chapter.id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(func.lower(Member.display_name), Member.id)
    )
    query = query.strip()[:100]
    if query:
        statement = statement.where(search_text().like(contains_pattern(query), escape="\\"))
    return page_of(statement, page=page, per_page=DIRECTORY_PAGE_SIZE, counted=True)
