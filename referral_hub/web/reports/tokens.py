"""API tokens: the page where an organizer creates (shown once) and revokes the tokens the API reads."""

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ...chapters.services import TwoFactorRequired
from ...i18n import gettext as _
from ...reports import access
from ..accounts.forms import ConfirmForm
from ..confirmation import confirmation, confirmed
from ..refusals import Refusal
from .forms import TokenForm

bp = Blueprint("reports", __name__)


def _tokens_page(form: TokenForm | None = None, *, secret: str | None = None, status: int = 200):
    organized = access.organized_chapters(current_user)
    form = form or TokenForm()
    form.chapter.choices = [(chapter.slug, chapter.name) for chapter in organized]
    return render_template(
        "reports/tokens.html",
        form=form,
        organized=organized,
        tokens=access.tokens_of(current_user),
        secret=secret,
        confirm_form=ConfirmForm(),
    ), status


@bp.get("/settings/tokens")
@login_required
def tokens():
    return _tokens_page()


@bp.post("/settings/tokens")
@login_required
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        with Refusal(form, "chapter") as refused:
            _token, secret = access.create_token(
                current_user, name=form.name.data, chapter_slug=form.chapter.data
            )
        if isinstance(refused.error, TwoFactorRequired):
            raise refused.error  # its own page, which links to the two-factor set-up
        if not refused:
            # Rendered, not redirected: the secret is shown once and never stored, not even in the
            # session; like every signed-in page it is private, no-store (referral_hub/http.py).
            return _tokens_page(secret=secret)
    return _tokens_page(form, status=422)


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not confirmed():
        token = access.token_of(current_user, token_id)
        return confirmation(
            title=_("Revoke the token “%(name)s”?", name=token.name),
            consequence=_(
                "Every script that uses it gets 401 from the next request on. "
                "A revoked token cannot be restored; you can create a new one."
            ),
            button=_("Revoke the token"),
            cancel_url=url_for("reports.tokens"),
        )
    token = access.revoke_token(current_user, token_id)
    flash(_("The token “%(name)s” is revoked; it no longer reads anything.", name=token.name), "success")
    return redirect(url_for("reports.tokens"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
