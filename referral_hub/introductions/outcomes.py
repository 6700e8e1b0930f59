"""What came of a completed introduction, as its parties report it, and the business-closed bonus."""

from datetime import datetime

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from .. import events
from ..accounts.models import Member
from ..chapters.models import POLICY_SETTINGS, ChapterPolicy
from ..chapters.policy import policy_for
from ..clock import utcnow
from ..database import UTCDateTime, seconds_between
from ..errors import Conflict, Forbidden
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..ledger import posting
from ..ledger.models import Kind
from ..mail.services import absolute_url, enqueue
from . import credits
from .errors import IntroRefused
from .models import Consent, CreditNote, Introduction, IntroState, Outcome, OutcomeKind

MAX_BUSINESS_AMOUNT = 1_000_000_000
PROMPTS_PER_RUN = 500  # a run's batch; the next run takes the rest
ALREADY_REPORTED = _l("You have already told us what came of this introduction.")


def report_outcome(
    intro: Introduction, member: Member, kind: OutcomeKind, amount: int | None = None
) -> Outcome:
    """A party says what came of a completed introduction; business closed pays the introducer once."""
    if member.id not in {p.id for p in intro.members}:
        raise Forbidden(_("Only the two people introduced can report what came of it."))
    if intro.state is not IntroState.COMPLETED:
        raise IntroRefused(_("Outcomes can be reported once both sides have accepted the introduction."))
    if kind is OutcomeKind.BUSINESS_CLOSED:
        if amount is None or not 0 < amount <= MAX_BUSINESS_AMOUNT:
            raise IntroRefused(_("Enter the amount of business you received, a whole number above zero."))
    else:
        amount = None
    earlier_business = db.session.scalar(
        select(func.count())
        .select_from(Outcome)
        .where(Outcome.introduction_id == intro.id, Outcome.kind == OutcomeKind.BUSINESS_CLOSED)
    )
    outcome = _record(intro, member, kind, amount)
    policy = policy_for(intro.chapter)
    if intro.is_guest and kind is not OutcomeKind.NOT_A_FIT:
        _credit_guest_introduction(intro, member)
    bonus = policy.business_bonus
    if (
        kind is OutcomeKind.BUSINESS_CLOSED
        and not earlier_business
        and bonus > 0
        and credits.earns_bonus(intro, policy)
    ):
        # The idempotency key pays the bonus once, even if both parties report business at once.
        posting.post(
            intro.chapter,
            key=f"intro:{intro.id}:business_closed",
            kind=Kind.BUSINESS_CLOSED,
            memo=f"Business closed (reported amount {amount:,}) after introducing "
            f"{intro.first.display_name} and {intro.second_name}",
            caused_by=member,
            entries=[(posting.POOL, -bonus), (intro.introducer, bonus)],
            subject_type="introduction",
            subject_id=intro.id,
        )
    events.outcome_reported.send(outcome)
    return outcome


def _credit_guest_introduction(intro: Introduction, member: Member) -> None:
    """The member party of a guest introduction met the guest: the introducer earns the guest credit,
    once (the introduction's row lock orders concurrent reports; the idempotency key pays once)."""
    db.session.execute(select(Introduction.id).where(Introduction.id == intro.id).with_for_update())
    db.session.refresh(intro, ["credit_note"])
    if intro.credit_note is not CreditNote.AWAITING_OUTCOME:
        return
    policy = policy_for(intro.chapter)
    intro.credit_note = credits.guest_credit_note(intro, policy, utcnow())
    db.session.flush()
    if intro.credit_note is CreditNote.CREDITED:
        reward = policy.guest_intro_credits
        posting.post(
            intro.chapter,
            key=f"intro:{intro.id}:completed",
            kind=Kind.INTRO_COMPLETED,
            memo=f"Introduced {intro.first.display_name} to a guest, and they met",
            caused_by=member,
            entries=[(posting.POOL, -reward), (intro.introducer, reward)],
            subject_type="introduction",
            subject_id=intro.id,
        )


def _record(intro: Introduction, member: Member, kind: OutcomeKind, amount: int | None) -> Outcome:
    """The party's one outcome, new or moved forward: a meeting (or a first "not a fit") may later
    turn into business, but an outcome never multiplies or moves back."""
    outcome = db.session.scalar(
        select(Outcome).where(Outcome.introduction_id == intro.id, Outcome.reported_by_id == member.id)
    )
    if outcome is not None:
        if kind is not OutcomeKind.BUSINESS_CLOSED or outcome.kind is OutcomeKind.BUSINESS_CLOSED:
            raise Conflict(ALREADY_REPORTED)
        outcome.kind, outcome.amount = kind, amount
        db.session.flush()
        return outcome
    outcome = Outcome(introduction=intro, reported_by=member, kind=kind, amount=amount)
    try:
        with db.session.begin_nested():
            db.session.add(outcome)
    except IntegrityError as error:
        raise Conflict(ALREADY_REPORTED) from error
    return outcome


def send_outcome_prompts(now: datetime) -> int:
    """Email each party of a completed introduction that has not said what came of it, once the
    chapter's `outcome_prompt_days` have passed since completion. Each party is asked once: the
    consent's `outcome_prompted_at` is set by a conditional UPDATE, so two runs never both send.
    Returns how many prompts were enqueued."""
    days = func.coalesce(ChapterPolicy.outcome_prompt_days, POLICY_SETTINGS["outcome_prompt_days"][0])
    reported = exists().where(
        Outcome.introduction_id == Consent.introduction_id, Outcome.reported_by_id == Consent.member_id
    )
    due = db.session.execute(
        select(Consent.id, Consent.member_id, Introduction)
        .join(Introduction, Introduction.id == Consent.introduction_id)
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Introduction.chapter_id)
        .where(
            Introduction.state == IntroState.COMPLETED,
            Consent.outcome_prompted_at.is_(None),
            Consent.member_id.is_not(None),  # a guest is not asked
            ~reported,
            seconds_between(Introduction.completed_at, literal(now, UTCDateTime)) >= days * 86400,
        )
        .options(db.joinedload(Introduction.first), db.joinedload(Introduction.second))
        .order_by(Consent.id)
        .limit(PROMPTS_PER_RUN)
    ).all()
    sent = 0
    for consent_id, member_id, intro in due:
        claimed = db.session.execute(
            update(Consent)
            .where(Consent.id == consent_id, Consent.outcome_prompted_at.is_(None))
            .values(outcome_prompted_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        party = intro.first if member_id == intro.first_id else intro.second
        enqueue(
            "outcome_prompt",
            to=party.email,
            **intro.chapter.speaking_to(party),
            intro=intro,
            party=party,
            other=intro.other_party(party.id),
            link=absolute_url("introductions.detail", intro_id=intro.id) + "#outcome",
        )
        sent += 1
    db.session.flush()
    return sent
