"""A newcomer's first steps: profile, photo, a one-to-one, a first introduction; the dashboard's checklist."""

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select

from ..accounts.models import Member
from ..extensions import db
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
def _history_steps_query():
    """Built once (every dashboard reads it), with the member as a parameter: has the member logged
    a one-to-one, has the member made an introduction."""
    member_id = bindparam("member_id")
    one_to_one = exists().where(
        Interaction.kind == InteractionKind.ONE_TO_ONE,
        (Interaction.pair_low_id == member_id) | (Interaction.pair_high_id == member_id),
    )
    return select(one_to_one, exists().where(Introduction.introducer_id == member_id))


def first_steps(member: Member) -> FirstSteps:
    """Which first steps the member has taken: one query for the two that are history."""
    logged, made = db.session.execute(_history_steps_query(), {"member_id": member.id}).one()
    return FirstSteps(
        profile=has_complete_profile(member),
        # Member photos come with their own change; until then no member has one.
        photo=member.has_photo,
        one_to_one=bool(logged),
        introduction=bool(made),
    )
