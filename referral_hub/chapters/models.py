"""Chapter, Membership (role and status), Invitation, and the chapter's policy with its history."""

import enum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Member
from ..clock import utcnow
from ..database import UTCDateTime, enum_type
from ..extensions import db
from ..i18n import lazy_gettext as _l


class Chapter(db.Model):
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Where the chapter meets: its pages' and emails' time zone (IANA), language (a code of
    # i18n.LANGUAGES) and the currency of business amounts (ISO 4217; None shows plain numbers).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)

    __table_args__ = (
        CheckConstraint("length(slug) > 0", name="slug_present"),
        CheckConstraint("length(timezone) > 0", name="timezone_present"),
        CheckConstraint("currency IS NULL OR length(currency) = 3", name="currency_is_a_code"),
    )

    def __repr__(self) -> str:
        return f"<Chapter {self.slug}>"

    def speaking_to(self, member: Member | None) -> dict[str, str | None]:
        """An email about this chapter to `member` (None: an address with no account yet): in their
        language, else the chapter's, in its time zone.

        `mail.enqueue(template, to=member.email, **chapter.speaking_to(member), ...)`
        """
        return {"language": (member and member.language) or self.language, "timezone": self.timezone}


class Role(enum.StrEnum):
    MEMBER = "member"
    ORGANIZER = "organizer"

    @property
    def label(self) -> str:
        return {Role.MEMBER: _l("member"), Role.ORGANIZER: _l("organizer")}[self]


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"  # asked to join, waiting for an organizer
    ACTIVE = "active"
    DECLINED = "declined"
    REMOVED = "removed"
    LEFT = "left"

    @property
    def label(self) -> str:
        return MEMBERSHIP_STATUS_LABELS[self]


MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.PENDING: _l("pending"),
    MembershipStatus.ACTIVE: _l("active"),
    MembershipStatus.DECLINED: _l("declined"),
    MembershipStatus.REMOVED: _l("removed"),
    MembershipStatus.LEFT: _l("left"),
}


class Membership(db.Model):
    """A member's place in one chapter. Never deleted: a removed member's history stays."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # The member's display name, kept with it (chapters.services.keep_name) so that an index can list a
    # chapter's members by name; `flask reports verify` checks it against the member's.
    display_name: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(enum_type(Role, "membership_role"), default=Role.MEMBER)
    status: Mapped[MembershipStatus] = mapped_column(enum_type(MembershipStatus, "membership_status"))
    requested_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    joined_at = mapped_column(UTCDateTime, nullable=True)
    ended_at = mapped_column(UTCDateTime, nullable=True)

    chapter: Mapped[Chapter] = relationship()
    member: Mapped[Member] = relationship()

    __table_args__ = (
        UniqueConstraint("chapter_id", "member_id"),
        CheckConstraint("status <> 'active' OR joined_at IS NOT NULL", name="active_has_joined_at"),
        Index(None, "member_id", "status"),
        Index(None, "chapter_id", "status"),
    )

    @property
    def is_organizer(self) -> bool:
        return self.status is MembershipStatus.ACTIVE and self.role is Role.ORGANIZER


# A chapter's current members in name order, through the name each membership keeps: the roster, the
# ledger's balances and the members table read a page of them without sorting every member.
Index(
    "ix_memberships_chapter_status_name",
    Membership.chapter_id,
    Membership.status,
    func.lower(Membership.display_name),
    Membership.member_id,
)
# The members table sorted by joining date (reports.members): a page read from the index in the table's
# order, each day's members by name. Down, and by name down, the page reads PostgreSQL's own indexes
# (DESC NULLS LAST, which SQLite cannot index): database.HAND_WRITTEN_INDEXES.
Index(
    "ix_memberships_chapter_status_joined",
    Membership.chapter_id,
    Membership.status,
    Membership.joined_at,
    func.lower(Membership.display_name),
    Membership.member_id,
)


def current_members(chapter_id):
    """The condition on Membership for the chapter's current members (`chapter_id` may be a parameter)."""
    return and_(Membership.chapter_id == chapter_id, Membership.status == MembershipStatus.ACTIVE)


def current_member_count(chapter_id):
    """How many current members the chapter has: a scalar subquery the memberships' indexes count alone,
    for a page's total beside its rows."""
    return (
        select(func.count())
        .select_from(Membership)
        .where(current_members(chapter_id))
        .correlate(None)
        .scalar_subquery()
    )


