"""An event and a zone change at the same moment: the event's day is read under a shared lock on the
chapter's row, so it is filed by the zone the chapter has when the event commits (PostgreSQL)."""

import threading
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from referral_hub.chapters.models import Chapter
from referral_hub.extensions import db
from referral_hub.reports import counting
from tests.conftest import ON_POSTGRESQL

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="row locks: SQLite runs one writer at a time")

# 13:00 UTC on 1 June 2026 is already 01:00 on 2 June in Auckland (UTC+12 in its winter).
EVENT_AT = datetime(2026, 6, 1, 13, tzinfo=UTC)


@pytest.fixture
def engine():
    """The app's engine: its connections are outside the test's rolled-back transaction."""
    return db.engine


@pytest.fixture
def chapter_id(engine):
    """A chapter in UTC that really commits, deleted afterwards."""
    with Session(engine) as session:
        chapter = Chapter(name="Race", slug=f"race-{uuid.uuid4().hex[:12]}", timezone="UTC")
        session.add(chapter)
        session.commit()
        made = chapter.id
    yield made
    with engine.begin() as connection:
        connection.execute(delete(Chapter).where(Chapter.id == made))


@pytest.fixture
def event_session(engine):
    """`db.session` on a connection of its own, as a request writing an event has."""
    test_session, db.session = db.session, db._make_scoped_session({})
    try:
        yield db.session
    finally:
        db.session.rollback()
        db.session.remove()
        db.session = test_session


def change_zone(connection, chapter_id: int, zone: str) -> None:
    connection.execute(text("SET LOCAL lock_timeout = '200ms'"))  # this transaction only
    connection.execute(
        text("UPDATE chapters SET timezone = :zone WHERE id = :id"), {"zone": zone, "id": chapter_id}
    )


def test_a_zone_change_waits_for_an_event_that_read_the_old_zone(engine, chapter_id, event_session):
    assert counting.chapter_day(chapter_id, EVENT_AT) == date(2026, 6, 1)
    with engine.connect() as organizer, pytest.raises(OperationalError, match="lock timeout"):
        change_zone(organizer, chapter_id, "Pacific/Auckland")
    event_session.commit()  # the event is in: the zone change (and its refiling) can go ahead now
    with engine.begin() as organizer:
        change_zone(organizer, chapter_id, "Pacific/Auckland")


def test_an_event_during_a_zone_change_reads_the_new_zone(app, engine, chapter_id, event_session):
    days = []

    def in_app_context():  # another request's thread
        with app.app_context():
            days.append(counting.chapter_day(chapter_id, EVENT_AT))
            db.session.rollback()

    with engine.connect() as organizer:
        change_zone(organizer, chapter_id, "Pacific/Auckland")

        event = threading.Thread(target=in_app_context)
        event.start()
        event.join(timeout=0.5)
        assert event.is_alive() and days == [], "the event waits for the zone change"
        organizer.commit()
    event.join(timeout=5)
    assert days == [date(2026, 6, 2)], "and then files under the new zone's day"
