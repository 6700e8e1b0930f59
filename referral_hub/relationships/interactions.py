"""Interactions members record themselves: a one-to-one meeting they had, a thank-you note they send."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date

from ..accounts.models import Member
from ..chapters.settings import home_timezone
from ..chapters.sharing import shares_chapter
from ..clock import local_day, utcnow
from ..errors import NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..introductions.models import Introduction, IntroState
from ..mail.services import absolute_url, enqueue
from .errors import AlreadyRecorded, RelationshipRefused
from .models import NOTE_LENGTH, InteractionKind
from .strength import ordered, record

ONE_TO_ONE_NOTE_LENGTH = 200
ONE_TO_ONE_OLDEST = timedelta(days=365)


def _acquaintance(member: Member, other_id: int) -> Member:
    """The other member, if the two are different people and share a chapter now."""
    if other_id == member.id:
        raise RelationshipRefused(_("That is you: choose another member."))
    other = db.session.get(Member, other_id)
    if other is None or not shares_chapter(member, other_id):
        raise NotFound()
    return other


def log_one_to_one(
    member: Member, other_id: int, *, met_on: date, note: str = "", now: datetime | None = None
) -> Member:
    """A one-to-one meeting between the member and another (weight 3), once per pair per day; returns
    the other member."""
    now = now or utcnow()
    other = _acquaintance(member, other_id)
    # The member's own day: "today" at 07:00 in Tonga is still yesterday in UTC.
    zone = home_timezone(member)
    if met_on > local_day(now, zone):
        raise RelationshipRefused(_("Log a one-to-one once it has happened: choose today or an earlier day."))
    if met_on < local_day(now - ONE_TO_ONE_OLDEST, zone):
        raise RelationshipRefused(_("Log one-to-ones from the last twelve months."))
    note = " ".join((note or "").split())
    if len(note) > ONE_TO_ONE_NOTE_LENGTH:
        raise RelationshipRefused(
            _("Keep the line about the meeting under %(max)d characters.", max=ONE_TO_ONE_NOTE_LENGTH)
        )
    low, high = ordered(member.id, other.id)
    interaction_id = record(
        member.id,
        other.id,
        InteractionKind.ONE_TO_ONE,
        # Midday of the day they met, but never later than now.
        occurred_at=min(datetime.combine(met_on, time(12), tzinfo=ZoneInfo(zone)).astimezone(UTC), now),
        event_key=f"one_to_one:{low}:{high}:{met_on.isoformat()}",
        recorded_by_id=member.id,
        note=note,
    )
    if interaction_id is None:
        raise AlreadyRecorded(
            _(
                "A one-to-one between you and %(name)s on %(day)s is already logged.",
                name=other.display_name,
                day=format_date(met_on, "long"),
            )
        )
    return other


def send_thanks(
    member: Member,
    recipient_id: int,
    *,
    note: str,
    introduction_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """A thank-you note (weight 1), emailed to the recipient; one a day from one member to another."""
    now = now or utcnow()
    recipient = _acquaintance(member, recipient_id)
    note = (note or "").strip()
    if not note:
        raise RelationshipRefused(_("Write your thank-you note to %(name)s.", name=recipient.display_name))
    if len(note) > NOTE_LENGTH:
        raise RelationshipRefused(_("Keep the note under %(max)d characters.", max=NOTE_LENGTH))
    intro = None
    if introduction_id:
        intro = db.session.get(Introduction, introduction_id)
        if (
            intro is None
            or intro.state is not IntroState.COMPLETED
            or not (intro.involves(member.id) and intro.involves(recipient.id))
        ):
            raise RelationshipRefused(_("Thank someone for an introduction you were both part of."))
    interaction_id = record(
        member.id,
        recipient.id,
        InteractionKind.THANKS,
        occurred_at=now,
        event_key=f"thanks:{member.id}:{recipient.id}:{now.date().isoformat()}",
        recorded_by_id=member.id,
        note=note,
        introduction_id=intro.id if intro else None,
    )
    if interaction_id is None:
        raise AlreadyRecorded(_("You have already thanked %(name)s today.", name=recipient.display_name))
    enqueue(
        "thanks_note",
        to=recipient.email,
        **(intro.chapter.speaking_to(recipient) if intro else recipient.speaking()),
        sender=member,
        recipient=recipient,
        note=note,
        intro=intro,
        link=absolute_url("chapters.member_profile", member_id=member.id),
    )
    return interaction_id
