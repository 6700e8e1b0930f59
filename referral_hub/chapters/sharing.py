"""Who shares a chapter with whom: the one query for "active members of one chapter together"."""

import functools
from collections.abc import Collection

from sqlalchemy import BindParameter, Select, bindparam, exists, func, select

from ..accounts.models import Member
from ..extensions import db
from .models import Chapter, Membership, MembershipStatus


def shared_chapter_ids(member_ids: Collection | BindParameter, count: BindParameter | None = None) -> Select:
    """Chapters in which every one of these (distinct) members is active: a subquery, whose ids may
    also be SQL parameters (or one expanding parameter, with `count` the parameter of their number)."""
    return (
        select(Membership.chapter_id)
        .where(Membership.member_id.in_(member_ids), Membership.status == MembershipStatus.ACTIVE)
        .group_by(Membership.chapter_id)
        .having(func.count(Membership.member_id) == (len(member_ids) if count is None else count))
    )


def shared_chapters(member_ids: set[int]) -> list[Chapter]:
    """Chapters in which every one of these members is active, by name."""
    return list(
        db.session.scalars(
            _shared_chapters_query(), {"member_ids": list(member_ids), "count": len(member_ids)}
        )
    )


def shares_chapter(viewer: Member, other_id: int) -> bool:
    if viewer.id == other_id:  # one member: active in any chapter
        return db.session.scalar(select(exists(shared_chapter_ids({other_id}))))
    return db.session.scalar(_pair_shares_query(), {"a_id": viewer.id, "b_id": other_id})


def _pair() -> list:
    return [bindparam("a_id"), bindparam("b_id")]


@functools.cache
def _shared_chapters_query():
    """Built once (every profile page and every introduction reads it), with the members as parameters."""
    shared = shared_chapter_ids(bindparam("member_ids", expanding=True), count=bindparam("count"))
    return select(Chapter).where(Chapter.id.in_(shared)).order_by(Chapter.name)


@functools.cache
def _pair_shares_query():
    return select(exists(shared_chapter_ids(_pair())))


def active_members(chapter_id: int, member_ids: set[int], *, lock: bool = False) -> set[int]:
    """Which of these members are active in the chapter. `lock` takes a shared lock on their
    memberships, so that a leave being written waits for this transaction."""
    statement = select(Membership.member_id).where(
        Membership.chapter_id == chapter_id,
        Membership.member_id.in_(member_ids),
        Membership.status == MembershipStatus.ACTIVE,
    )
    if lock:
        statement = statement.with_for_update(read=True)
    return set(db.session.scalars(statement))
