"""Destructive actions ask first: a POST without `confirm=yes` shows what will happen and acts on nothing."""

from flask import render_template, request

# Fields the confirmation page never copies back: the token is rendered afresh, `confirm` is its own.
_NOT_REPEATED = {"csrf_token", "confirm"}


def confirmed() -> bool:
    """True when the POST carries the explicit second step, `confirm=yes`."""
    return request.form.get("confirm") == "yes"


def confirmation(*, title: str, consequence: str, button: str, cancel_url: str, undo: str | None = None):
    """The page asking whether to go on: what will happen, and a form that re-POSTs the same fields
    to the same URL with `confirm=yes`. Status 200; nothing is written."""
    fields = [(name, value) for name, value in request.form.items(multi=True) if name not in _NOT_REPEATED]
    return render_template(
        "confirm.html",
        title=title,
        consequence=consequence,
        undo=undo,
        button=button,
        action=request.path,
        fields=fields,
        cancel_url=cancel_url,
    )
