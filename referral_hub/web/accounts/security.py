"""Account security pages: the sign-in code step, two-factor set-up, and the list of sessions."""

from datetime import datetime

import segno
from flask import abort, flash, g, redirect, render_template, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from markupsafe import Markup

from ...accounts import services, sessions, two_factor
from ...accounts.models import Member
from ...chapters.services import TwoFactorRequired
from ...clock import utcnow
from ...extensions import db
from ...i18n import gettext as _
from ...i18n import ngettext
from ..http import id_from
from ..limits import limit
from ..refusals import Refusal
from .forms import CodeForm, ConfirmForm
from .views import PENDING_SIGN_IN, TOO_MANY_FROM_ADDRESS, _address_limit, bp, start_session


def _pending_member() -> Member | None:
    """The member whose password was right, while the marker is fresh; None otherwise."""
    pending = session.get(PENDING_SIGN_IN)
    if not isinstance(pending, dict) or not isinstance(pending.get("until"), int):
        return None
    member_id = id_from(pending.get("member"))
    if member_id is None or pending["until"] < utcnow().timestamp():
        return None
    return db.session.get(Member, member_id)


@bp.route("/login/code", methods=["GET", "POST"])
@limit(_address_limit, methods=["POST"], error_message=TOO_MANY_FROM_ADDRESS)
def login_code():
    member = _pending_member()
    if member is None:
        session.pop(PENDING_SIGN_IN, None)
        flash(_("Log in again: the code step starts after your password, and waits 10 minutes."), "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        with Refusal(form, "code") as refused:
            two_factor.second_step(member, form.code.data, address=get_remote_address())
        if not refused:
            next_page = session[PENDING_SIGN_IN]["next"]
            start_session(member)  # clears the marker with the rest of the session
            return redirect(next_page)
        return render_template("accounts/login_code.html", form=form), refused.error.status
    return render_template("accounts/login_code.html", form=form), 200 if not form.errors else 422


# Two-factor set-up ----------------------------------------------------------------------------


def _qr_code(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code, drawn here: no outside service sees the secret."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=_("QR code for your authenticator app"))
    return Markup(svg)  # noqa: S704  # nosec B704: segno draws the URI as SVG paths, never as text


def _two_factor_page(form: CodeForm | None = None, *, recovery_codes=None, status: int = 200):
    state = two_factor.state_of(current_user)
    setup = None
    if state is not None and not state.is_on:
        secret, uri = two_factor.provisioning(current_user, state)
        setup = {"secret": secret, "qr": _qr_code(uri)}
    return render_template(
        "accounts/two_factor.html",
        state=state,
        setup=setup,
        form=form or CodeForm(),
        confirm_form=ConfirmForm(),
        recovery_codes=recovery_codes,
        codes_left=two_factor.recovery_codes_left(current_user) if state and state.is_on else None,
    ), status


@bp.get("/settings/two-factor")
@login_required
def two_factor_settings():
    return _two_factor_page()


@bp.post("/settings/two-factor/setup")
@login_required
def begin_two_factor():
    if not ConfirmForm().validate_on_submit():
        return _two_factor_page(status=400)
    with Refusal() as refused:
        two_factor.begin_setup(current_user)
    if not refused:
        flash(_("Add the key to your authenticator app, then type the code it shows."), "info")
    return redirect(url_for("accounts.two_factor_settings"))


@bp.post("/settings/two-factor/confirm")
@login_required
def confirm_two_factor():
    form = CodeForm()
    if form.validate_on_submit():
        with Refusal(form, "code") as refused:
            codes = two_factor.confirm_setup(current_user, form.code.data)
        if not refused:
            # Rendered, not redirected: the recovery codes are shown once and never stored in clear.
            return _two_factor_page(recovery_codes=codes)
    return _two_factor_page(form, status=422)


@bp.post("/settings/two-factor/off")
@limit(_address_limit, error_message=TOO_MANY_FROM_ADDRESS)
@login_required
def turn_off_two_factor():
    form = CodeForm()
    if form.validate_on_submit():
        with Refusal(form, "code") as refused:
            two_factor.turn_off(current_user, form.code.data, address=get_remote_address())
        if not refused:
            flash(_("Two-factor sign-in is off: your password alone signs you in."), "success")
            return redirect(url_for("accounts.two_factor_settings"))
        return _two_factor_page(form, status=refused.error.status)
    return _two_factor_page(form, status=422)


@bp.app_errorhandler(TwoFactorRequired)
def two_factor_required(error: TwoFactorRequired):
    return render_template("accounts/two_factor_required.html", message=error.message), error.status


# Sessions -------------------------------------------------------------------------------------


def time_ago(moment: datetime, now: datetime) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "2 days ago": roughly, as a last use is known."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < sessions.SEEN_RESOLUTION.total_seconds():
        return _("just now")
    if seconds >= 86400:
        return ngettext("%(num)d day ago", "%(num)d days ago", seconds // 86400)
    if seconds >= 3600:
        return ngettext("%(num)d hour ago", "%(num)d hours ago", seconds // 3600)
    return ngettext("%(num)d minute ago", "%(num)d minutes ago", seconds // 60)


@bp.get("/settings/sessions")
@login_required
def session_list():
    return render_template(
        "accounts/sessions.html",
        sessions=sessions.live_sessions(current_user),
        this_session=g.member_session_id,
        now=utcnow(),
        time_ago=time_ago,
    )


@bp.post("/settings/sessions/<session_id>/end")
@login_required
def end_session(session_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sessions.end_session(current_user, session_id)
    if session_id == g.member_session_id:
        logout_user()
        session.clear()
        flash(_("You are logged out."), "info")
        return redirect(url_for("accounts.login"))
    flash(_("That session is signed out."), "success")
    return redirect(url_for("accounts.session_list"))


@bp.post("/settings/sessions/end-others")
@login_required
def end_other_sessions():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.end_sessions(current_user, keep=g.member_session_id)
    flash(_("Every other session is signed out."), "success")
    return redirect(url_for("accounts.session_list"))
