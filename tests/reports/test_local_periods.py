"""Report periods are the chapter's local days: events are counted on the chapter's date of their
instant (UTC+13 and UTC−10), a zone change refiles the kept days, and daylight saving days in
Europe/Madrid (23 and 25 hours) neither double nor drop an event. `reports verify` agrees each time."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from referral_hub.chapters.policy import update_policy
from referral_hub.chapters.settings import change_settings
from referral_hub.extensions import db
from referral_hub.ledger import posting
from referral_hub.ledger.models import Kind
from referral_hub.needs import services as needs
from referral_hub.reports.access import create_token
from referral_hub.reports.counting import differences
from referral_hub.reports.models import ChapterDay
from referral_hub.reports.periods import Period
from tests.factories import ChapterFactory, MembershipFactory


def at(text: str) -> datetime:
    """A UTC time written `2026-11-30 12:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Chapter:
    """A chapter in `zone` whose organizer posts needs (free of credits) at given UTC instants, and
    reads its reports through the API."""

    def __init__(self, client, zone: str):
        self.chapter = ChapterFactory(timezone=zone)
        self.organizer = MembershipFactory(chapter=self.chapter, organizer=True).member
        update_policy(self.chapter, changed_by=self.organizer, settings={"need_cost": 0})
        self.client = client
        self.token = create_token(self.organizer, name="Spreadsheet", chapter_slug=self.chapter.slug)[1]

    def post_need(self, moment: datetime) -> None:
        with time_machine.travel(moment, tick=False):
            needs.post_need(self.chapter, self.organizer, title="A printer", details="Two hundred flyers.")

    def api(self, report: str, **query) -> dict:
        answer = self.client.get(
            f"/api/v1/chapters/{self.chapter.slug}/{report}",
            query_string=query,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    def posted(self, first: str, last: str | None = None) -> int:
        """Needs posted from `first` to `last` (the chapter's dates), as the API's summary counts them."""
        figures = self.api("summary", **{"from": first, "to": last or first})
        assert (figures["from"], figures["to"]) == (first, last or first)  # echoed as given
        return figures["needs"]["posted"]

    def kept_days(self) -> dict[date, int]:
        return {
            row.day: row.needs_posted
            for row in db.session.scalars(
                select(ChapterDay).where(
                    ChapterDay.chapter_id == self.chapter.id, ChapterDay.needs_posted > 0
                )
            )
        }


@pytest.fixture
def verify(app):
    runner = app.test_cli_runner()

    def run():
        result = runner.invoke(args=["reports", "verify"])
        assert result.exit_code == 0, result.output
        assert result.output.strip().endswith("Figures match")

    return run


# A chapter at UTC+13 and one at UTC−10 ----------------------------------------------------------------


def test_an_event_counts_on_the_local_date_at_utc_plus_13_and_utc_minus_10(client, verify):
    auckland, honolulu = Chapter(client, "Pacific/Auckland"), Chapter(client, "Pacific/Honolulu")
    auckland.post_need(at("2026-11-30 12:00"))  # 01:00 on 1 December in Auckland (NZDT, UTC+13)
    honolulu.post_need(at("2026-12-01 05:00"))  # 19:00 on 30 November in Honolulu (UTC−10)

    assert auckland.kept_days() == {date(2026, 12, 1): 1}
    assert honolulu.kept_days() == {date(2026, 11, 30): 1}
    assert (auckland.posted("2026-12-01"), auckland.posted("2026-11-30")) == (1, 0)
    assert (honolulu.posted("2026-11-30"), honolulu.posted("2026-12-01")) == (1, 0)
    # The month rows put each need in its local month, across the month's end in UTC.
    for chapter, month in ((auckland, "2026-12-01"), (honolulu, "2026-11-01")):
        rows = chapter.api("activity", interval="month", **{"from": "2026-11-01", "to": "2026-12-31"})
        assert {row["period_start"]: row["needs_posted"] for row in rows["items"]} == {
            "2026-11-01": int(month == "2026-11-01"),
            "2026-12-01": int(month == "2026-12-01"),
        }
    verify()


def test_the_default_period_ends_today_in_the_chapter_zone(client):
    auckland = Chapter(client, "Pacific/Auckland")
    auckland.post_need(at("2026-11-30 12:00"))
    # 12:30 UTC on 30 November is already 1 December in Auckland: the need is today's there.
    with time_machine.travel(at("2026-11-30 12:30"), tick=False):
        assert auckland.api("summary")["to"] == "2026-12-01"
        assert auckland.api("summary")["needs"]["posted"] == 1
        weeks = auckland.api("activity", interval="week")["items"]
    assert weeks[-1]["period_start"] == "2026-11-30" and weeks[-1]["needs_posted"] == 1
    assert Period.of(zone="Pacific/Honolulu", now=at("2026-11-30 09:59")).end == date(2026, 11, 29)


def test_the_api_date_filters_of_lists_are_the_chapter_dates(client):
    honolulu = Chapter(client, "Pacific/Honolulu")
    member = MembershipFactory(chapter=honolulu.chapter).member
    with time_machine.travel(at("2026-12-01 05:00"), tick=False):  # 19:00 on 30 November locally
        posting.post(
            honolulu.chapter,
            key="test-grant:honolulu",
            kind=Kind.GRANT,
            memo="Starting credits",
            caused_by=honolulu.organizer,
            entries=[(posting.POOL, -5), (member, 5)],
        )
    assert honolulu.api("ledger", **{"from": "2026-11-30", "to": "2026-11-30"})["total"] == 1
    assert honolulu.api("ledger", **{"from": "2026-12-01", "to": "2026-12-01"})["total"] == 0
    assert honolulu.api("summary", **{"from": "2026-11-30", "to": "2026-11-30"})["credits"]["issued"] == 5


def test_member_status_counts_the_90_days_of_the_chapter(client):
    auckland = Chapter(client, "Pacific/Auckland")
    auckland.post_need(at("2026-09-02 13:00"))  # 01:00 on 3 September in Auckland (NZST, UTC+12)
    # On 1 December there, its 90 days began at 3 September's local midnight (12:00 UTC on the 2nd):
    # the need is in them, though it was posted before 3 September began in UTC.
    with time_machine.travel(at("2026-12-01 00:00"), tick=False):
        (organizer,) = auckland.api("members")["items"]
        assert organizer["status"] == "amber"
    with time_machine.travel(at("2026-12-01 11:00"), tick=False):  # 00:00 on 2 December there
        (organizer,) = auckland.api("members")["items"]
        assert organizer["status"] == "red"


# A zone change --------------------------------------------------------------------------------------------


def test_a_zone_change_refiles_the_kept_days_in_the_same_transaction(client, verify):
    lisbon = Chapter(client, "UTC")
    lisbon.post_need(at("2026-11-30 12:00"))
    lisbon.post_need(at("2026-11-30 09:00"))
    assert lisbon.kept_days() == {date(2026, 11, 30): 2}

    change_settings(lisbon.chapter, changed_by=lisbon.organizer, timezone="Pacific/Auckland")
    # 12:00 UTC is 01:00 on 1 December in Auckland; 09:00 UTC is still 22:00 on 30 November.
    assert lisbon.kept_days() == {date(2026, 11, 30): 1, date(2026, 12, 1): 1}
    assert (lisbon.posted("2026-11-30"), lisbon.posted("2026-12-01")) == (1, 1)
    verify()
    # Events after the change are filed by the new zone, on top of the refiled days.
    lisbon.post_need(at("2026-12-01 10:30"))  # 23:30 on 1 December in Auckland
    assert lisbon.kept_days() == {date(2026, 11, 30): 1, date(2026, 12, 1): 2}
    verify()


def test_changing_only_the_language_leaves_the_days_alone(client, count_queries):
    honolulu = Chapter(client, "Pacific/Honolulu")
    honolulu.post_need(at("2026-12-01 05:00"))
    with count_queries() as counted:
        change_settings(honolulu.chapter, changed_by=honolulu.organizer, language="es")
    assert not any("report_chapter_days" in statement for statement in counted.queries)
    assert honolulu.kept_days() == {date(2026, 11, 30): 1}


def test_a_zone_change_rebuilds_only_that_chapter(client):
    auckland, other = Chapter(client, "Pacific/Auckland"), Chapter(client, "UTC")
    auckland.post_need(at("2026-11-30 12:00"))
    other.post_need(at("2026-11-30 05:00"))
    change_settings(other.chapter, changed_by=other.organizer, timezone="Pacific/Honolulu")
    assert auckland.kept_days() == {date(2026, 12, 1): 1}
    assert other.kept_days() == {date(2026, 11, 29): 1}  # 19:00 on 29 November in Honolulu


# Daylight saving in Europe/Madrid ---------------------------------------------------------------------


def test_madrid_days_are_23_and_25_hours_long_on_the_last_sundays_of_march_and_october():
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    for day, hours in ((spring, 23), (autumn, 25), (spring - timedelta(days=1), 24)):
        period = Period(day, day, "Europe/Madrid")
        assert period.ends_at - period.starts_at == timedelta(hours=hours)
    assert Period(spring, spring, "Europe/Madrid").starts_at == at("2026-03-28 23:00")
    assert Period(autumn, autumn, "Europe/Madrid").ends_at == at("2026-10-25 23:00")
    # Consecutive days meet exactly: nothing falls between them or in two of them.
    week = [
        Period(autumn + timedelta(days=n), autumn + timedelta(days=n), "Europe/Madrid") for n in range(-3, 4)
    ]
    assert all(one.ends_at == following.starts_at for one, following in zip(week, week[1:], strict=False))


@pytest.mark.parametrize(
    ("day", "moments"),
    [
        (
            "2026-03-29",  # clocks go from 02:00 to 03:00: a 23-hour day
            {
                "2026-03-28 22:59": "2026-03-28",  # 23:59 CET
                "2026-03-28 23:00": "2026-03-29",  # 00:00 CET
                "2026-03-29 00:59": "2026-03-29",  # 01:59 CET
                "2026-03-29 01:00": "2026-03-29",  # 03:00 CEST, an hour later on the clock
                "2026-03-29 21:59": "2026-03-29",  # 23:59 CEST
                "2026-03-29 22:00": "2026-03-30",  # 00:00 CEST
            },
        ),
        (
            "2026-10-25",  # clocks go from 03:00 back to 02:00: a 25-hour day
            {
                "2026-10-24 21:59": "2026-10-24",  # 23:59 CEST
                "2026-10-24 22:00": "2026-10-25",  # 00:00 CEST
                "2026-10-25 00:30": "2026-10-25",  # 02:30 CEST
                "2026-10-25 01:30": "2026-10-25",  # 02:30 CET, the same time on the clock again
                "2026-10-25 22:59": "2026-10-25",  # 23:59 CET
                "2026-10-25 23:00": "2026-10-26",  # 00:00 CET
            },
        ),
    ],
)
def test_madrid_events_around_a_daylight_saving_change_count_once_on_their_local_day(
    client, verify, day, moments
):
    madrid = Chapter(client, "Europe/Madrid")
    for moment in moments:
        madrid.post_need(at(moment))
    expected: dict[str, int] = {}
    for local in moments.values():
        expected[local] = expected.get(local, 0) + 1

    assert madrid.kept_days() == {date.fromisoformat(local): count for local, count in expected.items()}
    for local, count in expected.items():
        assert madrid.posted(local) == count
    first, last = min(expected), max(expected)
    assert madrid.posted(first, last) == len(moments)  # the days add up: none doubled, none dropped
    week = madrid.api("activity", interval="week", **{"from": first, "to": last})["items"]
    assert sum(row["needs_posted"] for row in week) == len(moments)
    assert madrid.posted(day) == sum(1 for local in moments.values() if local == day)
    verify()


def test_the_recount_files_by_local_day_to_the_microsecond_as_the_events_do(client):
    """The recount groups by UTC quarter hour: local midnights at a quarter past (UTC+5:45), on the
    hour and on the half hour fall between quarter hours, never inside one."""
    kathmandu, adelaide = Chapter(client, "Asia/Kathmandu"), Chapter(client, "Australia/Adelaide")
    for chapter, midnight in ((kathmandu, "2026-11-30 18:15"), (adelaide, "2026-11-30 13:30")):
        chapter.post_need(at(midnight) - timedelta(microseconds=1))
        chapter.post_need(at(midnight))
        chapter.post_need(at(midnight) + timedelta(minutes=14, seconds=59))
        assert chapter.kept_days() == {date(2026, 11, 30): 1, date(2026, 12, 1): 2}
    madrid = Chapter(client, "Europe/Madrid")
    for moment in ("2026-10-24 22:00", "2026-10-25 01:30", "2026-10-25 23:00"):
        madrid.post_need(at(moment))
    assert differences(db.session.connection()) == []
