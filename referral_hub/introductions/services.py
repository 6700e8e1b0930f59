"""Introduction rules: who may introduce whom, consent by email link, completion, credits, outcomes."""

from datetime import datetime, time, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import events
from ..accounts.models import Member
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..chapters.policy import policy_for
from ..clock import utcnow
from ..database import is_id
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..ledger import posting
from ..ledger.models import Kind, LedgerTransaction
from ..mail.services import absolute_url, enqueue
from ..needs.models import Need, NeedStatus
from ..needs.services import need_for
from ..tokens import LinkError, LinkExpired, LinkUnknown, LinkUsed, digest, new_secret
from . import notes
from .models import Consent, CreditNote, Decision, Introduction, IntroState, Outcome, OutcomeKind

MAX_BUSINESS_AMOUNT = 1_000_000_000
LIST_PAGE_SIZE = 20


class IntroRefused(DomainError):
    code = "introduction_refused"


class NeedUnknown(NotFound):
    """There is no such need in your chapters: check the link, or introduce without one."""


class NeedNotOpen(IntroRefused):
    """That need is no longer open, so an introduction cannot answer it."""

    status = 422


class IntroClosed(Conflict):
    """This introduction is no longer waiting for answers."""


class AlreadyAnswered(Conflict):
    """You have already answered this introduction."""


class IntroExpired(Conflict):
    """This introduction expired before both people answered."""


class LinkNotYours(LinkError):
    status = 403
    title = "This link is for the other person"
    message = (
        "This link was sent to the other person in this introduction, and only they can answer with it. "
        "Your own link is in the email we sent you."
    )


class LinkClosed(LinkError):
    status = 410
    title = "This introduction is closed"
    message = (
        "This introduction did not go ahead, so there is nothing left to answer. "
        "No contact details were shared."
    )


# Making an introduction --------------------------------------------------------------------------


