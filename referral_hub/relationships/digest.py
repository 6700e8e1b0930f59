"""The weekly digest: relationships to refresh, needs that match what the member does, and what waits
for their answer; at most one per member per ISO week, and an unsubscribe link that needs no login."""

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Member
from ..chapters.models import Membership, MembershipStatus
from ..chapters.settings import home_timezones, speaking_to
from ..clock import utcnow
from ..extensions import db
from ..introductions.models import Introduction
from ..introductions.queries import waiting_for
from ..mail.services import absolute_url, enqueue, one_click_unsubscribe
from ..tokens import LinkUnknown
from .connector_requests import requests_waiting_for
from .matching import needs_matching
from .models import DigestDelivery, IntroRequest
from .nudges import Nudge, keep_in_touch

UNSUBSCRIBE_SALT = "digest-unsubscribe"


# The digest goes out on Monday at 08:00 in each member's zone (their own, else their first chapter's).
DUE_WEEKDAY, DUE_TIME = 0, time(8)


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def local_week(moment: datetime, zone: str) -> str:
    """The ISO week `moment` falls in, on the calendar of `zone`: the digest's once-a-week key."""
    return iso_week(moment.astimezone(ZoneInfo(zone)))


def is_due(moment: datetime, zone: str) -> bool:
    """Whether this local week's Monday 08:00 has come in `zone` (a DST change moves it with the clock)."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.weekday() > DUE_WEEKDAY or local.time() >= DUE_TIME


@dataclass(frozen=True)
class Digest:
    nudges: list[Nudge]
    needs: list  # rows of matching.MATCHED_NEED
    introductions: list[Introduction]
    requests: list[IntroRequest]

    @property
    def is_empty(self) -> bool:
        return not (self.nudges or self.needs or self.introductions or self.requests)


def digest_for(member: Member, *, now: datetime | None = None) -> Digest:
    now = now or utcnow()
    return Digest(
        nudges=keep_in_touch(member, now=now),
        needs=needs_matching(member),
        introductions=waiting_for(member, now=now),
        requests=requests_waiting_for(member, now=now),
    )


def recipients(*, now: datetime | None = None, due_only: bool = False) -> list[int]:
    """Members who take the digest (verified, active in a chapter) and have not had this local week's;
    with `due_only`, only those whose local Monday 08:00 has come."""
    now = now or utcnow()
    zones = db.session.execute(
        select(Member.id, home_timezones())
        .where(
            Member.weekly_digest.is_(True),
            Member.email_verified_at.is_not(None),
            exists(
                select(Membership.id).where(
                    Membership.member_id == Member.id, Membership.status == MembershipStatus.ACTIVE
                )
            ),
        )
        .order_by(Member.id)
    ).all()
    weeks = {member_id: local_week(now, zone or "UTC") for member_id, zone in zones}
    if due_only:
        weeks = {member_id: weeks[member_id] for member_id, zone in zones if is_due(now, zone or "UTC")}
    if not weeks:
        return []
    # Every zone is within a day of UTC: this week's deliveries fall in at most two ISO weeks.
    delivered = set(
        db.session.execute(
            select(DigestDelivery.member_id, DigestDelivery.iso_week).where(
                DigestDelivery.iso_week.in_(set(weeks.values()))
            )
        ).tuples()
    )
    return [member_id for member_id, week in weeks.items() if (member_id, week) not in delivered]


def send_digest(member: Member, *, now: datetime | None = None) -> bool:
    """Enqueue this week's digest for the member (their local week); False if the member opted out, this
    week's digest was already decided (the unique (member, week) row decides a race), or it has
    nothing to say: that week is then recorded as empty, so later runs that week do not compute it again."""
    now = now or utcnow()
    if not (member.weekly_digest and member.is_verified):
        return False
    digest = digest_for(member, now=now)
    speaking = speaking_to(member)
    week = local_week(now, speaking["timezone"] or "UTC")
    try:
        with db.session.begin_nested():
            db.session.add(
                DigestDelivery(member_id=member.id, iso_week=week, sent_at=now, empty=digest.is_empty)
            )
    except IntegrityError:
        return False
    if digest.is_empty:
        return False
    unsubscribe_link = absolute_url("relationships.unsubscribe", token=unsubscribe_token(member))
    enqueue(
        "digest",
        to=member.email,
        **speaking,
        member=member,
        digest=digest,
        dashboard_link=absolute_url("chapters.dashboard"),
        profile_link=absolute_url("accounts.profile"),
        unsubscribe_link=unsubscribe_link,
        headers=one_click_unsubscribe(unsubscribe_link),
        absolute_url=absolute_url,
    )
    return True


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(member: Member) -> str:
    """A signed token naming the member: it needs no login and cannot be forged for anyone else."""
    return _serializer().dumps(member.id)


def member_for_unsubscribe(token: str) -> Member:
    try:
        member_id = _serializer().loads(token)
    except BadSignature as error:
        raise LinkUnknown() from error
    member = db.session.get(Member, member_id) if isinstance(member_id, int) else None
    if member is None:
        raise LinkUnknown()
    return member


def unsubscribe(token: str) -> Member:
    member = member_for_unsubscribe(token)
    member.weekly_digest = False
    db.session.flush()
    return member
