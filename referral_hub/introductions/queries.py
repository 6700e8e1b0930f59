"""Reading introductions for pages: one introduction, a member's list, what waits for their answer,
and the dashboard's follow-through lists."""

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select, union_all

from ..accounts.models import Member
from ..chapters.models import Membership, MembershipStatus, Role
from ..clock import utcnow
from ..database import UTCDateTime, first_of, page_of, paged
from ..errors import NotFound
from ..extensions import db
from ..needs.models import Need
from .models import Consent, Introduction, IntroState, Outcome

LIST_PAGE_SIZE = 20
DASHBOARD_ITEMS = 5  # each dashboard list shows this many, then "see all" on /introductions
ROLES = ("all", "introducer", "party")


def with_people(path=None):
    """Loader options that bring an introduction's people and chapter in the same query
    (below `path` when the introduction is itself reached through a relationship)."""
    people = (Introduction.introducer, Introduction.first, Introduction.second, Introduction.chapter)
    return [path.joinedload(p) if path is not None else db.joinedload(p) for p in people]


def with_names():
    """Loader options for lists that show the people by name (and the parties of a completed
    introduction their contact details): those columns of the people, and the chapter."""
    shown = (Member.display_name, Member.email, Member.phone, Member.company)
    people = (Introduction.introducer, Introduction.first, Introduction.second)
    return [db.joinedload(p).load_only(*shown) for p in people] + [db.joinedload(Introduction.chapter)]


def made_for(need: Need) -> int:
    """How many introductions were made for the need."""
    return db.session.scalar(_made_for_query(), {"need_id": need.id})


@functools.cache
def _made_for_query():
    return select(func.count()).select_from(Introduction).where(Introduction.need_id == bindparam("need_id"))


def intro_for(member: Member, intro_id: int, *, organizers_too: bool = False) -> Introduction:
    """The introduction if the member is its introducer or a party (or, with `organizers_too`, an
    active organizer of its chapter, who may read it); NotFound for everyone else."""
    intro = db.session.scalar(
        select(Introduction)
        .where(Introduction.id == intro_id)
        .options(*with_people(), db.selectinload(Introduction.consents))
    )
    if intro is None:
        raise NotFound()
    if not intro.involves(member.id) and not (organizers_too and _organizes(member, intro.chapter_id)):
        raise NotFound()
    return intro


def _organizes(member: Member, chapter_id: int) -> bool:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.member_id == member.id,
            Membership.chapter_id == chapter_id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.role == Role.ORGANIZER,
        )
    )


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


def _party_is(member_id):
    """SQL: the member (an id or a bound parameter) is one of the introduction's two parties."""
    return (Introduction.first_id == member_id) | (Introduction.second_id == member_id)


def introductions_of(member: Member, *, role: str = "all", state: str = "", page: int = 1):
    """The member's introductions in that role (all, as introducer, as a party), newest first."""
    states = {s.value for s in IntroState}
    statement = _introductions_of_query(role if role in ROLES else "all", state in states)
    parameters = {"member_id": member.id, "state": state}
    return page_of(statement, parameters, page=page, per_page=LIST_PAGE_SIZE)


@functools.cache
def _introductions_of_query(role: str, by_state: bool):
    """Built once for each role and whether a state is chosen, the member and the state as parameters."""
    member_id = bindparam("member_id")
    as_introducer = Introduction.introducer_id == member_id
    as_party = _party_is(member_id)
    statement = (
        select(Introduction)
        .options(*with_names())
        .where(
            as_introducer
            if role == "introducer"
            else as_party
            if role == "party"
            else as_introducer | as_party
        )
        .order_by(Introduction.created_at.desc(), Introduction.id.desc())
    )
    if by_state:
        statement = statement.where(Introduction.state == bindparam("state"))
    return paged(statement)


def waiting_for(member: Member, *, now: datetime | None = None) -> list[Introduction]:
    """Pending introductions in which the member has not answered yet."""
    parameters = {"member_id": member.id, "now": now or utcnow()}
    return list(db.session.scalars(_waiting_for_query(), parameters))


@functools.cache
def _waiting_for_query():
    return (
        select(Introduction)
        .join(Consent, Consent.introduction_id == Introduction.id)
        .where(_unanswered_by(bindparam("member_id"), bindparam("now", type_=UTCDateTime())))
        .options(*with_people())
        .order_by(Introduction.created_at)
        .limit(50)
    )


