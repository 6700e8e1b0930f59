"""The dashboard's standing: the member's chapters, balances and need costs, first steps."""

import functools
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import contains_eager, load_only

from ...accounts.models import Member
from ...chapters.models import Chapter, ChapterPolicy, Membership, MembershipStatus
from ...chapters.policy import setting_or_default
from ...extensions import db
from ...ledger.models import LedgerAccount
from ...relationships.onboarding import FirstSteps, history_steps_columns, steps_taken


@dataclass(frozen=True)
class Standing:
    memberships: list[Membership]  # active and pending, with their chapters, by chapter name
    balances: dict[int, int]  # by chapter id
    need_costs: dict[int, int]  # by chapter id
    first_steps: FirstSteps


def standing_of(member: Member) -> Standing:
    """One query; a member in no chapter gets one row with no membership, for the first steps."""
    rows = db.session.execute(_standing_query(), {"member_id": member.id}).all()
    listed = [row for row in rows if row.Membership is not None]
    return Standing(
        memberships=[row.Membership for row in listed],
        balances={row.Membership.chapter_id: row.balance for row in listed},
        need_costs={row.Membership.chapter_id: row.need_cost for row in listed},
        first_steps=steps_taken(
            member, one_to_one=rows[0].one_to_one, introduction=rows[0].introduction_made
        ),
    )


@functools.cache
def _standing_query():
    """Built once, with the member as parameter."""
    member_id = bindparam("member_id")
    facts = select(*history_steps_columns()).subquery("facts")
    listed = and_(
        Membership.member_id == member_id,
        Membership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.PENDING]),
    )
    return (
        select(
            facts,
            Membership,
            func.coalesce(LedgerAccount.balance, 0).label("balance"),
            setting_or_default("need_cost").label("need_cost"),
        )
        .select_from(facts)
        .outerjoin(Membership, listed)
        .outerjoin(Chapter, Chapter.id == Membership.chapter_id)
        .outerjoin(
            LedgerAccount,
            and_(LedgerAccount.chapter_id == Membership.chapter_id, LedgerAccount.member_id == member_id),
        )
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Membership.chapter_id)
        # What the page shows of each: its status and role, the chapter's name and address.
        .options(
            load_only(Membership.chapter_id, Membership.status, Membership.role),
            contains_eager(Membership.chapter).load_only(Chapter.name, Chapter.slug),
        )
        .order_by(Chapter.name, Chapter.id)
    )
