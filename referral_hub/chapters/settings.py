"""Where a chapter meets: its time zone, language and currency, checked, changed and with their history."""

from collections.abc import Iterable
from functools import cache

from babel.numbers import list_currencies
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import joinedload

from .. import events
from ..accounts.models import Member
from ..clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import LANGUAGES, not_a_time_zone, time_zones
from ..i18n import gettext as _
from .models import Chapter, ChapterSettingChange, Membership, MembershipStatus
from .policy import apply_changes


class InvalidChapterSetting(DomainError):
    code = "invalid_chapter_setting"

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


@cache
def currencies() -> tuple[str, ...]:
    """The ISO 4217 codes Babel can format, sorted."""
    return tuple(sorted(list_currencies()))


def checked_settings(
    *, timezone: str | None = None, language: str | None = None, currency: str | None = None
) -> dict[str, str | None]:
    """The given settings cleaned (a blank currency is none; codes upper case), or InvalidChapterSetting.

    Only the settings passed (not None; currency "" means "no currency") are returned.
    """
    settings: dict[str, str | None] = {}
    if timezone is not None:
        timezone = timezone.strip()
        if timezone not in time_zones():
            raise InvalidChapterSetting(
                not_a_time_zone(timezone),
                setting="timezone",
            )
        settings["timezone"] = timezone
    if language is not None:
        language = language.strip().lower()
        if language not in LANGUAGES:
            raise InvalidChapterSetting(
                _("Choose one of these languages: %(codes)s.", codes=", ".join(LANGUAGES)), setting="language"
            )
        settings["language"] = language
    if currency is not None:
        currency = currency.strip().upper()
        if currency and currency not in currencies():
            raise InvalidChapterSetting(
                _("%(code)s is not a currency code: use three letters such as EUR or USD.", code=currency),
                setting="currency",
            )
        settings["currency"] = currency or None
    return settings


def change_settings(
    chapter: Chapter,
    *,
    changed_by: Member,
    timezone: str | None = None,
    language: str | None = None,
    currency: str | None = None,
) -> list[ChapterSettingChange]:
    """Change the chapter's zone, language or currency, recording each change with who and when; a new
    zone refiles the reports' days in the same transaction (events.chapter_zone_changed)."""
    settings = checked_settings(timezone=timezone, language=language, currency=currency)
    # Locked, so two organizers saving at once record their changes one after the other.
    db.session.scalar(
        select(Chapter)
        .where(Chapter.id == chapter.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    changes = apply_changes(
        chapter, settings, record=ChapterSettingChange, chapter=chapter, changed_by=changed_by, now=utcnow()
    )
    if changes:
        db.session.add_all(changes)
        db.session.flush()
    if any(change.setting == "timezone" for change in changes):
        events.chapter_zone_changed.send(chapter)
    return changes


def settings_history(chapter: Chapter, *, limit: int = 50) -> list[ChapterSettingChange]:
    return list(
        db.session.scalars(
            select(ChapterSettingChange)
            .where(ChapterSettingChange.chapter_id == chapter.id)
            .options(joinedload(ChapterSettingChange.changed_by))
            .order_by(ChapterSettingChange.changed_at.desc(), ChapterSettingChange.id.desc())
            .limit(limit)
        )
    )


def home_chapter(member: Member) -> Chapter | None:
    """The first chapter the member joined of those they are still in: its zone and language are theirs
    until they choose their own."""
    return db.session.scalar(
        select(Chapter)
        .join(Membership, Membership.chapter_id == Chapter.id)
        .where(Membership.member_id == member.id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(Membership.joined_at, Membership.id)
        .limit(1)
    )


def home_chapter_among(memberships: Iterable[Membership]) -> Chapter | None:
    """`home_chapter` from the member's memberships (with their chapters) that a page read already."""
    active = [m for m in memberships if m.status is MembershipStatus.ACTIVE]
    return min(active, key=lambda m: (m.joined_at, m.id)).chapter if active else None


def home_timezone(member: Member, memberships: Iterable[Membership] | None = None) -> str:
    """The zone of pages about the member across chapters: their own, else their first chapter's, else UTC.
    `memberships`, when a page read them already, spare the query."""
    if member.timezone:
        return member.timezone
    chapter = home_chapter(member) if memberships is None else home_chapter_among(memberships)
    return chapter.timezone if chapter else "UTC"


def speaking_to(member: Member) -> dict[str, str | None]:
    """An email to the member about no one chapter: their language and zone, else their first chapter's."""
    chapter = home_chapter(member)
    if chapter is None:
        return {"language": member.language, "timezone": member.timezone}
    return {"language": member.language or chapter.language, "timezone": member.timezone or chapter.timezone}


def home_timezones() -> ScalarSelect:
    """For a query over members: each one's own zone, else their first chapter's (NULL: UTC)."""
    first_chapter_zone = (
        select(Chapter.timezone)
        .join(Membership, Membership.chapter_id == Chapter.id)
        .where(Membership.member_id == Member.id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(Membership.joined_at, Membership.id)
        .limit(1)
        .correlate(Member)
        .scalar_subquery()
    )
    return func.coalesce(Member.timezone, first_chapter_zone)
