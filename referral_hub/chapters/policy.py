"""A chapter's policy: what credits are worth and how introductions run, with the history of its changes."""

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import Member
from ..clock import utcnow
from ..database import upsert
from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext as _
from .models import POLICY_SETTINGS, Chapter, ChapterPolicy, PolicyChange


class InvalidPolicy(DomainError):
    code = "invalid_policy"


def policy_for(chapter: Chapter) -> ChapterPolicy:
    """The chapter's policy; DESIGN.md's defaults until an organizer first changes it."""
    return db.session.get(ChapterPolicy, chapter.id) or ChapterPolicy.defaults(chapter.id)


def setting_or_default(name: str):
    """A policy setting in SQL, in a query outer-joined to `ChapterPolicy`: the default where unset."""
    return func.coalesce(getattr(ChapterPolicy, name), POLICY_SETTINGS[name][0])


def _check_settings(settings: dict[str, int]) -> None:
    for name, value in settings.items():
        if name not in POLICY_SETTINGS:
            raise InvalidPolicy(_("There is no setting called %(name)r.", name=name))
        _default, low, high, label = POLICY_SETTINGS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidPolicy(
                _(
                    "%(setting)s: choose a whole number from %(low)d to %(high)d.",
                    setting=label,
                    low=low,
                    high=high,
                )
            )


def _locked_policy(chapter: Chapter) -> ChapterPolicy:
    """The chapter's policy row, written with the defaults if it is new, and locked for this transaction."""
    db.session.execute(
        upsert(ChapterPolicy)
        .values(chapter_id=chapter.id, updated_at=utcnow(), **ChapterPolicy.defaults(chapter.id).settings())
        .on_conflict_do_nothing()
    )
    # Locked, so two organizers saving at once record their changes one after the other.
    return db.session.scalar(
        select(ChapterPolicy)
        .where(ChapterPolicy.chapter_id == chapter.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def apply_changes(target, settings: dict, *, record: type, chapter: Chapter, changed_by: Member, now) -> list:
    """Set each setting that differs on `target` (the chapter or its policy), returning one `record`
    row (setting, from, to, who, when) per change; the caller adds them."""
    changes = []
    for name, value in settings.items():
        old_value = getattr(target, name)
        if old_value != value:
            changes.append(
                record(
                    chapter_id=chapter.id,
                    setting=name,
                    old_value=old_value,
                    new_value=value,
                    changed_by_id=changed_by.id,
                    changed_at=now,
                )
            )
            setattr(target, name, value)
    return changes


def update_policy(chapter: Chapter, *, changed_by: Member, settings: dict[str, int]) -> list[PolicyChange]:
    """Change some of the chapter's settings, recording each change with who and when."""
    _check_settings(settings)
    policy = _locked_policy(chapter)
    now = utcnow()
    changes = apply_changes(
        policy, settings, record=PolicyChange, chapter=chapter, changed_by=changed_by, now=now
    )
    if changes:
        policy.updated_at = now
        policy.updated_by_id = changed_by.id
        db.session.add_all(changes)
        db.session.flush()
    return changes


def policy_history(chapter: Chapter, *, limit: int = 50) -> list[PolicyChange]:
    return list(
        db.session.scalars(
            select(PolicyChange)
            .where(PolicyChange.chapter_id == chapter.id)
            .options(joinedload(PolicyChange.changed_by))
            .order_by(PolicyChange.changed_at.desc(), PolicyChange.id.desc())
            .limit(limit)
        )
    )
