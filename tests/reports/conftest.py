"""A small, fixed chapter whose report figures are worked out by hand in the tests, and API tokens.

Riverside: Olga organizes; Ann, Bob, Cat and Dan are members; Eve was removed. Most of what
happens is dated in February to April 2025; one introduction (I7) and one need (N5) are dated
relative to now, so that member status (which is as of now) has a green, ambers and reds.
Hillside is a second chapter, organized by Hal, where Ann is also a member: nothing of it may
show in Riverside's figures.
"""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter, MembershipStatus
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions.models import Decision, IntroState, OutcomeKind
from referral_hub.ledger.models import Kind, LedgerAccount, LedgerEntry, LedgerTransaction
from referral_hub.needs.models import NeedStatus
from referral_hub.reports import completions, transactions
from referral_hub.reports.access import create_token
from referral_hub.reports.counting import rebuild
from tests.factories import (
    ChapterFactory,
    ConsentFactory,
    IntroductionFactory,
    MembershipFactory,
    NeedFactory,
    OutcomeFactory,
)

_keys = itertools.count()


def at(text: str) -> datetime:
    """A UTC time written `2025-03-04 09:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def post_at(
    chapter: Chapter, when: datetime, kind: Kind, legs: list[tuple[Member | None, int]]
) -> LedgerTransaction:
    """A ledger transaction recorded at `when` (the ledger's own `post` always records now).

    It writes the rows the way `post` does: balanced entries and the accounts' cached balances.
    """
    transaction = LedgerTransaction(
        chapter_id=chapter.id,
        kind=kind,
        idempotency_key=f"test-report:{next(_keys)}",
        memo=f"{kind.value} for the reports tests",
        created_at=when,
    )
    db.session.add(transaction)
    db.session.flush()
    for holder, amount in legs:
        member_id = holder.id if holder is not None else None
        account = db.session.scalar(
            select(LedgerAccount).where(
                LedgerAccount.chapter_id == chapter.id,
                LedgerAccount.member_id.is_(None)
                if member_id is None
                else LedgerAccount.member_id == member_id,
            )
        )
        if account is None:
            account = LedgerAccount(chapter_id=chapter.id, member_id=member_id, balance=0)
            db.session.add(account)
            db.session.flush()
        account.balance += amount
        db.session.add(LedgerEntry(transaction_id=transaction.id, account_id=account.id, amount=amount))
    db.session.flush()
    return transaction


def introduce(
    chapter, introducer, first, second, created, *, state=IntroState.PENDING, completed=None, closed=None
):
    return IntroductionFactory(
        chapter=chapter,
        introducer=introducer,
        first=first,
        second=second,
        created_at=created,
        expires_at=created + timedelta(days=14),
        state=state,
        completed_at=completed,
        closed_at=closed,
    )


def answer(intro, member, decision: Decision, when: datetime):
    return ConsentFactory(introduction=intro, member=member, decision=decision, answered_at=when)


@dataclass
class Riverside:
    chapter: Chapter
    hillside: Chapter
    olga: Member
    ann: Member
    bob: Member
    cat: Member
    dan: Member
    eve: Member
    hal: Member
    now: datetime


@pytest.fixture
def riverside() -> Riverside:
    now = utcnow()
    chapter = ChapterFactory(name="Riverside", slug="riverside")
    hillside = ChapterFactory(name="Hillside", slug="hillside")

    def join(name, when, **traits):
        return MembershipFactory(
            chapter=chapter,
            member__display_name=name,
            member__email=f"{name.lower()}@example.org",
            requested_at=at(when),
            joined_at=at(when),
            **traits,
        ).member

    olga = join("Olga", "2025-01-01 08:00", organizer=True)
    ann = join("Ann", "2025-01-10 08:00")
    bob = join("Bob", "2025-02-01 08:00")
    cat = join("Cat", "2025-03-05 08:00")
    dan = join("Dan", "2025-03-20 08:00")
    eve = join("Eve", "2025-01-15 08:00", status=MembershipStatus.REMOVED)

    # Hillside: its own organizer and members, and Ann is a member there too.
    hal = MembershipFactory(
        chapter=hillside, organizer=True, member__display_name="Hal", member__email="hal@example.org"
    ).member
    ivy = MembershipFactory(chapter=hillside, member__display_name="Ivy").member
    MembershipFactory(chapter=hillside, member=ann, joined_at=at("2025-03-01 08:00"))
    NeedFactory(
        chapter=hillside, asker=ann, created_at=at("2025-03-05 10:00"), expires_at=at("2025-04-05 10:00")
    )
    introduce(
        hillside,
        hal,
        ivy,
        ann,
        at("2025-03-06 10:00"),
        state=IntroState.COMPLETED,
        completed=at("2025-03-07 10:00"),
    )
    post_at(hillside, at("2025-03-07 10:00"), Kind.INTRO_COMPLETED, [(None, -3), (hal, 3)])

    # Needs. N1 fulfilled, N2 expired, N3 open, N4 closed (February), N5 open (100 days ago).
    def need(asker, created, status=NeedStatus.OPEN, closed=None):
        created_at = at(created) if isinstance(created, str) else created
        return NeedFactory(
            chapter=chapter,
            asker=asker,
            created_at=created_at,
            expires_at=created_at + timedelta(days=30),
            status=status,
            closed_at=at(closed) if closed else None,
        )

    need(ann, "2025-03-03 10:00", NeedStatus.FULFILLED, "2025-03-10 10:00")
    need(bob, "2025-03-04 10:00", NeedStatus.EXPIRED, "2025-03-30 10:00")
    need(cat, "2025-03-12 10:00")
    need(ann, "2025-02-20 10:00", NeedStatus.CLOSED, "2025-03-15 10:00")
    need(ann, now - timedelta(days=100))

    # Introductions.
    completed = IntroState.COMPLETED
    i1 = introduce(
        chapter, olga, ann, bob, at("2025-03-03 09:00"), state=completed, completed=at("2025-03-04 09:00")
    )
    answer(i1, ann, Decision.ACCEPT, at("2025-03-03 20:00"))
    answer(i1, bob, Decision.ACCEPT, at("2025-03-04 09:00"))
    OutcomeFactory(
        introduction=i1,
        reported_by=bob,
        kind=OutcomeKind.BUSINESS_CLOSED,
        amount=500,
        created_at=at("2025-03-10 12:00"),
    )
    OutcomeFactory(introduction=i1, reported_by=ann, kind=OutcomeKind.MET, created_at=at("2025-03-05 12:00"))
    i2 = introduce(
        chapter, ann, bob, cat, at("2025-03-05 12:00"), state=completed, completed=at("2025-03-05 18:00")
    )
    answer(i2, bob, Decision.ACCEPT, at("2025-03-05 15:00"))
    answer(i2, cat, Decision.ACCEPT, at("2025-03-05 18:00"))
    OutcomeFactory(
        introduction=i2,
        reported_by=cat,
        kind=OutcomeKind.BUSINESS_CLOSED,
        amount=200,
        created_at=at("2025-03-20 12:00"),
    )
    i3 = introduce(
        chapter,
        ann,
        cat,
        dan,
        at("2025-03-10 09:00"),
        state=IntroState.DECLINED,
        closed=at("2025-03-11 09:00"),
    )
    answer(i3, cat, Decision.DECLINE, at("2025-03-11 09:00"))
    introduce(
        chapter,
        bob,
        ann,
        dan,
        at("2025-03-25 09:00"),
        state=IntroState.EXPIRED,
        closed=at("2025-04-08 09:00"),
    )
    introduce(chapter, olga, cat, dan, at("2025-03-28 09:00"))
    i6 = introduce(
        chapter, cat, ann, bob, at("2025-02-10 09:00"), state=completed, completed=at("2025-02-12 09:00")
    )
    answer(i6, ann, Decision.ACCEPT, at("2025-02-11 09:00"))
    answer(i6, bob, Decision.ACCEPT, at("2025-02-12 09:00"))
    i7 = introduce(
        chapter, bob, cat, olga, now - timedelta(days=10), state=completed, completed=now - timedelta(days=9)
    )
    answer(i7, cat, Decision.ACCEPT, now - timedelta(days=9, hours=12))
    answer(i7, olga, Decision.ACCEPT, now - timedelta(days=9))

    # Ledger: balances end at Olga 3, Ann 5, Bob 3 (Cat and Dan have no account).
    post_at(chapter, at("2025-03-04 09:00"), Kind.INTRO_COMPLETED, [(None, -3), (olga, 3)])
    post_at(chapter, at("2025-03-05 18:00"), Kind.INTRO_COMPLETED, [(None, -3), (ann, 3)])
    post_at(chapter, at("2025-03-03 10:00"), Kind.ASK_NEED, [(ann, -2), (None, 2)])
    post_at(chapter, at("2025-03-20 10:00"), Kind.GRANT, [(None, -5), (bob, 5)])
    post_at(chapter, at("2025-04-02 10:00"), Kind.ASK_NEED, [(bob, -2), (None, 2)])
    post_at(chapter, at("2025-02-15 10:00"), Kind.GRANT, [(None, -4), (ann, 4)])
    # The rows above were written without the services, so their events never fired: the reports'
    # kept figures are recounted from them, as the migration's backfill does.
    db.session.flush()
    rebuild(db.session.connection())
    completions.rebuild(db.session.connection())
    transactions.rebuild(db.session.connection())
    return Riverside(chapter, hillside, olga, ann, bob, cat, dan, eve, hal, now)


@pytest.fixture
def token(riverside) -> str:
    """An API token of Riverside's organizer."""
    _token, secret = create_token(riverside.olga, name="Board spreadsheet", chapter_slug="riverside")
    return secret


@pytest.fixture
def api(client, token):
    """GET an API path with Riverside's organizer token."""

    def get(path, *, bearer=None, **kwargs):
        headers = {"Authorization": f"Bearer {bearer or token}"}
        return client.get(path, headers=headers, **kwargs)

    return get
