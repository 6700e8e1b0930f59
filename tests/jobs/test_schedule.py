"""Schedules: each period's key, when it falls due, and what a worker runs at a given moment."""

from datetime import UTC, datetime, timedelta

import pytest

from referral_hub.jobs.schedule import JOBS, Schedule

QUARTERLY, HOURLY, DAILY = Schedule("quarter"), Schedule("hour"), Schedule("day", timedelta(hours=6))
WEEKLY = Schedule("week", timedelta(hours=8))  # a weekly schedule: Monday 08:00 UTC


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_period_keys_name_the_quarter_hour_the_hour_the_day_and_the_iso_week():
    moment = at("2026-12-03 11:42:07")
    assert QUARTERLY.runnable(moment) == "2026-12-03T11:30"
    assert QUARTERLY.runnable(at("2026-12-03 11:45")) == "2026-12-03T11:45"
    assert HOURLY.runnable(moment) == "2026-12-03T11"
    assert DAILY.runnable(moment) == "2026-12-03"
    assert WEEKLY.runnable(moment) == "2026-W49"
    # The ISO week of a date near new year belongs to the ISO year.
    assert WEEKLY.key(WEEKLY.start(at("2027-01-01 12:00"))) == "2026-W53"


def test_a_period_is_run_only_once_it_is_due():
    monday = at("2026-11-30 00:00")
    assert WEEKLY.runnable(monday + timedelta(hours=7, minutes=59)) is None
    assert WEEKLY.runnable(monday + timedelta(hours=8)) == "2026-W49"
    assert WEEKLY.runnable(monday + timedelta(days=6, hours=23)) == "2026-W49", "late, but still this week"
    assert DAILY.runnable(at("2026-12-03 05:59")) is None


def test_the_last_due_period_is_last_weeks_until_this_weeks_falls_due():
    assert WEEKLY.last_due(at("2026-11-30 07:00")) == ("2026-W48", at("2026-11-23 08:00"))
    assert WEEKLY.last_due(at("2026-11-30 09:00")) == ("2026-W49", at("2026-11-30 08:00"))
    assert WEEKLY.following_due_at(at("2026-11-30 09:00")) == at("2026-12-07 08:00")
    assert HOURLY.last_due(at("2026-12-03 11:42")) == ("2026-12-03T11", at("2026-12-03 11:00"))
    assert HOURLY.following_due_at(at("2026-12-03 11:42")) == at("2026-12-03 12:00")
    assert QUARTERLY.last_due(at("2026-12-03 11:59")) == ("2026-12-03T11:45", at("2026-12-03 11:45"))
    assert QUARTERLY.following_due_at(at("2026-12-03 11:59")) == at("2026-12-03 12:00")


def test_a_moment_in_another_zone_counts_in_utc():
    tokyo_morning = datetime.fromisoformat("2026-12-03T09:15:00+09:00")
    assert HOURLY.runnable(tokyo_morning) == "2026-12-03T00"


@pytest.mark.parametrize(
    "unit, offset",
    [("fortnight", timedelta(0)), ("day", timedelta(days=1)), ("quarter", timedelta(minutes=15))],
)
def test_a_schedule_outside_its_period_is_refused(unit, offset):
    with pytest.raises(ValueError):
        Schedule(unit, offset)


def test_the_registry_holds_hourly_expiry_the_monday_digest_and_the_daily_outcome_prompts():
    assert list(JOBS) == [
        "expire",
        "digest",
        "outcome_prompts",
        "reminders",
        "guest_retention",
        "housekeeping",
    ]
    assert JOBS["expire"].schedule == HOURLY
    assert JOBS["digest"].schedule == QUARTERLY, (
        "each quarter hour sends the zones whose Monday 08:00 has come"
    )
    assert JOBS["outcome_prompts"].schedule == Schedule("day", timedelta(hours=9))
