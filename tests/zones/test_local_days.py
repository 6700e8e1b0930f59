"""Day-based rules follow the chapter's local day: the daily cap on credited introductions resets at its
midnight (UTC+13 and UTC−10), and a one-to-one dated "today" is accepted in the morning east of UTC."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from referral_hub.chapters.policy import update_policy
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import CreditNote, Decision
from referral_hub.relationships.errors import RelationshipRefused
from referral_hub.relationships.interactions import log_one_to_one
from tests.conftest import mail_to
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

NOTE = "Ann runs payroll for three bakeries and Bob just opened his second bakery: they should talk."


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def member_of(chapter):
    return MembershipFactory(chapter=chapter, member=MemberFactory()).member


def chapter_in(zone: str):
    chapter = ChapterFactory(timezone=zone)
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    update_policy(chapter, changed_by=organizer, settings={"daily_credited_intros": 1})
    return chapter


def completed_at(moment: datetime, introducer, chapter) -> CreditNote:
    """An introduction made and accepted by both parties at `moment`: what its introducer earned."""
    first, second = member_of(chapter), member_of(chapter)
    with time_machine.travel(moment, tick=False):
        note = f"{NOTE} Pair {first.id} and {second.id} should meet this week."
        intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=note)
        for party in (first, second):
            body = [m for m in mail_to(party.email) if m.template == "intro_request"][-1].body_text
            answering.answer(answering.consent_for_link(body.split("/i/")[1].split()[0]), Decision.ACCEPT)
    return intro.credit_note


def test_the_daily_cap_resets_at_local_midnight_in_a_chapter_at_utc_plus_13():
    tonga = chapter_in("Pacific/Tongatapu")
    introducer = member_of(tonga)
    assert completed_at(at("2026-06-15 10:00"), introducer, tonga) is CreditNote.CREDITED  # 23:00 local
    assert completed_at(at("2026-06-15 10:30"), introducer, tonga) is CreditNote.DAILY_CAP  # 23:30 local
    # Same UTC day, but past local midnight: a new day for the chapter.
    assert completed_at(at("2026-06-15 11:30"), introducer, tonga) is CreditNote.CREDITED  # 00:30 local


def test_the_daily_cap_resets_at_local_midnight_in_a_chapter_at_utc_minus_10():
    honolulu = chapter_in("Pacific/Honolulu")
    introducer = member_of(honolulu)
    assert completed_at(at("2026-06-15 09:00"), introducer, honolulu) is CreditNote.CREDITED  # 23:00, 14th
    assert completed_at(at("2026-06-15 10:30"), introducer, honolulu) is CreditNote.CREDITED  # 00:30, 15th
    assert completed_at(at("2026-06-15 23:30"), introducer, honolulu) is CreditNote.DAILY_CAP  # 13:30
    # UTC midnight has passed, local midnight has not.
    assert completed_at(at("2026-06-16 01:00"), introducer, honolulu) is CreditNote.DAILY_CAP  # 15:00, 15th
    assert completed_at(at("2026-06-16 10:05"), introducer, honolulu) is CreditNote.CREDITED  # 00:05, 16th


@pytest.mark.parametrize("zone", ["Pacific/Tongatapu", "Pacific/Auckland"])
def test_a_one_to_one_dated_today_is_accepted_at_seven_in_the_morning_at_utc_plus_13(zone):
    chapter = ChapterFactory(timezone=zone)
    ann, bob = member_of(chapter), member_of(chapter)
    seven_local = at("2026-01-14 18:00")  # 07:00 on 15 January at UTC+13 (Auckland's summer time)
    assert log_one_to_one(ann, bob.id, met_on=date(2026, 1, 15), now=seven_local)
    with pytest.raises(RelationshipRefused, match="choose today or an earlier day"):
        log_one_to_one(ann, bob.id, met_on=date(2026, 1, 16), now=seven_local)


def test_a_one_to_one_dated_tomorrow_in_utc_is_refused_at_utc_minus_10():
    chapter = ChapterFactory(timezone="Pacific/Honolulu")
    ann, bob = member_of(chapter), member_of(chapter)
    evening = at("2026-01-15 05:00")  # 19:00 on 14 January in Honolulu, already the 15th in UTC
    with pytest.raises(RelationshipRefused, match="choose today or an earlier day"):
        log_one_to_one(ann, bob.id, met_on=date(2026, 1, 15), now=evening)
    assert log_one_to_one(ann, bob.id, met_on=date(2026, 1, 14), now=evening)


def test_a_member_s_own_zone_comes_before_the_chapter_s():
    chapter = ChapterFactory(timezone="Pacific/Tongatapu")
    ann, bob = member_of(chapter), member_of(chapter)
    ann.timezone = "UTC"
    with pytest.raises(RelationshipRefused):
        log_one_to_one(ann, bob.id, met_on=date(2026, 1, 15), now=at("2026-01-14 18:00"))
