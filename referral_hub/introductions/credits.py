"""What an introducer earns: the credit on completion (for a guest introduction, when the member
reports that they met) and the business bonus, each within the repeat-pair window and the daily cap
of the chapter's policy."""

from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from ..accounts.models import Member
from ..chapters.sharing import active_members
from ..clock import local_day_bounds, utcnow
from ..extensions import db
from ..ledger.models import Kind, LedgerTransaction
from .models import CreditNote, Introduction, IntroState


def credit_note(intro: Introduction, policy, now: datetime, members: set[int]) -> CreditNote:
    """Whether the introduction about to complete earns its introducer the reward, and if not why
    (`members`: who of its three people is still active in the chapter)."""
    if policy.intro_reward <= 0:
        return CreditNote.NO_REWARD
    if intro.introducer_id not in members:
        return CreditNote.INTRODUCER_LEFT
    same_pair = (
        Introduction.pair_low_id == intro.pair_low_id,
        Introduction.pair_high_id == intro.pair_high_id,
    )
    return _within_pair_window_and_cap(intro, policy, now, same_pair)


def guest_credit_note(intro: Introduction, policy, now: datetime) -> CreditNote:
    """Whether a guest introduction whose member party just reported a meeting earns its introducer
    `guest_intro_credits`, and if not why. The pair is the member and the guest's address key."""
    if policy.guest_intro_credits <= 0:
        return CreditNote.NO_REWARD
    if intro.introducer_id not in active_members(intro.chapter_id, {intro.introducer_id}):
        return CreditNote.INTRODUCER_LEFT
    # A guest introduction counts toward the pair once it was paid or waits for its outcome.
    same_pair = (
        Introduction.first_id == intro.first_id,
        Introduction.guest_key == intro.guest_key,
        Introduction.credit_note.in_((CreditNote.CREDITED, CreditNote.AWAITING_OUTCOME)),
    )
    return _within_pair_window_and_cap(intro, policy, now, same_pair)


def _within_pair_window_and_cap(intro: Introduction, policy, now: datetime, same_pair) -> CreditNote:
    """REPEAT_PAIR when the same pair completed an introduction within `repeat_pair_days`, DAILY_CAP
    when the introducer reached today's cap (their row locked), else CREDITED."""
    recent_pair = db.session.scalar(
        select(func.count())
        .select_from(Introduction)
        .where(
            Introduction.chapter_id == intro.chapter_id,
            Introduction.id != intro.id,
            *same_pair,
            Introduction.state == IntroState.COMPLETED,
            Introduction.completed_at >= now - timedelta(days=policy.repeat_pair_days),
        )
    )
    if recent_pair:
        return CreditNote.REPEAT_PAIR
    _lock_members({intro.introducer_id})
    if _credited_today(intro, now) >= policy.daily_credited_intros:
        return CreditNote.DAILY_CAP
    return CreditNote.CREDITED


def earns_bonus(intro: Introduction, policy) -> bool:
    """The business-closed bonus is paid only on an introduction that earned its credit, by an
    introducer still in the chapter, once per pair per `repeat_pair_days`, within the daily cap."""
    if intro.credit_note is not CreditNote.CREDITED:
        return False
    if intro.introducer_id not in active_members(intro.chapter_id, {intro.introducer_id}):
        return False
    _lock_members({intro.introducer_id, *(p.id for p in intro.members)})
    now = utcnow()
    same_pair = (
        (Introduction.first_id == intro.first_id, Introduction.guest_key == intro.guest_key)
        if intro.is_guest
        else (
            Introduction.pair_low_id == intro.pair_low_id,
            Introduction.pair_high_id == intro.pair_high_id,
        )
    )
    paid_for_pair = db.session.scalar(
        _paid(Kind.BUSINESS_CLOSED).where(
            Introduction.chapter_id == intro.chapter_id,
            *same_pair,
            LedgerTransaction.created_at >= now - timedelta(days=policy.repeat_pair_days),
        )
    )
    return not paid_for_pair and _credited_today(intro, now) < policy.daily_credited_intros


def _lock_members(member_ids: set[int]) -> None:
    """Lock these members' rows, in id order: two completions or bonuses of one introducer (or one
    pair) at once then count one after the other, and cannot both slip under a limit."""
    db.session.execute(
        select(Member.id).where(Member.id.in_(member_ids)).order_by(Member.id).with_for_update()
    )


def _paid(kind: Kind):
    """Transactions of `kind` (business-closed bonuses, guest introduction credits) joined to the
    introductions they were paid on."""
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
        .where(LedgerTransaction.kind == kind)
    )


def _credited_today(intro: Introduction, now: datetime) -> int:
    """What counts toward the introducer's daily cap: member introductions credited today, guest
    introductions whose credit was paid today and the business-closed bonuses paid to them today,
    "today" being the chapter's local day."""
    introducer_id = intro.introducer_id
    start_of_day, _end = local_day_bounds(now, intro.chapter.timezone)
    introductions = db.session.scalar(
        select(func.count())
        .select_from(Introduction)
        .where(
            Introduction.introducer_id == introducer_id,
            Introduction.credit_note == CreditNote.CREDITED,
            Introduction.guest_key.is_(None),
            Introduction.completed_at >= start_of_day,
        )
    )
    paid_today = (Introduction.introducer_id == introducer_id, LedgerTransaction.created_at >= start_of_day)
    guest_credits = db.session.scalar(
        _paid(Kind.INTRO_COMPLETED).where(*paid_today, Introduction.guest_key.is_not(None))
    )
    bonuses = db.session.scalar(_paid(Kind.BUSINESS_CLOSED).where(*paid_today))
    return introductions + guest_credits + bonuses
