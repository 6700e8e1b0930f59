"""Need rules: posting costs credits, only the asker closes it, the board, and expiry."""

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, union_all, update
from sqlalchemy.orm import Bundle

from .. import events
from ..accounts.models import Member
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..chapters.policy import policy_for
from ..clock import start_of_local_day, utcnow
from ..database import contains_pattern, first_of, page_of, paged
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..ledger import posting
from ..ledger.models import Kind
from .models import Need, NeedStatus

DEFAULT_LIFETIME = timedelta(days=30)
MAX_LIFETIME = timedelta(days=365)
BOARD_PAGE_SIZE = 20


class NeedClosed(Conflict):
    """The need was fulfilled, closed or expired."""

    message = _l("This need is no longer open.")


def post_need(
    chapter: Chapter,
    asker: Member,
    *,
    title: str,
    details: str,
    category: str = "",
    expires_on: date | None = None,
) -> Need:
    """Post a need and charge the asker the policy's cost, both or neither."""
    now = utcnow()
    expires_at = now + DEFAULT_LIFETIME
    if expires_on is not None:
        # Open until the end of that day in the chapter's zone.
        expires_at = start_of_local_day(expires_on + timedelta(days=1), chapter.timezone) - timedelta(
            seconds=1
        )
        if expires_at <= now:
            raise DomainError(_("Choose an expiry date in the future."))
        if expires_at - now > MAX_LIFETIME:
            raise DomainError(_("A need can stay open for a year at most."))
    cost = policy_for(chapter).need_cost
    with db.session.begin_nested():
        need = Need(
            chapter=chapter,
            asker=asker,
            title=title.strip(),
            details=details.strip(),
            category=(category or "").strip(),
            created_at=now,
            expires_at=expires_at,
        )
        db.session.add(need)
        db.session.flush()
        events.need_posted.send(need)
        if cost:
            posting.post(
                chapter,
                key=f"need:{need.id}:posted",
                kind=Kind.ASK_NEED,
                memo=f"Posted the need “{need.title}”",
                caused_by=asker,
                entries=[(asker, -cost), (posting.POOL, cost)],
                subject_type="need",
                subject_id=need.id,
            )
    return need


def need_for(member: Member, need_id: int) -> Need:
    """The need, if the member belongs to its chapter; NotFound otherwise."""
    need = db.session.scalar(_need_for_query(), {"need_id": need_id, "member_id": member.id})
    if need is None:
        raise NotFound()
    return need


@functools.cache
def _need_for_query():
    return (
        select(Need)
        .join(Membership, Membership.chapter_id == Need.chapter_id)
        .where(
            Need.id == bindparam("need_id"),
            Membership.member_id == bindparam("member_id"),
            Membership.status == MembershipStatus.ACTIVE,
        )
        .options(db.joinedload(Need.asker), db.joinedload(Need.chapter))
    )


