"""Guests: people outside the chapter introduced by address, their suppression list and their erasure."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, literal, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import email_key_of
from ..chapters.models import POLICY_SETTINGS, ChapterPolicy
from ..database import UTCDateTime, seconds_between
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..mail.services import absolute_url, enqueue, one_click_unsubscribe
from ..tokens import LinkUnknown
from .errors import IntroRefused
from .models import GuestSuppression, Introduction, IntroState

NAME_MAX, ABOUT_MAX = 120, 200
SUPPRESSED = _l(
    "This person does not accept introductions through Referral Hub, so nothing was sent. "
    "Please contact them another way."
)
ERASE_PER_RUN = 500  # a run's batch; the next run takes the rest


@dataclass(frozen=True)
class GuestDetails:
    """What the introducer types about the guest."""

    name: str
    email: str
    about: str = ""

    def checked(self) -> "GuestDetails":
        """The details trimmed, or IntroRefused saying what to fix."""
        name, email = " ".join((self.name or "").split()), (self.email or "").strip()
        about = " ".join((self.about or "").split())
        if not name:
            raise IntroRefused(_l("Enter the guest's name."))
        if len(name) > NAME_MAX:
            raise IntroRefused(_l("The guest's name is too long: at most %(n)d characters.", n=NAME_MAX))
        if len(about) > ABOUT_MAX:
            raise IntroRefused(
                _l("The line about the guest is too long: at most %(n)d characters.", n=ABOUT_MAX)
            )
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as error:
            raise IntroRefused(_l("Enter a valid email address for the guest.")) from error
        return GuestDetails(name=name, email=email, about=about)


def _keys() -> list[bytes]:
    """Keys for the address hash, from SECRET_KEY first and then each of SECRET_KEY_FALLBACKS."""
    config = current_app.config
    secrets_in_use = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return [
        hmac.new(str(secret).encode(), b"referral-hub guest address", hashlib.sha256).digest()
        for secret in secrets_in_use
    ]


def address_keys(email: str) -> list[str]:
    """The keyed hashes of an address (normalised as account addresses are): the first is stored."""
    normal = email_key_of(email).encode()
    return [hmac.new(key, normal, hashlib.sha256).hexdigest() for key in _keys()]


def _never_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="guest never send")


def never_token(intro: Introduction) -> str:
    """The token of the guest's "never send me introductions" link: the introduction, signed."""
    return _never_signer().dumps(intro.id)


def intro_for_never_token(token: str) -> Introduction:
    """The guest introduction behind a "never send me introductions" link, or LinkUnknown."""
    try:
        intro_id = _never_signer().loads(token)
    except BadSignature as error:
        raise LinkUnknown() from error
    intro = db.session.get(Introduction, intro_id) if isinstance(intro_id, int) else None
    if intro is None or not intro.is_guest:
        raise LinkUnknown()
    return intro


def email_guest(template: str, intro: Introduction, **context) -> None:
    """An email to the guest, in the chapter's language and time zone, with the one-click
    "never send me introductions" link in the body and in List-Unsubscribe (RFC 8058)."""
    never = absolute_url("introductions.never", token=never_token(intro))
    enqueue(
        template,
        to=intro.guest_email,
        language=intro.chapter.language,
        timezone=intro.chapter.timezone,
        headers=one_click_unsubscribe(never),
        intro=intro,
        guest=intro.guest,
        never_link=never,
        **context,
    )


def is_suppressed(email: str) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(GuestSuppression)
            .where(GuestSuppression.key.in_(address_keys(email)))
        )
    )


def suppress(intro: Introduction, *, now: datetime) -> None:
    """The guest of this introduction asked never to be sent introductions: their address goes on the
    list, as a hash (twice is once)."""
    try:
        with db.session.begin_nested():
            db.session.add(GuestSuppression(key=intro.guest_key, created_at=now))
            db.session.flush()
    except IntegrityError:
        pass  # already on the list


def erase_expired_guests(now: datetime) -> int:
    """Erase each closed guest introduction's name, address and what the guest added, once the chapter's
    `guest_retention_days` have passed since it closed (completed or otherwise). Counts, the address key
    and the ledger stay. Returns how many introductions were erased."""
    days = func.coalesce(ChapterPolicy.guest_retention_days, POLICY_SETTINGS["guest_retention_days"][0])
    closed_at = func.coalesce(Introduction.closed_at, Introduction.completed_at)
    due = db.session.scalars(
        select(Introduction.id)
        .outerjoin(ChapterPolicy, ChapterPolicy.chapter_id == Introduction.chapter_id)
        .where(
            Introduction.guest_key.is_not(None),
            Introduction.guest_erased_at.is_(None),
            Introduction.state != IntroState.PENDING,
            seconds_between(closed_at, literal(now, UTCDateTime)) >= days * 86400,
        )
        .order_by(Introduction.id)
        .limit(ERASE_PER_RUN)
    ).all()
    if not due:
        return 0
    erased = db.session.execute(
        update(Introduction)
        .where(Introduction.id.in_(due), Introduction.guest_erased_at.is_(None))
        .values(
            guest_name=None,
            guest_email=None,
            guest_about=None,
            guest_phone=None,
            guest_company=None,
            guest_erased_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return erased.rowcount
