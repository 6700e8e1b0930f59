"""Rate limits on views, checked only on the requests they apply to: the limiter checks none by itself."""

import functools

from ..extensions import limiter

# The limiter is built with auto_check=False (extensions.py): its check on every request was work for
# nothing on every page but a few forms and the API. A view's limits are checked where `limit`
# decorates it; the API's by its blueprint, before the token is (web/reports/views.py).

# Set on a view whose limits are checked already: the outer decorators of a stack only add theirs.
CHECKED = "checks_its_rate_limits"


def limit(limit_value, **options):
    """`limiter.limit(limit_value, **options)` for a view, checked when the view is called: all the
    view's limits at once, however many `limit` decorators it stacks, where the innermost one stands."""
    add_limit = limiter.limit(limit_value, **options)

    def decorate(view):
        limited = add_limit(view)  # kept under the view's name; with auto_check off it checks nothing
        if getattr(view, CHECKED, False):
            return limited

        @functools.wraps(view)
        def checked(*args, **kwargs):
            limiter.check()
            return limited(*args, **kwargs)

        setattr(checked, CHECKED, True)
        return checked

    return decorate