def _finish(need: Need, member: Member, status: NeedStatus) -> Need:
    if need.asker_id != member.id:
        raise Forbidden(_("Only the member who posted a need can close it."))
    changed = db.session.execute(
        update(Need)
        .where(Need.id == need.id, Need.status == NeedStatus.OPEN)
        .values(status=status, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise NeedClosed()
    db.session.refresh(need)
    events.need_finished.send(need)
    return need


def mark_fulfilled(need: Need, member: Member) -> Need:
    return _finish(need, member, NeedStatus.FULFILLED)


def close(need: Need, member: Member) -> Need:
    return _finish(need, member, NeedStatus.CLOSED)


def expire_needs(*, now: datetime | None = None) -> int:
    """Close every open need past its expiry; returns how many."""
    now = now or utcnow()
    expired = Counter(
        db.session.scalars(
            update(Need)
            .where(Need.status == NeedStatus.OPEN, Need.expires_at <= now)
            .values(status=NeedStatus.EXPIRED, closed_at=now)
            .returning(Need.chapter_id)
            .execution_options(synchronize_session=False)
        )
    )
    if expired:
        events.needs_expired.send(now, chapters=dict(expired))
    return expired.total()


def board(chapter: Chapter, *, query: str = "", category: str = "", status: str = "open", page: int = 1):
    """The chapter's needs, newest first, searched and filtered, a page at a time."""
    parameters = {"chapter_id": chapter.id, "status": status, "category": category}
    query = query.strip()[:100]
    if query:
        parameters["pattern"] = contains_pattern(query)
    statuses = {s.value for s in NeedStatus}
    statement = _board_query(status in statuses, bool(category), bool(query))
    return page_of(statement, parameters, page=page, per_page=BOARD_PAGE_SIZE)


# What the board shows of a need (never its details): one row object per need, read as `need.title`.
BOARD_SHOWN = Bundle(
    "need",
    Need.id,
    Need.title,
    Need.category,
    Need.status,
    Need.created_at,
    Need.expires_at,
    Member.display_name.label("asker_name"),
)


@functools.cache
def _board_query(by_status: bool, by_category: bool, searched: bool):
    """Built once for each combination of filters, their values as parameters. Each need is a row of
    what the board shows of it, its asker's name beside it: no entity is loaded for a list of twenty."""
    statement = (
        select(BOARD_SHOWN)
        .join(Member, Member.id == Need.asker_id)
        .where(Need.chapter_id == bindparam("chapter_id"))
        .order_by(Need.created_at.desc(), Need.id.desc())
    )
    if by_status:
        statement = statement.where(Need.status == bindparam("status"))
    if by_category:
        statement = statement.where(Need.category == bindparam("category"))
    if searched:
        pattern = bindparam("pattern")
        statement = statement.where(
            or_(
                func.lower(Need.title).like(pattern, escape="\\"),
                func.lower(Need.details).like(pattern, escape="\\"),
            )
        )
    return paged(statement)


def categories(chapter: Chapter) -> list[str]:
    return list(db.session.scalars(_categories_query(), {"chapter_id": chapter.id}))


@functools.cache
def _categories_query():
    return (
        select(Need.category)
        .where(Need.chapter_id == bindparam("chapter_id"), Need.category != "")
        .distinct()
        .order_by(Need.category)
        .limit(50)
    )


@dataclass(frozen=True)
class OpenNeeds:
    own: list[Need]  # the member's own, newest first (the dashboard's "mark fulfilled")
    others: list[Need]  # others' in the member's active chapters, newest first, with their askers


OWN, OTHERS = "own", "others"


def open_needs(member: Member, *, own: int = 5, others: int = 10) -> OpenNeeds:
    """The member's own open needs and the latest open needs of others in their chapters: one query."""
    parameters = {"member_id": member.id, "own": own, "others": others}
    lists = {OWN: [], OTHERS: []}
    for need, listed in db.session.execute(_open_needs_query(), parameters):
        lists[listed].append(need)
    return OpenNeeds(own=lists[OWN], others=lists[OTHERS])


@functools.cache
def _open_needs_query():
    """Built once, with the member and the two limits as parameters."""
    member_id = bindparam("member_id")
    own = first_of(
        OWN,
        bindparam("own"),
        select(Need.id).where(Need.asker_id == member_id, Need.status == NeedStatus.OPEN),
        Need.created_at.desc(),
        Need.id.desc(),
    )
    others = first_of(
        OTHERS,
        bindparam("others"),
        select(Need.id)
        .join(Membership, Membership.chapter_id == Need.chapter_id)
        .where(
            Membership.member_id == member_id,
            Membership.status == MembershipStatus.ACTIVE,
            Need.status == NeedStatus.OPEN,
            Need.asker_id != member_id,
        ),
        Need.created_at.desc(),
        Need.id.desc(),
    )
    lists = union_all(own, others).subquery("lists")
    return (
        select(Need, lists.c.list)
        .join(lists, lists.c.id == Need.id)
        # The dashboard shows each need's title, its asker's name and its chapter's name.
        .options(
            db.load_only(Need.title),
            db.joinedload(Need.asker).load_only(Member.display_name),
            db.joinedload(Need.chapter).load_only(Chapter.name),
        )
        .order_by(lists.c.list, lists.c.rank)
    )
