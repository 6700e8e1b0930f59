"""A newcomer's first steps: profile, photo, a one-to-one, a first introduction; the dashboard's checklist."""

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, exists

from ..accounts.models import Member
from ..introductions.models import Introduction
from .models import Interaction, InteractionKind


@dataclass(frozen=True)
class FirstSteps:
    profile: bool
    photo: bool
    one_to_one: bool
    introduction: bool

    @property
    def done(self) -> bool:
        return self.profile and self.photo and self.one_to_one and self.introduction


def has_complete_profile(member: Member) -> bool:
    """Others can remember and match the member: a headline, expertise and an ideal referral."""
    return bool(member.headline and member.expertise and member.ideal_referral)


@functools.cache
def history_steps_columns():
    """Built once (every dashboard reads them), with the member as parameter `member_id`: has the
    member logged a one-to-one, has the member made an introduction (columns for a page's own query)."""
    member_id = bindparam("member_id")
    one_to_one = exists().where(
        Interaction.kind == InteractionKind.ONE_TO_ONE,
        (Interaction.pair_low_id == member_id) | (Interaction.pair_high_id == member_id),
    )
    made = exists().where(Introduction.introducer_id == member_id)
    return one_to_one.label("one_to_one"), made.label("introduction_made")


def steps_taken(member: Member, *, one_to_one: bool, introduction: bool) -> FirstSteps:
    """The member's first steps, the two that are history read already (`history_steps_columns`)."""
    return FirstSteps(
        profile=has_complete_profile(member),
        # Member photos come with their own change; until then no member has one.
        photo=member.has_photo,
        one_to_one=bool(one_to_one),
        introduction=bool(introduction),
    )
