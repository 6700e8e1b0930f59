"""What the reports count as a member's activity in a chapter, and who its current members are."""

from datetime import datetime, timedelta

from sqlalchemy import and_, select, union_all

from ..chapters.models import POLICY_SETTINGS, Membership, MembershipStatus
from ..introductions.models import Consent, Introduction, Outcome
from ..needs.models import Need
from .aggregates import within

RECENT = timedelta(days=90)
# The longest an introduction can wait for answers: the policy's upper bound for intro_expiry_days.
ANSWER_WINDOW = timedelta(days=POLICY_SETTINGS["intro_expiry_days"][2])


def current_members(chapter_id: int):
    """The condition on Membership for the chapter's current members."""
    return and_(Membership.chapter_id == chapter_id, Membership.status == MembershipStatus.ACTIVE)


def chapter_outcomes(chapter_id: int):
    """The chapter's outcomes with their introducers, once for every use in a statement (a CTE)."""
    return (
        select(
            Outcome.reported_by_id,
            Outcome.kind,
            Outcome.amount,
            Outcome.created_at,
            Introduction.introducer_id,
        )
        .join(Introduction, Introduction.id == Outcome.introduction_id)
        .where(Introduction.chapter_id == chapter_id)
        .cte("chapter_outcomes")
    )


def activities(
    chapter_id: int, *, starts_at: datetime | None = None, ends_at: datetime | None = None, outcomes=None
):
    """Every activity in the chapter as rows (member_id, at), optionally within [starts_at, ends_at).

    `outcomes`: the statement's `chapter_outcomes`, to read them once; by default they are read here.
    """
    outcomes = outcomes if outcomes is not None else chapter_outcomes(chapter_id)

    def part(member, at, *conditions):
        window = [within(at, starts_at, ends_at)] if starts_at is not None else []
        return select(member.label("member_id"), at.label("at")).where(*conditions, *window)

    in_chapter = Introduction.chapter_id == chapter_id
    answerable = [in_chapter]
    if starts_at is not None:
        # An answer comes before its introduction expires, so it is from an introduction made at
        # most ANSWER_WINDOW earlier: this reads those introductions' consents, not all of them.
        answerable.append(within(Introduction.created_at, starts_at - ANSWER_WINDOW, ends_at))
    return union_all(
        part(Need.asker_id, Need.created_at, Need.chapter_id == chapter_id),
        part(Introduction.introducer_id, Introduction.created_at, in_chapter),
        part(Consent.member_id, Consent.answered_at, Consent.introduction_id == Introduction.id, *answerable),
        part(outcomes.c.reported_by_id, outcomes.c.created_at),
    ).subquery("activities")