def _active_members(chapter_id: int, member_ids: set[int]) -> set[int]:
    return set(
        db.session.scalars(
            select(Membership.member_id).where(
                Membership.chapter_id == chapter_id,
                Membership.member_id.in_(member_ids),
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
    )


def shared_chapters(member_ids: set[int]) -> list[Chapter]:
    """Chapters in which every one of these members is an active member."""
    shared = (
        select(Membership.chapter_id)
        .where(Membership.member_id.in_(member_ids), Membership.status == MembershipStatus.ACTIVE)
        .group_by(Membership.chapter_id)
        .having(func.count(Membership.member_id) == len(member_ids))
    )
    return list(db.session.scalars(select(Chapter).where(Chapter.id.in_(shared)).order_by(Chapter.name)))


def _chapter_for(
    introducer: Member, first: Member, second: Member, *, need: Need | None, chapter_slug: str | None
) -> Chapter:
    ids = {introducer.id, first.id, second.id}
    if need is not None:
        chapter = need.chapter
    else:
        candidates = shared_chapters(ids)
        if chapter_slug:
            candidates = [c for c in candidates if c.slug == chapter_slug]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise IntroRefused("You share more than one chapter with these two: choose the chapter.")
        # Name nobody the introducer shares no chapter with: ids are guessable, names are not public.
        for place, party in (("first", first), ("second", second)):
            if not shared_chapters({introducer.id, party.id}):
                raise IntroRefused(
                    f"The {place} person is not a member of your chapter: both people must belong to it."
                )
        raise IntroRefused(
            f"{first.display_name} and {second.display_name} do not belong to one chapter together with you."
        )
    active = _active_members(chapter.id, ids)
    for person in (introducer, first, second):
        if person.id not in active:
            who = "You are" if person is introducer else "One of the two people is"
            raise IntroRefused(
                f"{who} not a member of {chapter.name}: both people must be members of your chapter."
            )
    return chapter


def open_need(member: Member, need_id: int | None) -> Need:
    """The open need of one of the member's chapters with this id (None: the id could not be read)."""
    try:
        need = need_for(member, need_id) if is_id(need_id) else None
    except NotFound:
        need = None
    if need is None:
        raise NeedUnknown()
    if need.status is not NeedStatus.OPEN:
        raise NeedNotOpen()
    return need


def _member(member_id: int | None) -> Member:
    member = db.session.get(Member, member_id) if is_id(member_id) else None
    if member is None:
        raise IntroRefused("Choose two members of your chapter to introduce.")
    return member


def introduce(
    introducer: Member,
    *,
    first_id: int,
    second_id: int,
    note: str,
    need_id: int | None = None,
    chapter_slug: str | None = None,
) -> Introduction:
    """Introduce two members to each other; each gets an email with a link to accept or decline."""
    if introducer.id in (first_id, second_id):
        raise IntroRefused("You cannot introduce yourself: choose two other members.")
    if first_id == second_id:
        raise IntroRefused("Choose two different members: someone cannot be introduced to themselves.")
    if not introducer.is_verified:
        raise IntroRefused("Verify your email address before you make introductions.")
    first, second = _member(first_id), _member(second_id)
    need = None
    if need_id:
        need = db.session.get(Need, need_id) if is_id(need_id) else None
        if need is None or need.status is not NeedStatus.OPEN:
            raise IntroRefused("That need is no longer open.")
    chapter = _chapter_for(introducer, first, second, need=need, chapter_slug=chapter_slug)
    for party in (first, second):
        if not party.is_verified:
            raise IntroRefused(
                f"{party.display_name} has not verified their email address yet, so they cannot be "
                "introduced. Try again once they have."
            )
    note = notes.check(note)
    fingerprint = notes.fingerprint(note)
    if db.session.scalar(
        select(Introduction.id).where(
            Introduction.introducer_id == introducer.id, Introduction.note_fingerprint == fingerprint
        )
    ):
        raise notes.NoteRefused(f"You have used this note before. {notes.WHY_PERSONAL}")
    low, high = sorted((first.id, second.id))
    now = utcnow()
    # A lapsed introduction of the pair that the daily expiry job has not closed yet must not block this one.
    expire_introductions(now=now, pair=(chapter.id, low, high))
    policy = policy_for(chapter)
    intro = Introduction(
        chapter=chapter,
        introducer=introducer,
        first=first,
        second=second,
        pair_low_id=low,
        pair_high_id=high,
        need=need,
        note=note,
        note_fingerprint=fingerprint,
        created_at=now,
        expires_at=now + timedelta(days=policy.intro_expiry_days),
    )
    # The unique indexes decide races: one pending introduction per pair, one use of a note.
    try:
        with db.session.begin_nested():
            db.session.add(intro)
            db.session.flush()
    except IntegrityError as error:
        if _pending_between(chapter, low, high):
            raise IntroRefused(
                f"{first.display_name} and {second.display_name} already have an introduction waiting "
                "for their answers."
            ) from error
        raise notes.NoteRefused(f"You have used this note before. {notes.WHY_PERSONAL}") from error
    events.introduction_made.send(intro)
    for party in (first, second):
        secret, token_hash = new_secret()
        db.session.add(Consent(introduction=intro, member=party, token_hash=token_hash))
        other = intro.other_party(party.id)
        enqueue(
            "intro_request",
            to=party.email,
            intro=intro,
            party=party,
            other=other,
            link=absolute_url("introductions.answer_link", token=secret),
        )
    db.session.flush()
    return intro


def _pending_between(chapter: Chapter, low: int, high: int) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Introduction)
            .where(
                Introduction.chapter_id == chapter.id,
                Introduction.pair_low_id == low,
                Introduction.pair_high_id == high,
                Introduction.state == IntroState.PENDING,
            )
        )
        > 0
    )


# Answering --------------------------------------------------------------------------------------


def _with_people(path=None):
    """Loader options that bring an introduction's people and chapter in the same query
    (below `path` when the introduction is itself reached through a relationship)."""
    people = (Introduction.introducer, Introduction.first, Introduction.second, Introduction.chapter)
    return [path.joinedload(p) if path is not None else db.joinedload(p) for p in people]


def consent_for_link(secret: str, *, viewer: Member | None = None, now: datetime | None = None) -> Consent:
    """The consent behind an email link, or the reason the link cannot be used."""
    consent = db.session.scalar(
        select(Consent)
        .where(Consent.token_hash == digest(secret))
        .options(db.joinedload(Consent.member), *_with_people(db.joinedload(Consent.introduction)))
    )
    if consent is None:
        raise LinkUnknown()
    intro = consent.introduction
    # The link is a bearer token: only the other party, logged in, is told it is not theirs.
    if (
        viewer is not None
        and viewer.id != consent.member_id
        and viewer.id in (intro.first_id, intro.second_id)
    ):
        raise LinkNotYours()
    if consent.decision is not None:
        raise LinkUsed()
    if intro.state in (IntroState.DECLINED, IntroState.CANCELLED):
        raise LinkClosed()
    if intro.state is IntroState.EXPIRED or (
        intro.state is IntroState.PENDING and intro.expires_at <= (now or utcnow())
    ):
        raise LinkExpired()
    return consent


def consent_of(intro: Introduction, member: Member) -> Consent | None:
    return next((c for c in intro.consents if c.member_id == member.id), None)


