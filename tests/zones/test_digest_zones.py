"""The digest goes out once a week at Monday 08:00 in each chapter's zone (the worker's quarter-hourly job,
a fixed clock), across a daylight-saving change in Europe/Madrid too, and in half-hour zones."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from referral_hub.extensions import db
from referral_hub.jobs.schedule import JOBS, digest
from referral_hub.relationships.models import DigestDelivery
from tests.conftest import mail_to
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory, NeedFactory


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def reader_in(zone: str, name: str):
    """A member of a chapter in `zone` with a need to hear about (it matches what they do)."""
    chapter = ChapterFactory(timezone=zone, language="es" if zone == "Europe/Madrid" else "en")
    reader = MemberFactory(display_name=name, headline="Wedding catering", expertise="catering, weddings")
    MembershipFactory(chapter=chapter, member=reader)
    asker = MembershipFactory(chapter=chapter).member
    NeedFactory(chapter=chapter, asker=asker, title="Catering for 80 wedding guests", details="In August.")
    return reader


def digests_to(member) -> list:
    return [message for message in mail_to(member.email) if message.template == "digest"]


def hours(first: str, last: str):
    hour = at(first)
    while hour <= at(last):
        yield hour
        hour += timedelta(hours=1)


def test_each_chapter_s_digest_goes_once_at_its_local_monday_eight_across_a_dst_change():
    readers = {
        "Pacific/Tongatapu": reader_in("Pacific/Tongatapu", "Tevita"),  # UTC+13
        "Pacific/Honolulu": reader_in("Pacific/Honolulu", "Kai"),  # UTC−10
        "Europe/Madrid": reader_in("Europe/Madrid", "Lucía"),  # CET, CEST from Sunday 29 March 2026
    }
    digest(at("2026-03-21 12:00"))  # a Saturday: the week under way is caught up at once, in every zone
    assert all(len(digests_to(reader)) == 1 for reader in readers.values())
    sent_at: dict[str, list[datetime]] = {zone: [] for zone in readers}
    for hour in [
        *hours("2026-03-22 12:00", "2026-03-23 23:00"),
        *hours("2026-03-29 12:00", "2026-03-30 23:00"),
    ]:
        digest(hour)
        for zone, reader in readers.items():
            if len(digests_to(reader)) - 1 > len(sent_at[zone]):
                sent_at[zone].append(hour)
    assert sent_at == {
        # Monday 08:00 at UTC+13 is Sunday 19:00 UTC.
        "Pacific/Tongatapu": [at("2026-03-22 19:00"), at("2026-03-29 19:00")],
        # Monday 08:00 at UTC−10 is Monday 18:00 UTC.
        "Pacific/Honolulu": [at("2026-03-23 18:00"), at("2026-03-30 18:00")],
        # 08:00 CET is 07:00 UTC; after the clocks go forward, 08:00 CEST is 06:00 UTC.
        "Europe/Madrid": [at("2026-03-23 07:00"), at("2026-03-30 06:00")],
    }
    # The askers' weeks are recorded too, as empty: they have nothing to hear.
    weeks = db.session.scalars(select(DigestDelivery.iso_week).where(DigestDelivery.empty.is_(False))).all()
    assert sorted(weeks) == ["2026-W12"] * 3 + ["2026-W13"] * 3 + ["2026-W14"] * 3


def test_the_digest_goes_once_across_the_autumn_change_when_an_hour_repeats():
    lucia = reader_in("Europe/Madrid", "Lucía")
    digest(at("2026-10-24 12:00"))  # Saturday: this week's
    for hour in hours("2026-10-25 00:00", "2026-10-26 12:00"):  # CET from Sunday 01:00 UTC
        digest(hour)
    sent = db.session.scalars(
        select(DigestDelivery.sent_at).where(DigestDelivery.empty.is_(False)).order_by(DigestDelivery.sent_at)
    ).all()
    assert sent == [at("2026-10-24 12:00"), at("2026-10-26 07:00")], "then Monday 08:00 CET"
    assert len(digests_to(lucia)) == 2


def quarters(first: str, last: str):
    """The moments the worker runs the digest job at (each period of its schedule), from first to last."""
    moment = at(first)
    while moment <= at(last):
        yield moment
        moment += JOBS["digest"].schedule.length


def test_half_hour_and_45_minute_zones_get_the_digest_once_at_their_own_monday_eight():
    readers = {
        "Asia/Kolkata": reader_in("Asia/Kolkata", "Priya"),  # UTC+5:30
        "Australia/Adelaide": reader_in(
            "Australia/Adelaide", "Mia"
        ),  # UTC+10:30 (summer), +9:30 from 5 April
        "Asia/Kathmandu": reader_in("Asia/Kathmandu", "Sita"),  # UTC+5:45
        "Pacific/Chatham": reader_in("Pacific/Chatham", "Aroha"),  # UTC+13:45 (summer), +12:45 from 5 April
    }
    digest(at("2026-03-28 12:00"))  # a Saturday: the week under way is caught up at once, in every zone
    assert all(len(digests_to(reader)) == 1 for reader in readers.values())
    sent_at: dict[str, list[datetime]] = {zone: [] for zone in readers}
    for moment in [
        *quarters("2026-03-29 12:00", "2026-03-30 12:00"),
        *quarters("2026-04-05 12:00", "2026-04-06 12:00"),
    ]:
        digest(moment)
        for zone, reader in readers.items():
            if len(digests_to(reader)) - 1 > len(sent_at[zone]):
                sent_at[zone].append(moment)
    assert sent_at == {
        "Asia/Kolkata": [at("2026-03-30 02:30"), at("2026-04-06 02:30")],
        # Adelaide leaves daylight saving on Sunday 5 April: Monday 08:00 is 21:30 then 22:30 UTC on Sunday.
        "Australia/Adelaide": [at("2026-03-29 21:30"), at("2026-04-05 22:30")],
        "Asia/Kathmandu": [at("2026-03-30 02:15"), at("2026-04-06 02:15")],
        "Pacific/Chatham": [at("2026-03-29 18:15"), at("2026-04-05 19:15")],
    }
    assert [len(digests_to(reader)) for reader in readers.values()] == [3, 3, 3, 3]


def test_a_quarter_hour_run_before_local_eight_does_not_send_and_the_next_one_does():
    priya = reader_in("Asia/Kolkata", "Priya")
    digest(at("2026-03-28 12:00"))
    digest(at("2026-03-30 02:15"))  # 07:45 in Kolkata
    assert len(digests_to(priya)) == 1
    digest(at("2026-03-30 02:30"))  # 08:00
    digest(at("2026-03-30 02:45"))  # 08:15: once a week
    assert len(digests_to(priya)) == 2
