"""Failed logins per account: the client addresses that failed are held back, not the account's owner.

`RATELIMIT_LOGIN_PER_ACCOUNT` (10 per 15 minutes) counts the failed logins of an account from every
address. Once it is spent, an address that has failed for the account within the window is held
back, the right password included, so guessing stops. An address with no failure for the account
(the owner at home, while someone elsewhere guesses) still gets in with the right password: an
attacker with one address, or a few, cannot lock the owner out. Each fresh address the attacker
brings buys one more guess, so all addresses together stop at CEILING_FACTOR times the limit;
past that the password alone waits for the window to pass, and the emailed sign-in link still works.
"""

from flask import current_app
from limits import RateLimitItem, parse

from ..extensions import limiter

CEILING_FACTOR = 10
_SCOPE = "login-failures"


def _limits() -> tuple[RateLimitItem, RateLimitItem]:
    """The account's limit, and the ceiling that holds back addresses with no failure too."""
    limit = parse(current_app.config["RATELIMIT_LOGIN_PER_ACCOUNT"])
    ceiling = type(limit)(limit.amount * CEILING_FACTOR, limit.multiples, namespace="LOGIN-CEILING")
    return limit, ceiling


def held_back(account_key: str, address: str) -> bool:
    limit, ceiling = _limits()
    strategy = limiter.limiter
    failed_here = strategy.get_window_stats(limit, _SCOPE, account_key, address).remaining < limit.amount
    if failed_here:
        return not strategy.test(limit, _SCOPE, account_key)
    return not strategy.test(ceiling, _SCOPE, account_key)


def record_failure(account_key: str, address: str) -> None:
    limit, ceiling = _limits()
    strategy = limiter.limiter
    strategy.hit(limit, _SCOPE, account_key, address)
    strategy.hit(limit, _SCOPE, account_key)
    strategy.hit(ceiling, _SCOPE, account_key)