class Invitation(db.Model):
    """An organizer's emailed invitation: a link that expires and works once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    email: Mapped[str] = mapped_column(String(254))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    accepted_at = mapped_column(UTCDateTime, nullable=True)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    # The organizer's own words to the invitee, shown in the email and on the join page.
    message: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Cancelled by an organizer, or replaced by a resent one (`replaced_by_id`): the link stops working.
    cancelled_at = mapped_column(UTCDateTime, nullable=True)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), nullable=True)

    chapter: Mapped[Chapter] = relationship()
    invited_by: Mapped[Member] = relationship(foreign_keys=[invited_by_id])

    __table_args__ = (
        CheckConstraint("(accepted_at IS NULL) = (accepted_by_id IS NULL)", name="acceptance_complete"),
        CheckConstraint("accepted_at IS NULL OR cancelled_at IS NULL", name="accepted_or_cancelled"),
        CheckConstraint("replaced_by_id IS NULL OR cancelled_at IS NOT NULL", name="replaced_is_cancelled"),
        Index(None, "chapter_id", "created_at"),
    )


# Each setting: (default, lowest, highest, label). The form, the service and the table's CHECK
# constraints all read these bounds.
POLICY_SETTINGS = {
    "intro_reward": (3, 0, 100, _l("Credits for an introduction both sides accept")),
    "business_bonus": (2, 0, 100, _l("Bonus credits when an introduction closes business")),
    "need_cost": (2, 0, 100, _l("Cost of posting a need")),
    "connector_cost": (1, 0, 100, _l("Cost of asking a connector for an introduction")),
    "welcome_credits": (0, 0, 100, _l("Welcome credits for a new member")),
    "repeat_pair_days": (180, 0, 3650, _l("Days before introducing the same pair earns credit again")),
    "daily_credited_intros": (5, 1, 100, _l("Credited introductions per introducer per day")),
    "intro_expiry_days": (14, 1, 90, _l("Days an introduction waits for both answers")),
    "organizers_need_two_factor": (0, 0, 1, _l("Organizers must sign in with two-factor (1 = yes, 0 = no)")),
    "outcome_prompt_days": (
        14,
        1,
        365,
        _l("Days after an introduction completes before its parties are asked by email what came of it"),
    ),
    "guest_intro_credits": (
        2,
        0,
        100,
        "Credits for an introduction to a guest, paid when the member reports they met",
    ),
    "daily_guest_intros": (5, 0, 100, "Introductions to guests per introducer per day"),
    "guest_retention_days": (
        365,
        1,
        3650,
        "Days a guest's name and address are kept after their introduction closes",
    ),
}


class ChapterPolicy(db.Model):
    """A chapter's rules for credits and introductions. The row is written on the first change; until
    then the defaults apply."""

    __tablename__ = "chapter_policies"

    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"), primary_key=True)
    intro_reward: Mapped[int] = mapped_column(Integer)
    business_bonus: Mapped[int] = mapped_column(Integer)
    need_cost: Mapped[int] = mapped_column(Integer)
    connector_cost: Mapped[int] = mapped_column(Integer)
    welcome_credits: Mapped[int] = mapped_column(Integer)
    repeat_pair_days: Mapped[int] = mapped_column(Integer)
    daily_credited_intros: Mapped[int] = mapped_column(Integer)
    intro_expiry_days: Mapped[int] = mapped_column(Integer)
    organizers_need_two_factor: Mapped[int] = mapped_column(Integer, server_default="0")
    outcome_prompt_days: Mapped[int] = mapped_column(Integer)
    guest_intro_credits: Mapped[int] = mapped_column(Integer)
    daily_guest_intros: Mapped[int] = mapped_column(Integer)
    guest_retention_days: Mapped[int] = mapped_column(Integer)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)

    __table_args__ = tuple(
        CheckConstraint(f"{name} BETWEEN {low} AND {high}", name=f"{name}_in_range")
        for name, (_default, low, high, _label) in POLICY_SETTINGS.items()
    )

    @classmethod
    def defaults(cls, chapter_id: int) -> "ChapterPolicy":
        """The policy a chapter has before any organizer changes it (not added to the session)."""
        return cls(
            chapter_id=chapter_id,
            **{name: default for name, (default, *_rest) in POLICY_SETTINGS.items()},
        )

    def settings(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in POLICY_SETTINGS}


class PolicyChange(db.Model):
    """One setting changed by one organizer at one moment: the policy's history."""

    __tablename__ = "chapter_policy_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    setting: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[int] = mapped_column(Integer)
    new_value: Mapped[int] = mapped_column(Integer)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    changed_by: Mapped[Member] = relationship()

    __table_args__ = (Index(None, "chapter_id", "changed_at"),)

    @property
    def label(self) -> str:
        return POLICY_SETTINGS[self.setting][3] if self.setting in POLICY_SETTINGS else self.setting


# The settings of where a chapter meets, each with its label; their changes are kept like the policy's.
CHAPTER_SETTINGS = {
    "timezone": _l("Time zone"),
    "language": _l("Language"),
    "currency": _l("Currency"),
}


class ChapterSettingChange(db.Model):
    """One of the chapter's time zone, language or currency changed by one organizer at one moment."""

    __tablename__ = "chapter_setting_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    setting: Mapped[str] = mapped_column(String(20))
    # None is "no currency" (plain numbers).
    old_value: Mapped[str | None] = mapped_column(String(64), nullable=True)
    new_value: Mapped[str | None] = mapped_column(String(64), nullable=True)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    changed_by: Mapped[Member] = relationship()

    __table_args__ = (
        CheckConstraint(
            "setting IN ({})".format(", ".join(f"'{name}'" for name in CHAPTER_SETTINGS)),
            name="known_setting",
        ),
        CheckConstraint(
            "setting = 'currency' OR (old_value IS NOT NULL AND new_value IS NOT NULL)", name="value_present"
        ),
        Index(None, "chapter_id", "changed_at"),
    )

    @property
    def label(self) -> str:
        return str(CHAPTER_SETTINGS.get(self.setting, self.setting))
