"""Reading introductions for pages: one introduction, a member's list, what waits for their answer."""

from datetime import datetime

from sqlalchemy import func, select

from ..accounts.models import Member
from ..clock import utcnow
from ..database import page_of
from ..errors import NotFound
from ..extensions import db
from ..needs.models import Need
from .models import Consent, Introduction, IntroState, Outcome

LIST_PAGE_SIZE = 20
ROLES = ("all", "introducer", "party")


def with_people(path=None):
    """Loader options that bring an introduction's people and chapter in the same query
    (below `path` when the introduction is itself reached through a relationship)."""
    people = (Introduction.introducer, Introduction.first, Introduction.second, Introduction.chapter)
    return [path.joinedload(p) if path is not None else db.joinedload(p) for p in people]


def made_for(need: Need) -> int:
    """How many introductions were made for the need."""
    return db.session.scalar(
        select(func.count()).select_from(Introduction).where(Introduction.need_id == need.id)
    )


def intro_for(member: Member, intro_id: int) -> Introduction:
    """The introduction if the member is its introducer or a party; NotFound for everyone else."""
    intro = db.session.scalar(
        select(Introduction)
        .where(Introduction.id == intro_id)
        .options(*with_people(), db.selectinload(Introduction.consents))
    )
    if intro is None or not intro.involves(member.id):
        raise NotFound()
    return intro


def consent_of(intro: Introduction, member: Member) -> Consent | None:
    return next((c for c in intro.consents if c.member_id == member.id), None)


def outcomes_of(intro: Introduction) -> list[Outcome]:
    return list(
        db.session.scalars(
            select(Outcome)
            .where(Outcome.introduction_id == intro.id)
            .order_by(Outcome.created_at)
            .options(db.joinedload(Outcome.reported_by))
        )
    )


def introductions_of(member: Member, *, role: str = "all", state: str = "", page: int = 1):
    statement = (
        select(Introduction)
        .options(*with_people())
        .order_by(Introduction.created_at.desc(), Introduction.id.desc())
    )
    as_introducer = Introduction.introducer_id == member.id
    as_party = (Introduction.first_id == member.id) | (Introduction.second_id == member.id)
    statement = statement.where(
        as_introducer if role == "introducer" else as_party if role == "party" else as_introducer | as_party
    )
    if state in {s.value for s in IntroState}:
        statement = statement.where(Introduction.state == state)
    return page_of(statement, page=page, per_page=LIST_PAGE_SIZE, counted=True)


def waiting_for(member: Member, *, now: datetime | None = None) -> list[Introduction]:
    """Pending introductions in which the member has not answered yet."""
    return list(
        db.session.scalars(
            select(Introduction)
            .join(Consent, Consent.introduction_id == Introduction.id)
            .where(
                Consent.member_id == member.id,
                Consent.decision.is_(None),
                Introduction.awaiting_answers(now or utcnow()),
            )
            .options(*with_people())
            .order_by(Introduction.created_at)
            .limit(50)
        )
    )
