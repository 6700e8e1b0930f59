"""API tokens: creating and revoking them, and deciding on each API request whose token it is."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, or_, select, update

from ..accounts.models import Member
from ..chapters import services as chapters
from ..chapters.models import Chapter, Membership, MembershipStatus, Role
from ..clock import utcnow
from ..errors import DomainError, Forbidden, NotFound, Unauthorized
from ..extensions import db
from ..i18n import gettext as _
from ..tokens import digest
from .models import NAME_LENGTH, TOKEN_PREFIX, ApiToken

# Recording every use would write on every read; to the minute is enough to tell a live token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(DomainError):
    code = "token_refused"


def new_token_secret() -> str:
    """`rh_` and 43 URL-safe characters: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(member: Member, *, name: str, chapter_slug: str) -> tuple[ApiToken, str]:
    """A token for a chapter the member organizes; returns it with its secret, which is never stored."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenRefused(_("Give the token a name, such as the tool that will use it."))
    if len(name) > NAME_LENGTH:
        raise TokenRefused(_("Keep the name to %(num)d characters.", num=NAME_LENGTH))
    try:
        chapter = chapters.organizer_of(member, chapter_slug or "").chapter
    except chapters.TwoFactorRequired:
        raise
    except (NotFound, Forbidden) as error:
        raise TokenRefused(_("Choose a chapter that you organize: tokens read its reports.")) from error
    secret = new_token_secret()
    token = ApiToken(
        member=member, chapter=chapter, name=name, token_hash=digest(secret), created_at=utcnow()
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def token_of(member: Member, token_id: int) -> ApiToken:
    """One of the member's own tokens; NotFound for anyone else's."""
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.member_id == member.id)
    )
    if token is None:
        raise NotFound(_("You have no such token."))
    return token


def revoke_token(member: Member, token_id: int) -> ApiToken:
    """Revoke one of the member's own tokens; revoking twice keeps the first time."""
    token = token_of(member, token_id)
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(token)
    return token


def tokens_of(member: Member) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.member_id == member.id)
            .options(db.joinedload(ApiToken.chapter))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def organized_chapters(member: Member) -> list[Chapter]:
    return list(
        db.session.scalars(
            select(Chapter)
            .join(Membership, Membership.chapter_id == Chapter.id)
            .where(
                Membership.member_id == member.id,
                Membership.status == MembershipStatus.ACTIVE,
                Membership.role == Role.ORGANIZER,
            )
            .order_by(Chapter.name, Chapter.id)
        )
    )


# Each API request ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiAccess:
    """What one API request may read: its token's chapter."""

    token_id: int
    chapter_id: int
    chapter_slug: str
    chapter_name: str
    # The chapter's ISO 4217 code beside every amount (None: plain numbers), and its zone.
    chapter_currency: str | None = None
    chapter_timezone: str = "UTC"

    def chapter(self, slug: str) -> "ApiAccess":
        # One answer for a chapter that does not exist and one the token does not cover: the API
        # never tells a token about chapters it cannot read.
        if slug != self.chapter_slug:
            raise NotFound("This token reads no chapter with that slug.")
        return self


def authenticate(secret: str) -> ApiAccess:
    """The access an API request's token secret grants, in two statements whatever the data.

    An unknown or revoked token is 401 (the web layer answers a missing one); a token whose member
    no longer organizes its chapter is 403. Use is recorded first: a write as the first statement
    lets SQLite take its write lock up front instead of failing to upgrade a read.
    """
    token_hash = digest(secret)
    now = utcnow()
    db.session.execute(
        RECORD_USE, {"hash": token_hash, "used_at": now, "used_before": now - LAST_USED_RESOLUTION}
    )
    row = db.session.execute(ACCESS, {"token_hash": token_hash}).one_or_none()
    if row is None:
        raise Unauthorized("This API token is not valid: it is unknown or was revoked.")
    token_id, chapter_id, slug, chapter_name, organizer_membership, currency, timezone = row
    if organizer_membership is None:
        raise Forbidden(
            f"This token's member no longer organizes {chapter_name}, so the token reads nothing. "
            "An organizer of the chapter can create a new one."
        )
    return ApiAccess(token_id, chapter_id, slug, chapter_name, currency, timezone)


# Every API request runs both, so they are built once, on the tables: a statement of no ORM entity
# skips the ORM's steps, and its cache key, kept on it, is not made again.
TOKENS, CHAPTERS, MEMBERSHIPS = ApiToken.__table__, Chapter.__table__, Membership.__table__
RECORD_USE = (
    update(TOKENS)
    .where(
        TOKENS.c.token_hash == bindparam("hash"),
        TOKENS.c.revoked_at.is_(None),
        or_(TOKENS.c.last_used_at.is_(None), TOKENS.c.last_used_at < bindparam("used_before")),
    )
    .values(last_used_at=bindparam("used_at", type_=TOKENS.c.last_used_at.type))
)
ACCESS = (
    select(
        TOKENS.c.id,
        CHAPTERS.c.id,
        CHAPTERS.c.slug,
        CHAPTERS.c.name,
        MEMBERSHIPS.c.id,
        CHAPTERS.c.currency,
        CHAPTERS.c.timezone,
    )
    .join_from(TOKENS, CHAPTERS, CHAPTERS.c.id == TOKENS.c.chapter_id)
    .outerjoin(
        MEMBERSHIPS,
        and_(
            MEMBERSHIPS.c.chapter_id == TOKENS.c.chapter_id,
            MEMBERSHIPS.c.member_id == TOKENS.c.member_id,
            MEMBERSHIPS.c.status == MembershipStatus.ACTIVE,
            MEMBERSHIPS.c.role == Role.ORGANIZER,
        ),
    )
    .where(TOKENS.c.token_hash == bindparam("token_hash"), TOKENS.c.revoked_at.is_(None))
)
