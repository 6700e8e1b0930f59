"""What the reports count as a member's activity in a chapter."""

from datetime import timedelta

from sqlalchemy import select, union_all

from ..chapters.models import POLICY_SETTINGS
from ..introductions.models import Consent, Introduction, Outcome
from ..needs.models import Need
from .aggregates import within

RECENT = timedelta(days=90)
# The longest an introduction can wait for answers: the policy's upper bound for intro_expiry_days.
ANSWER_WINDOW = timedelta(days=POLICY_SETTINGS["intro_expiry_days"][2])


def chapter_outcomes(chapter_id):
    """The chapter's outcomes with their reporters, as a CTE."""
    return (
        select(Outcome.reported_by_id, Outcome.created_at)
        .join(Introduction, Introduction.id == Outcome.introduction_id)
        .where(Introduction.chapter_id == chapter_id)
        .cte("chapter_outcomes")
    )


def activities(chapter_id, *, starts_at, ends_at, answerable_since):
    """Every activity in the chapter within [starts_at, ends_at) as rows (member_id, at), read from the
    source tables (for a period that ended before today; reports.counting keeps the latest one). Each
    argument may be a value or a parameter; `answerable_since` is `starts_at` - ANSWER_WINDOW."""
    outcomes = chapter_outcomes(chapter_id)

    def part(member, at, *conditions):
        return select(member.label("member_id"), at.label("at")).where(
            *conditions, within(at, starts_at, ends_at)
        )

    in_chapter = Introduction.chapter_id == chapter_id
    # An answer comes before its introduction expires, so it is from an introduction made at most
    # ANSWER_WINDOW earlier: this reads those introductions' consents, not all of them.
    answerable = [in_chapter, within(Introduction.created_at, answerable_since, ends_at)]
    return union_all(
        part(Need.asker_id, Need.created_at, Need.chapter_id == chapter_id),
        part(Introduction.introducer_id, Introduction.created_at, in_chapter),
        part(Consent.member_id, Consent.answered_at, Consent.introduction_id == Introduction.id, *answerable),
        part(outcomes.c.reported_by_id, outcomes.c.created_at),
    ).subquery("activities")