def _lock(intro_id: int) -> Introduction:
    """Serialise the answers to one introduction (a row lock on PostgreSQL; SQLite writes one at a time)."""
    return db.session.scalars(
        select(Introduction)
        .where(Introduction.id == intro_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def answer(consent: Consent, decision: Decision, *, now: datetime | None = None) -> Introduction:
    """Record one party's answer; the second acceptance completes the introduction and pays."""
    now = now or utcnow()
    intro = _lock(consent.introduction_id)
    # Another click on this link may have answered while this request waited for the lock.
    db.session.refresh(consent)
    if consent.decision is not None:
        raise AlreadyAnswered()
    if intro.state is IntroState.EXPIRED or (intro.state is IntroState.PENDING and intro.expires_at <= now):
        raise IntroExpired()
    if intro.state is not IntroState.PENDING:
        raise IntroClosed()
    if consent.member_id not in _active_members(intro.chapter_id, {consent.member_id}):
        raise IntroClosed(
            f"You are no longer a member of {intro.chapter.name}, so this introduction cannot go ahead."
        )
    answered = db.session.execute(
        update(Consent)
        .where(Consent.id == consent.id, Consent.decision.is_(None))
        .values(decision=decision, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if answered.rowcount != 1:
        raise LinkUsed()
    db.session.expire(consent)
    if decision is Decision.DECLINE:
        _decline(intro, consent.member_id, now)
    elif (
        db.session.scalar(
            select(func.count())
            .select_from(Consent)
            .where(Consent.introduction_id == intro.id, Consent.decision == Decision.ACCEPT)
        )
        == 2
    ):
        _complete(intro, now)
    db.session.flush()
    return intro


def _decline(intro: Introduction, decliner_id: int, now: datetime) -> None:
    intro.state = IntroState.DECLINED
    intro.closed_at = now
    # Quietly: the others learn only that it did not go ahead, never who said no or why.
    _tell_not_ahead(intro, [intro.other_party(decliner_id), intro.introducer])


def _cancel(intro: Introduction, members: set[int], now: datetime) -> None:
    """A party left the chapter before both accepted: nothing is shared and nothing credited, and
    those still in the chapter hear only that it did not go ahead."""
    intro.state = IntroState.CANCELLED
    intro.closed_at = now
    _tell_not_ahead(intro, [p for p in (*intro.parties, intro.introducer) if p.id in members])


def _tell_not_ahead(intro: Introduction, people) -> None:
    for person in people:
        enqueue("intro_not_ahead", to=person.email, intro=intro, person=person)


def _credit_note(intro: Introduction, reward: int, policy, now: datetime, members: set[int]) -> CreditNote:
    if reward <= 0:
        return CreditNote.NO_REWARD
    if intro.introducer_id not in members:
        return CreditNote.INTRODUCER_LEFT
    recent_pair = db.session.scalar(
        select(func.count())
        .select_from(Introduction)
        .where(
            Introduction.chapter_id == intro.chapter_id,
            Introduction.id != intro.id,
            Introduction.pair_low_id == intro.pair_low_id,
            Introduction.pair_high_id == intro.pair_high_id,
            Introduction.state == IntroState.COMPLETED,
            Introduction.completed_at >= now - timedelta(days=policy.repeat_pair_days),
        )
    )
    if recent_pair:
        return CreditNote.REPEAT_PAIR
    _lock_members({intro.introducer_id})
    if _credited_today(intro.introducer_id, now) >= policy.daily_credited_intros:
        return CreditNote.DAILY_CAP
    return CreditNote.CREDITED


def _lock_members(member_ids: set[int]) -> None:
    """Lock these members' rows, in id order: two completions or bonuses of one introducer (or one
    pair) at once then count one after the other, and cannot both slip under a limit."""
    db.session.execute(
        select(Member.id).where(Member.id.in_(member_ids)).order_by(Member.id).with_for_update()
    )


def _bonuses_paid():
    """Business-closed bonuses joined to the introductions they were paid on."""
    return (
        select(func.count())
        .select_from(LedgerTransaction)
        .join(
            Introduction,
            and_(
                LedgerTransaction.subject_type == "introduction",
                LedgerTransaction.subject_id == Introduction.id,
            ),
        )
        .where(LedgerTransaction.kind == Kind.BUSINESS_CLOSED)
    )


def _credited_today(introducer_id: int, now: datetime) -> int:
    """What counts toward the introducer's daily cap: introductions credited today and the
    business-closed bonuses paid to them today."""
    start_of_day = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
    introductions = db.session.scalar(
        select(func.count())
        .select_from(Introduction)
        .where(
            Introduction.introducer_id == introducer_id,
            Introduction.credit_note == CreditNote.CREDITED,
            Introduction.completed_at >= start_of_day,
        )
    )
    bonuses = db.session.scalar(
        _bonuses_paid().where(
            Introduction.introducer_id == introducer_id, LedgerTransaction.created_at >= start_of_day
        )
    )
    return introductions + bonuses


def _complete(intro: Introduction, now: datetime) -> None:
    # A party may have left the chapter since they accepted. The shared lock makes a leave that is
    # being written wait for this completion, and this one read what a finished leave wrote.
    members = set(
        db.session.scalars(
            select(Membership.member_id)
            .where(
                Membership.chapter_id == intro.chapter_id,
                Membership.member_id.in_({intro.introducer_id, intro.first_id, intro.second_id}),
                Membership.status == MembershipStatus.ACTIVE,
            )
            .with_for_update(read=True)
        )
    )
    if not {intro.first_id, intro.second_id} <= members:
        _cancel(intro, members, now)
        return
    policy = policy_for(intro.chapter)
    reward = policy.intro_reward
    intro.state = IntroState.COMPLETED
    intro.completed_at = now
    intro.credit_note = _credit_note(intro, reward, policy, now, members)
    db.session.flush()
    events.introduction_completed.send(intro)
    if intro.credit_note is CreditNote.CREDITED:
        posting.post(
            intro.chapter,
            key=f"intro:{intro.id}:completed",
            kind=Kind.INTRO_COMPLETED,
            memo=f"Introduced {intro.first.display_name} and {intro.second.display_name}",
            caused_by=intro.introducer,
            entries=[(posting.POOL, -reward), (intro.introducer, reward)],
            subject_type="introduction",
            subject_id=intro.id,
        )
    for party in intro.parties:
        enqueue(
            "intro_completed",
            to=party.email,
            intro=intro,
            party=party,
            other=intro.other_party(party.id),
            link=absolute_url("introductions.detail", intro_id=intro.id),
        )
    enqueue(
        "intro_credited",
        to=intro.introducer.email,
        intro=intro,
        reward=reward,
        policy=policy,
        link=absolute_url("introductions.detail", intro_id=intro.id),
    )


def expire_introductions(*, now: datetime | None = None, pair: tuple[int, int, int] | None = None) -> int:
    """Every pending introduction past its expiry becomes expired (only the pair's, given
    `pair` = (chapter id, low id, high id)); returns how many."""
    now = now or utcnow()
    due = [Introduction.state == IntroState.PENDING, Introduction.expires_at <= now]
    if pair is not None:
        chapter_id, low, high = pair
        due += [
            Introduction.chapter_id == chapter_id,
            Introduction.pair_low_id == low,
            Introduction.pair_high_id == high,
        ]
    result = db.session.execute(
        update(Introduction)
        .where(*due)
        .values(state=IntroState.EXPIRED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# Outcomes ---------------------------------------------------------------------------------------


def _earns_bonus(intro: Introduction, policy) -> bool:
    """The business-closed bonus is paid only on an introduction that earned its credit, by an
    introducer still in the chapter, once per pair per `repeat_pair_days`, within the daily cap."""
    if intro.credit_note is not CreditNote.CREDITED:
        return False
    if intro.introducer_id not in _active_members(intro.chapter_id, {intro.introducer_id}):
        return False
    _lock_members({intro.introducer_id, intro.first_id, intro.second_id})
    now = utcnow()
    paid_for_pair = db.session.scalar(
        _bonuses_paid().where(
            Introduction.chapter_id == intro.chapter_id,
            Introduction.pair_low_id == intro.pair_low_id,
            Introduction.pair_high_id == intro.pair_high_id,
            LedgerTransaction.created_at >= now - timedelta(days=policy.repeat_pair_days),
        )
    )
    return not paid_for_pair and _credited_today(intro.introducer_id, now) < policy.daily_credited_intros


def report_outcome(
    intro: Introduction, member: Member, kind: OutcomeKind, amount: int | None = None
) -> Outcome:
    """A party says what came of a completed introduction; business closed pays the introducer once."""
    if member.id not in (intro.first_id, intro.second_id):
        raise Forbidden("Only the two people introduced can report what came of it.")
    if intro.state is not IntroState.COMPLETED:
        raise IntroRefused("Outcomes can be reported once both sides have accepted the introduction.")
    if kind is OutcomeKind.BUSINESS_CLOSED:
        if amount is None or not 0 < amount <= MAX_BUSINESS_AMOUNT:
            raise IntroRefused("Enter the amount of business you received, a whole number above zero.")
    else:
        amount = None
    earlier_business = db.session.scalar(
        select(func.count())
        .select_from(Outcome)
        .where(Outcome.introduction_id == intro.id, Outcome.kind == OutcomeKind.BUSINESS_CLOSED)
    )
    already = "You have already told us what came of this introduction."
    outcome = db.session.scalar(
        select(Outcome).where(Outcome.introduction_id == intro.id, Outcome.reported_by_id == member.id)
    )
    if outcome is not None:
        # Outcomes only move forward: a meeting (or a first "not a fit") may later turn into business.
        if kind is not OutcomeKind.BUSINESS_CLOSED or outcome.kind is OutcomeKind.BUSINESS_CLOSED:
            raise Conflict(already)
        outcome.kind, outcome.amount = kind, amount
        db.session.flush()
    else:
        outcome = Outcome(introduction=intro, reported_by=member, kind=kind, amount=amount)
        try:
            with db.session.begin_nested():
                db.session.add(outcome)
        except IntegrityError as error:
            raise Conflict(already) from error
    policy = policy_for(intro.chapter)
    bonus = policy.business_bonus
    if (
        kind is OutcomeKind.BUSINESS_CLOSED
        and not earlier_business
        and bonus > 0
        and _earns_bonus(intro, policy)
    ):
        # The idempotency key pays the bonus once, even if both parties report business at once.
        posting.post(
            intro.chapter,
            key=f"intro:{intro.id}:business_closed",
            kind=Kind.BUSINESS_CLOSED,
            memo=f"Business closed (reported amount {amount:,}) after introducing "
            f"{intro.first.display_name} and {intro.second.display_name}",
            caused_by=member,
            entries=[(posting.POOL, -bonus), (intro.introducer, bonus)],
            subject_type="introduction",
            subject_id=intro.id,
        )
    events.outcome_reported.send(outcome)
    return outcome


# Reading ------------------------------------------------------------------------------------------


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
        .options(*_with_people(), db.selectinload(Introduction.consents))
    )
    if intro is None or not intro.involves(member.id):
        raise NotFound()
    return intro


def outcomes_of(intro: Introduction) -> list[Outcome]:
    return list(
        db.session.scalars(
            select(Outcome)
            .where(Outcome.introduction_id == intro.id)
            .order_by(Outcome.created_at)
            .options(db.joinedload(Outcome.reported_by))
        )
    )


ROLES = ("all", "introducer", "party")


def introductions_of(member: Member, *, role: str = "all", state: str = "", page: int = 1):
    statement = (
        select(Introduction)
        .options(*_with_people())
        .order_by(Introduction.created_at.desc(), Introduction.id.desc())
    )
    as_introducer = Introduction.introducer_id == member.id
    as_party = (Introduction.first_id == member.id) | (Introduction.second_id == member.id)
    statement = statement.where(
        as_introducer if role == "introducer" else as_party if role == "party" else as_introducer | as_party
    )
    if state in {s.value for s in IntroState}:
        statement = statement.where(Introduction.state == state)
    return db.paginate(statement, page=page, per_page=LIST_PAGE_SIZE, error_out=False)


def waiting_for(member: Member, *, now: datetime | None = None) -> list[Introduction]:
    """Pending introductions in which the member has not answered yet."""
    return list(
        db.session.scalars(
            select(Introduction)
            .join(Consent, Consent.introduction_id == Introduction.id)
            .where(
                Consent.member_id == member.id,
                Consent.decision.is_(None),
                Introduction.state == IntroState.PENDING,
                Introduction.expires_at > (now or utcnow()),
            )
            .options(*_with_people())
            .order_by(Introduction.created_at)
            .limit(50)
        )
    )


def introducible_members(member: Member) -> list[tuple[Chapter, list[Member]]]:
    """For the introduction form: each of the member's chapters with its other active, verified members
    (an unverified address cannot be introduced)."""
    chapters = shared_chapters({member.id})
    if not chapters:
        return []
    rows = db.session.execute(
        select(Membership.chapter_id, Member)
        .join(Member, Member.id == Membership.member_id)
        .where(
            Membership.chapter_id.in_([c.id for c in chapters]),
            Membership.status == MembershipStatus.ACTIVE,
            Member.id != member.id,
            Member.email_verified_at.is_not(None),
        )
        .order_by(func.lower(Member.display_name))
    ).all()
    by_chapter: dict[int, list[Member]] = {c.id: [] for c in chapters}
    for chapter_id, other in rows:
        by_chapter[chapter_id].append(other)
    return [(c, by_chapter[c.id]) for c in chapters]
