"""Secrets for email links: random, stored only as a hash."""

import hashlib
import secrets

from .i18n import lazy_gettext as _l


def new_secret() -> tuple[str, str]:
    """Return (secret for the link, hash to store). 32 bytes = 256 random bits."""
    secret = secrets.token_urlsafe(32)
    return secret, digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LinkError(Exception):
    """An email link that cannot be used. Subclasses say why (`title`, `message`: `_l("…")`); each gets
    its own page."""

    status = 400
    title = _l("This link cannot be used")
    message = _l("This link cannot be used.")


class LinkUnknown(LinkError):
    status = 404
    title = _l("Link not recognised")
    message = _l(
        "We do not recognise this link. It may have been copied incompletely; open it again from the email."
    )


class LinkUsed(LinkError):
    status = 410
    title = _l("Link already used")
    message = _l("This link has already been used. Each link in our emails works once.")


class LinkExpired(LinkError):
    status = 410
    title = _l("Link expired")
    message = _l("This link has expired. Ask for a new one and use it within its time limit.")
