"""Where a member is signed in: starting, finding, listing and ending sessions (one row per browser)."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, literal, select, update
from ua_parser import parse

from ..clock import utcnow
from ..errors import NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..tokens import digest, new_secret
from .models import Member, MemberSession

# How stale `last_seen_at` may grow before a request writes it again: a page view seldom writes.
SEEN_RESOLUTION = timedelta(minutes=5)
USER_AGENT_MAX, ADDRESS_MAX = 400, 45


def start(member: Member, *, user_agent: str, address: str, now: datetime | None = None) -> MemberSession:
    """A new session for the member; sets `member.login_id` ("member_id:secret"), the cookie's user id."""
    secret, session_id = new_secret()
    now = now or utcnow()
    row = MemberSession(
        id=session_id,
        member=member,
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
        address=(address or "")[:ADDRESS_MAX],
    )
    db.session.add(row)
    db.session.flush()
    member.login_id = f"{member.id}:{secret}"
    return row


def session_id_of(login_id: str) -> str:
    """The session row's id behind a Flask-Login user id ("member_id:secret")."""
    return digest(login_id.partition(":")[2])


class SignedIn(NamedTuple):
    """The member behind a login cookie, with what a request needs of their session."""

    member: Member
    session_id: str
    last_seen_at: datetime
    rows: list  # every row of the query: more than one when a caller's query adds outer-joined rows


def signed_in(member_id: int, secret: str, query: Select | None = None, **parameters) -> SignedIn | None:
    """The member behind a login cookie and their live session's last use, in one query by the session's
    primary key; None when the session is unknown, ended, or another member's.

    `query`, when given, is `signed_in_query()` with more columns (and `parameters` for them): a caller
    reads what else it needs with the member in the same statement."""
    session_id = digest(secret)
    rows = db.session.execute(
        signed_in_query() if query is None else query,
        {"session_id": session_id, "member_id": member_id, **parameters},
    ).all()
    if not rows:
        return None
    member, last_seen_at = rows[0][:2]
    member.login_id = f"{member.id}:{secret}"
    return SignedIn(member, session_id, last_seen_at, rows)


@functools.cache
def signed_in_query() -> Select:
    """Built once (every signed-in request runs it), with the session and the member as parameters: the
    member and one column of the session, not the whole row."""
    return (
        select(Member, MemberSession.last_seen_at)
        .join(MemberSession, MemberSession.member_id == Member.id)
        .where(
            MemberSession.id == bindparam("session_id"),
            MemberSession.member_id == bindparam("member_id"),
            MemberSession.ended_at.is_(None),
        )
    )


def is_stale(last_seen_at: datetime, now: datetime | None = None) -> bool:
    """Whether a session last used at `last_seen_at` is old enough to be written again."""
    return last_seen_at <= (now or utcnow()) - SEEN_RESOLUTION


def record_use(session_id: str, *, now: datetime | None = None) -> None:
    """Move the session's last use to now, unless another request did within SEEN_RESOLUTION."""
    now = now or utcnow()
    db.session.execute(
        update(MemberSession)
        .where(
            MemberSession.id == session_id,
            MemberSession.ended_at.is_(None),
            MemberSession.last_seen_at <= now - SEEN_RESOLUTION,
        )
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end_sessions(member: Member, keep: str | None = None, *, now: datetime | None = None) -> int:
    """End every live session of the member (all but `keep`, a session id, when given); return how many.

    Their cookies stop working at once: the user loader finds no live row for them.
    """
    condition = [MemberSession.member_id == member.id, MemberSession.ended_at.is_(None)]
    if keep is not None:
        condition.append(MemberSession.id != keep)
    result = db.session.execute(
        update(MemberSession)
        .where(*condition)
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def end_session(member: Member, session_id: str, *, now: datetime | None = None) -> None:
    """End one of the member's own sessions; ending an ended one again changes nothing. One statement:
    the row is matched by its id and member (another's is not found) and keeps an earlier end."""
    ended = db.session.execute(
        update(MemberSession)
        .where(MemberSession.id == session_id, MemberSession.member_id == member.id)
        .values(
            ended_at=func.coalesce(
                MemberSession.ended_at, literal(now or utcnow(), MemberSession.ended_at.type)
            )
        )
        .execution_options(synchronize_session=False)
    )
    if ended.rowcount == 0:
        raise NotFound(_("You have no such session."))


@dataclass(frozen=True)
class SessionView:
    """One line of the sessions page."""

    id: str
    device: str
    address: str
    created_at: datetime
    last_seen_at: datetime


def device_of(user_agent: str) -> str:
    """ "Firefox on Windows", from the user agent string; "Unknown device" when it says nothing."""
    parsed = parse(user_agent or "")
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    browser = None if browser in (None, "Other") else browser
    system = None if system in (None, "Other") else system
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown device")


def live_sessions(member: Member) -> list[SessionView]:
    """The member's live sessions, the most recently used first."""
    rows = db.session.scalars(
        select(MemberSession)
        .where(MemberSession.member_id == member.id, MemberSession.ended_at.is_(None))
        .order_by(MemberSession.last_seen_at.desc(), MemberSession.created_at.desc())
    )
    return [
        SessionView(row.id, device_of(row.user_agent), row.address, row.created_at, row.last_seen_at)
        for row in rows
    ]