@functools.cache
def waiting_count_column():
    """How many introductions wait for the member (the header's badge): those to answer and the
    completed ones whose outcome they have not reported. A column, built once (every page's header
    reads it), with the member and now as parameters `member_id` and `now`."""
    member_id = bindparam("member_id")
    to_answer = (
        select(func.count())
        .select_from(Consent)
        .join(Introduction, Introduction.id == Consent.introduction_id)
        .where(_unanswered_by(member_id, bindparam("now", type_=UTCDateTime())))
    )
    to_report = (
        select(func.count())
        .select_from(Introduction)
        .outerjoin(
            Outcome, and_(Outcome.introduction_id == Introduction.id, Outcome.reported_by_id == member_id)
        )
        .where(_party_is(member_id), Introduction.state == IntroState.COMPLETED, Outcome.id.is_(None))
    )
    return (to_answer.scalar_subquery() + to_report.scalar_subquery()).label("waiting")


def _unanswered_by(member_id, now):
    """SQL: the consent is the member's, unanswered, and its introduction still awaits answers."""
    return and_(
        Consent.member_id == member_id, Consent.decision.is_(None), Introduction.awaiting_answers(now)
    )


@dataclass(frozen=True)
class CompletedForParty:
    """A completed introduction the member took part in, and what they reported of it, if anything."""

    introduction: Introduction
    outcome: Outcome | None

    @property
    def awaits_outcome(self) -> bool:
        return self.outcome is None


@dataclass(frozen=True)
class FollowThrough:
    """What a member has to follow through, for the dashboard and the introductions page."""

    waiting: list[Introduction]  # pending, the member's answer awaited, oldest first
    made: list[Introduction]  # the latest the member made
    completed: list[CompletedForParty]  # the latest as a party, those awaiting the member's outcome first


WAITING, MADE, COMPLETED = "waiting", "made", "completed"


def follow_through(
    member: Member,
    *,
    made: int = DASHBOARD_ITEMS,
    completed: int = DASHBOARD_ITEMS,
    now: datetime | None = None,
) -> FollowThrough:
    """The introductions waiting for the member's answer (up to 50), the latest `made` they made and
    the latest `completed` ones they took part in, each with their people: one query."""
    parameters = {"member_id": member.id, "now": now or utcnow(), "made": made, "completed": completed}
    lists = {WAITING: [], MADE: [], COMPLETED: []}
    for intro, listed, outcome in db.session.execute(_follow_through_query(), parameters):
        lists[listed].append(CompletedForParty(intro, outcome) if listed == COMPLETED else intro)
    return FollowThrough(waiting=lists[WAITING], made=lists[MADE], completed=lists[COMPLETED])


@functools.cache
def _follow_through_query():
    """Built once, with the member, now and the two limits as parameters: each list found in its own
    order and limit, then its introductions read once with their people."""
    member_id = bindparam("member_id")
    reported = and_(Outcome.introduction_id == Introduction.id, Outcome.reported_by_id == member_id)
    waiting = first_of(
        WAITING,
        50,
        select(Introduction.id)
        .join(Consent, Consent.introduction_id == Introduction.id)
        .where(_unanswered_by(member_id, bindparam("now", type_=UTCDateTime()))),
        Introduction.created_at,
        Introduction.id,
    )
    made = first_of(
        MADE,
        bindparam("made"),
        select(Introduction.id).where(Introduction.introducer_id == member_id),
        Introduction.created_at.desc(),
        Introduction.id.desc(),
    )
    completed = first_of(
        COMPLETED,
        bindparam("completed"),
        select(Introduction.id)
        .outerjoin(Outcome, reported)
        .where(_party_is(member_id), Introduction.state == IntroState.COMPLETED),
        Outcome.id.is_not(None),
        Introduction.completed_at.desc(),
        Introduction.id.desc(),
    )
    lists = union_all(waiting, made, completed).subquery("lists")
    return (
        select(Introduction, lists.c.list, Outcome)
        .join(lists, lists.c.id == Introduction.id)
        .outerjoin(Outcome, reported)
        .options(*with_names())
        .order_by(lists.c.list, lists.c.rank)
    )
