"""An organizer picking one of the chapter's current members by name or email address, among hundreds."""

import functools
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, func, or_, select

from ..accounts.models import Member, email_key_of
from ..database import contains_pattern
from ..extensions import db
from .models import Chapter, Membership, MembershipStatus

# When typed text could mean several members, this many are offered to choose from: enough to tell
# them apart, few enough to read; past it the organizer types more.
MATCHES_SHOWN = 10
TEXT_LENGTH = 100


@dataclass(frozen=True)
class Candidate:
    """A current member as an organizer picks them: the name and the address that tell them apart."""

    id: int
    display_name: str
    email: str


@dataclass(frozen=True)
class Pick:
    """What the typed text found: the one member it names, or the members it could mean (none, or up to
    MATCHES_SHOWN, `more` when others match too)."""

    text: str
    member: Candidate | None = None
    matches: list[Candidate] = field(default_factory=list)
    more: bool = False


def pick(chapter: Chapter, text: str) -> Pick:
    """The current member `text` names: their whole email address, their whole name (in any case) when
    one member has it, or the only member whose name or address contains it. One query, whatever the
    chapter's size: it reads at most MATCHES_SHOWN + 1 members."""
    text = " ".join(text.split())[:TEXT_LENGTH]
    if not text:
        return Pick(text)
    parameters = {
        "chapter_id": chapter.id,
        "email_key": email_key_of(text),
        "name": text.lower(),
        "name_pattern": contains_pattern(text),
        "email_pattern": contains_pattern(email_key_of(text)),
        "limit": MATCHES_SHOWN + 1,
    }
    rows = db.session.execute(_matching_query(), parameters).all()
    # Closest first: 2 is the address itself (unique), 1 the whole name.
    named = [row for row in rows if row.closeness == 2] or [row for row in rows if row.closeness == 1]
    if len(named) == 1 or len(rows) == 1:
        return Pick(text, member=_candidate((named or rows)[0]))
    matches = [_candidate(row) for row in rows[:MATCHES_SHOWN]]
    return Pick(text, matches=matches, more=len(rows) > MATCHES_SHOWN)


def member_in(chapter: Chapter, member_id: int | None) -> Candidate | None:
    """The chapter's current member with this id (a choice posted back, a link's `?member=`), if any."""
    if not member_id:
        return None
    row = db.session.execute(_member_query(), {"chapter_id": chapter.id, "member_id": member_id}).first()
    return _candidate(row) if row else None


def _candidate(row) -> Candidate:
    return Candidate(row.id, row.display_name, row.email)


def _current_members():
    return (
        select(Member.id, Member.display_name, Member.email)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.chapter_id == bindparam("chapter_id"), Membership.status == MembershipStatus.ACTIVE)
    )


@functools.cache
def _matching_query():
    """Built once, the text's forms as parameters."""
    closeness = case(
        (Member.email_key == bindparam("email_key"), 2),
        (func.lower(Member.display_name) == bindparam("name"), 1),
        else_=0,
    )
    return (
        _current_members()
        .add_columns(closeness.label("closeness"))
        .where(
            or_(
                func.lower(Member.display_name).like(bindparam("name_pattern"), escape="\\"),
                Member.email_key.like(bindparam("email_pattern"), escape="\\"),
            )
        )
        .order_by(closeness.desc(), func.lower(Member.display_name), Member.id)
        .limit(bindparam("limit"))
    )


@functools.cache
def _member_query():
    return _current_members().where(Member.id == bindparam("member_id"))
