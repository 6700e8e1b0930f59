"""Ledger fixtures: a chapter with an organizer and members, and real commits for the race tests."""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_sqlalchemy.session import Session
from sqlalchemy import create_engine, delete, select, text

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter, ChapterPolicy, Membership, PolicyChange
from referral_hub.database import configure_sqlite, writing
from referral_hub.errors import DomainError
from referral_hub.extensions import db
from referral_hub.ledger import posting
from referral_hub.ledger.models import (
    Kind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)
from referral_hub.needs.models import Need
from tests.factories import ChapterFactory, MembershipFactory

THREADS = 50
APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_entries")


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside", slug="riverside")


@pytest.fixture
def organizer(chapter):
    return MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org").member


@pytest.fixture
def ann(chapter):
    return MembershipFactory(
        chapter=chapter, member__display_name="Ann", member__email="ann@example.org"
    ).member


@pytest.fixture
def bob(chapter):
    return MembershipFactory(
        chapter=chapter, member__display_name="Bob", member__email="bob@example.org"
    ).member


_reward_numbers = itertools.count()


def give(chapter, member, amount: int, *, key: str | None = None, **details):
    """Credits from the pool, as an introduction reward would give them."""
    return posting.post(
        chapter,
        key=key or f"test-reward:{next(_reward_numbers)}",
        kind=Kind.INTRO_COMPLETED,
        memo=details.pop("memo", "An introduction both sides accepted"),
        caused_by=None,
        entries=[(posting.POOL, -amount), (member, amount)],
        **details,
    )


# Real commits ---------------------------------------------------------------------------------


class EngineSession(Session):
    """A session on the engine it is given (Flask-SQLAlchemy's own would pick the app's engine)."""

    def get_bind(self, *_args, **_kwargs):
        return self.bind


class Committed:
    """Creates chapters whose rows really commit, remembers them, and deletes them afterwards."""

    def __init__(self, app, engine):
        self.app, self.engine = app, engine
        self.chapter_ids: list[int] = []
        self.member_ids: list[int] = []

    def chapter(self, *, members: int) -> tuple[int, list[int]]:
        chapter = ChapterFactory()
        people = [MembershipFactory(chapter=chapter).member for _ in range(members)]
        db.session.commit()
        self.chapter_ids.append(chapter.id)
        self.member_ids.extend(person.id for person in people)
        return chapter.id, [person.id for person in people]

    def at_once(self, action, *, threads: int = THREADS) -> list[tuple[str, object]]:
        """Run `action(n)` in `threads` threads released together, each as one write request that
        commits; returns ("ok", result) or ("refused", DomainError) per thread. Anything else raises."""
        start = threading.Barrier(threads)

        def request(number: int):
            # A write request, as in production: on SQLite it takes the write lock up front.
            with self.app.app_context(), writing():
                start.wait()
                try:
                    result = action(number)
                    db.session.commit()
                    return "ok", result
                except DomainError as error:
                    db.session.rollback()
                    return "refused", error

        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(request, range(threads)))

    def purge(self) -> None:
        chapters = self.chapter_ids
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Only this clean-up may delete ledger rows; ALTER TABLE is rolled back with it on error.
                for table in APPEND_ONLY_TABLES:
                    connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            transactions = select(LedgerTransaction.id).where(LedgerTransaction.chapter_id.in_(chapters))
            connection.execute(delete(LedgerEntry).where(LedgerEntry.transaction_id.in_(transactions)))
            connection.execute(delete(LedgerTransaction).where(LedgerTransaction.chapter_id.in_(chapters)))
            connection.execute(delete(LedgerAccount).where(LedgerAccount.chapter_id.in_(chapters)))
            connection.execute(delete(Need).where(Need.chapter_id.in_(chapters)))
            connection.execute(delete(PolicyChange).where(PolicyChange.chapter_id.in_(chapters)))
            connection.execute(delete(ChapterPolicy).where(ChapterPolicy.chapter_id.in_(chapters)))
            connection.execute(delete(Membership).where(Membership.chapter_id.in_(chapters)))
            connection.execute(delete(Member).where(Member.id.in_(self.member_ids)))
            connection.execute(delete(Chapter).where(Chapter.id.in_(chapters)))
            if connection.dialect.name == "postgresql":
                for table in APPEND_ONLY_TABLES:
                    connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


@pytest.fixture
def committed(app, db_session):
    """Sessions that really commit, one per app context (per thread), on an engine with a connection
    for every thread; what the test made is deleted afterwards."""
    engine = create_engine(db.engine.url, pool_size=THREADS + 2, max_overflow=0)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    test_session, db.session = db.session, db._make_scoped_session({"bind": engine, "class_": EngineSession})
    made = Committed(app, engine)
    try:
        yield made
    finally:
        db.session.remove()
        db.session = test_session
        made.purge()
        engine.dispose()
