"""The digest goes out once a week at Monday 08:00 in each chapter's zone (the worker's hourly job, a fixed
clock), across a daylight-saving change in Europe/Madrid too."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from referral_hub.extensions import db
from referral_hub.jobs.schedule import digest
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
    weeks = db.session.scalars(select(DigestDelivery.iso_week)).all()
    assert sorted(weeks) == ["2026-W12"] * 3 + ["2026-W13"] * 3 + ["2026-W14"] * 3


def test_the_digest_goes_once_across_the_autumn_change_when_an_hour_repeats():
    lucia = reader_in("Europe/Madrid", "Lucía")
    digest(at("2026-10-24 12:00"))  # Saturday: this week's
    for hour in hours("2026-10-25 00:00", "2026-10-26 12:00"):  # CET from Sunday 01:00 UTC
        digest(hour)
    sent = db.session.scalars(select(DigestDelivery.sent_at).order_by(DigestDelivery.sent_at)).all()
    assert sent == [at("2026-10-24 12:00"), at("2026-10-26 07:00")], "then Monday 08:00 CET"
    assert len(digests_to(lucia)) == 2
