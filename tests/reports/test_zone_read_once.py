"""A transaction reads its chapter's zone (under the row's shared lock) once for all its kept figures:
the savepoints inside it find it, a savepoint that rolls back forgets what it read, and a zone change
in the transaction is what the events after it read."""

from datetime import UTC, date, datetime

import pytest

from referral_hub.chapters import settings
from referral_hub.extensions import db
from referral_hub.ledger import posting
from referral_hub.ledger.models import Kind
from referral_hub.needs import services as needs
from referral_hub.reports import counting
from referral_hub.reports.counting import differences
from tests.factories import ChapterFactory, MembershipFactory

# 13:00 UTC on 1 June 2026 is already 01:00 on 2 June in Auckland (UTC+12 in its winter).
EVENT_AT = datetime(2026, 6, 1, 13, tzinfo=UTC)


@pytest.fixture
def chapter():
    return ChapterFactory(slug="harbour", timezone="UTC")


def zone_reads(log) -> int:
    return sum(statement.startswith("SELECT chapters.timezone \nFROM") for statement in log.queries)


def test_posting_a_need_reads_the_zone_once_for_its_three_kept_figures(chapter, count_queries):
    ann = MembershipFactory(chapter=chapter).member
    posting.post(
        chapter,
        key="test:credits",
        kind=Kind.GRANT,
        memo="Credits to start with",
        caused_by=None,
        entries=[(posting.POOL, -5), (ann, 5)],
    )
    db.session.commit()  # a new transaction, which has read nothing
    with count_queries() as log:
        needs.post_need(chapter, ann, title="A bookkeeper", details="For a small shop.")
    # The need's day, the posting's credits and its transaction count: one read of the zone.
    assert zone_reads(log) == 1
    assert differences(db.session.connection()) == []


def test_a_savepoint_finds_the_zone_read_around_it(chapter, count_queries):
    counting.chapter_day(chapter.id, EVENT_AT)
    with count_queries() as log, db.session.begin_nested():
        assert counting.chapter_day(chapter.id, EVENT_AT) == date(2026, 6, 1)
    assert zone_reads(log) == 0


def test_a_savepoint_rolled_back_forgets_the_zone_it_read(chapter, count_queries):
    db.session.commit()
    savepoint = db.session.begin_nested()
    counting.chapter_day(chapter.id, EVENT_AT)
    savepoint.rollback()  # and with it the row's lock (PostgreSQL)
    with count_queries() as log:
        counting.chapter_day(chapter.id, EVENT_AT)
        counting.chapter_day(chapter.id, EVENT_AT)
    assert zone_reads(log) == 1


def test_a_new_transaction_reads_the_zone_again(chapter, count_queries):
    counting.chapter_day(chapter.id, EVENT_AT)
    db.session.commit()
    with count_queries() as log:
        counting.chapter_day(chapter.id, EVENT_AT)
    assert zone_reads(log) == 1


def test_events_after_a_zone_change_in_the_same_transaction_read_the_new_zone(chapter):
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    assert counting.chapter_day(chapter.id, EVENT_AT) == date(2026, 6, 1)
    with db.session.begin_nested():
        assert counting.chapter_day(chapter.id, EVENT_AT) == date(2026, 6, 1)
        settings.change_settings(chapter, changed_by=organizer, timezone="Pacific/Auckland")
        assert counting.chapter_day(chapter.id, EVENT_AT) == date(2026, 6, 2)
    assert counting.chapter_day(chapter.id, EVENT_AT) == date(2026, 6, 2)
