"""Pages for the member's own data, on the accounts blueprint: change the email address (and undo
the change), export everything, delete the account."""

import json

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from ...accounts import email_change, two_factor
from ...accounts.models import LinkPurpose, Member
from ...accounts.services import open_link
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...privacy import erasure, export
from ..limits import limit
from ..refusals import Refusal
from .forms import ConfirmForm, DeleteAccountForm, EmailChangeForm
from .views import bp, start_session

# A signed-in session that guesses the password on these forms is held back like a login would be.
PASSWORD_ATTEMPTS = limit(
    "10 per hour",
    key_func=lambda: f"password-again:{current_user.id}",
    methods=["POST"],
    error_message=_l("Too many attempts with your password. Wait an hour and try again."),
)


def _status(form) -> int:
    return 200 if not form.errors and not form.form_errors else 422


def _keep_signed_in(member: Member) -> None:
    """A change that ended every session starts this browser's again, if it is the member's own."""
    if current_user.is_authenticated and current_user.id == member.id:
        start_session(member)


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
@PASSWORD_ATTEMPTS
def change_email():
    form = EmailChangeForm()
    if form.validate_on_submit():
        with Refusal(form) as refused:
            email_change.request_change(current_user, new_email=form.email.data, password=form.password.data)
        if not refused:
            return render_template("accounts/email_change_sent.html", email=form.email.data.strip())
    pending = email_change.pending_change(current_user)
    return render_template("accounts/email_change.html", form=form, pending=pending), _status(form)


def _link_page(token: str, purpose: LinkPurpose, template: str, act, told):
    """An email link: GET (and HEAD: mail scanners) only shows the address and a button; POST acts,
    and the member is `told` what happened."""
    form = ConfirmForm()
    if request.method != "POST":
        link = open_link(token, purpose)
        return render_template(template, form=form, email=link.email)
    if not form.validate_on_submit():
        return render_template(template, form=form, email=None), 400
    member = act(token)
    _keep_signed_in(member)
    flash(told(member), "success")
    return redirect(url_for("accounts.profile" if current_user.is_authenticated else "accounts.login"))


@bp.route("/settings/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    return _link_page(
        token,
        LinkPurpose.CHANGE_EMAIL,
        "accounts/email_change_confirm.html",
        email_change.confirm_change,
        lambda member: _(
            "Your address is now %(email)s. Your other sessions are signed out.", email=member.email
        ),
    )


@bp.route("/settings/email/undo/<token>", methods=["GET", "POST"])
def undo_email_change(token: str):
    return _link_page(
        token,
        LinkPurpose.UNDO_EMAIL_CHANGE,
        "accounts/email_change_undo.html",
        email_change.undo_change,
        lambda member: _(
            "Your address is %(email)s again, and every other session is signed out. If you did not ask "
            "for the change, change your password now.",
            email=member.email,
        ),
    )


@bp.route("/settings/export", methods=["GET", "POST"])
@login_required
def export_data():
    """GET shows the page; the button's POST answers with the file (it changes nothing)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("accounts/export.html", form=form), 200 if request.method == "GET" else 400
    response = current_app.response_class(
        json.dumps(export.export(current_user), indent=2, ensure_ascii=False), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="referral-hub-export.json"'
    return response


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required
@PASSWORD_ATTEMPTS
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        with Refusal(form) as refused:
            erasure.erase(
                current_user,
                password=form.password.data,
                code=form.code.data or "",
                address=get_remote_address(),
            )
        if not refused:
            logout_user()
            session.clear()
            return render_template("accounts/deleted.html")
    return (
        render_template("accounts/delete.html", form=form, two_factor_on=two_factor.is_on(current_user)),
        _status(form),
    )
