"""Who shares a chapter with whom: the one query for "active members of one chapter together"."""

import functools
from collections.abc import Collection

from sqlalchemy import Select, bindparam, exists, func, select

from ..accounts.models import Member
from ..extensions import db
from .models import Chapter, Membership, MembershipStatus


def shared_chapter_ids(member_ids: Collection) -> Select:
    """Chapters in which every one of these (distinct) members is active: a subquery, whose ids may
    also be SQL parameters."""
    return (
        select(Membership.chapter_id)
        .where(Membership.member_id.in_(member_ids), Membership.status == MembershipStatus.ACTIVE)
        .group_by(Membership.chapter_id)
        .having(func.count(Membership.member_id) == len(member_ids))
    )


def shared_chapters(member_ids: set[int]) -> list[Chapter]:
    """Chapters in which every one of these members is active, by name."""
    if len(member_ids) == 2:
        a_id, b_id = member_ids
        return list(db.session.scalars(_pair_chapters_query(), {"a_id": a_id, "b_id": b_id}))
    chapter_ids = shared_chapter_ids(member_ids)
    return list(db.session.scalars(select(Chapter).where(Chapter.id.in_(chapter_ids)).order_by(Chapter.name)))


def shares_chapter(viewer: Member, other_id: int) -> bool:
    if viewer.id == other_id:  # one member: active in any chapter
        return db.session.scalar(select(exists(shared_chapter_ids({other_id}))))
    return db.session.scalar(_pair_shares_query(), {"a_id": viewer.id, "b_id": other_id})


def _pair() -> list:
    return [bindparam("a_id"), bindparam("b_id")]


@functools.cache
def _pair_chapters_query():
    """Built once (every profile page reads it), with the two members as parameters."""
    return select(Chapter).where(Chapter.id.in_(shared_chapter_ids(_pair()))).order_by(Chapter.name)


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
