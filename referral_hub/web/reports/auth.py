"""The API's credential as a request sends it: the token in its Authorization header."""

from flask import request

from ...errors import Unauthorized


def bearer_secret() -> str:
    """The token the request's Authorization header sends (`Bearer <token>`, the scheme in any case):
    the one reading of it, for the access check and the per-token rate limit alike."""
    scheme, _, secret = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "Send an API token: Authorization: Bearer <token>. Create one at /settings/tokens."
        )
    return secret.strip()
