"""The API's credential as a request sends it: the token in its Authorization header."""

from ...errors import Unauthorized
from ..http import bearer_token


def bearer_secret() -> str:
    """The token the request's Authorization header sends (`Bearer <token>`, the scheme in any case):
    the one reading of it, for the access check and the per-token rate limit alike."""
    secret = bearer_token()
    if secret is None:
        raise Unauthorized(
            "Send an API token: Authorization: Bearer <token>. Create one at /settings/tokens."
        )
    return secret
