"""Secrets for email links: random, stored only as a hash."""

import hashlib
import secrets


def new_secret() -> tuple[str, str]:
    """Return (secret for the link, hash to store). 32 bytes = 256 random bits."""
    secret = secrets.token_urlsafe(32)
    return secret, digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LinkError(Exception):
    """An email link that cannot be used. Subclasses say why; each gets its own page."""

    status = 400
    title = "This link cannot be used"
    message = "This link cannot be used."


class LinkUnknown(LinkError):
    status = 404
    title = "Link not recognised"
    message = (
        "We do not recognise this link. It may have been copied incompletely; open it again from the email."
    )


class LinkUsed(LinkError):
    status = 410
    title = "Link already used"
    message = "This link has already been used. Each link in our emails works once."


class LinkExpired(LinkError):
    status = 410
    title = "Link expired"
    message = "This link has expired. Ask for a new one and use it within its time limit."
