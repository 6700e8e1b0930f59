"""The application's one notion of "now": timezone-aware UTC, and the local days of a time zone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The days a form or the API accepts: wide enough for any real date, narrow enough that a local
# midnight of any zone is a UTC instant Python can hold.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_day(moment: datetime, zone: str) -> date:
    """The calendar day `moment` falls on in `zone` (an IANA name)."""
    return moment.astimezone(ZoneInfo(zone)).date()


def start_of_local_day(day: date, zone: str) -> datetime:
    """The UTC instant the local `day` begins in `zone`: its midnight, however long the day is (DST)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_day_bounds(moment: datetime, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants the local day of `moment` begins and ends (23, 24 or 25 hours apart)."""
    day = local_day(moment, zone)
    return start_of_local_day(day, zone), start_of_local_day(day + timedelta(days=1), zone)
