"""One unit of work per request: what a view's services wrote commits once when the view answers
with success (a 1xx, 2xx or 3xx), and rolls back when it answers with an error, raises, or a refusal
undoes it (refusals.py)."""

import functools

from flask import Flask, current_app

from ..extensions import db


def undo() -> None:
    """Roll back what the request wrote so far: a service refused and may have flushed half a change."""
    db.session.rollback()


def _committing(view):
    @functools.wraps(view)
    def run(*args, **kwargs):
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception:
            undo()
            raise
        if response.status_code < 400:
            db.session.commit()
        else:
            undo()
        return response

    return run


def init_app(app: Flask) -> None:
    """Wrap every view registered so far: call it after the blueprints."""
    for endpoint, view in app.view_functions.items():
        app.view_functions[endpoint] = _committing(view)
