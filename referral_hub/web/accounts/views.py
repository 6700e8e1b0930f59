"""Pages for signing up, verifying, logging in and out, passwords and the member's own profile."""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import OperationalError

from ...accounts import photos, services, sessions, two_factor
from ...accounts.models import LinkPurpose, Member, email_key_of
from ...clock import utcnow
from ...database import writing
from ...extensions import db, login_manager
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from .. import navigation
from ..http import id_from
from ..limits import limit
from ..refusals import Refusal
from .forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    PhotoForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)

bp = Blueprint("accounts", __name__)


# The session key that says "the password (or a sign-in link) was right for this member, until then":
# not signed in yet, the authenticator code comes next (security.py's code page).
PENDING_SIGN_IN = "two_factor_pending"
PENDING_LIFETIME = timedelta(minutes=10)


@login_manager.user_loader
def load_member(login_id: str) -> Member | None:
    """The member of a live session: one query by the session's primary key, joined with the member (and
    the header's rows, for a page: navigation.signed_in_with_header)."""
    raw_id, _, secret = login_id.partition(":")
    member_id = id_from(raw_id)
    if member_id is None or not secret:
        return None
    # A request that shows a page and writes nothing first reads the page's header with the member.
    if has_request_context() and request.method in ("GET", "HEAD"):
        found = navigation.signed_in_with_header(member_id, secret)
    else:
        found = sessions.signed_in(member_id, secret)
    if found is None:
        return None
    g.member_session_id = found.session_id
    if sessions.is_stale(found.last_seen_at):
        g.record_session_use = found.session_id
    return found.member


def _record_session_use(response):
    """Write the session's last use after the request's own unit of work (at most once per
    sessions.SEEN_RESOLUTION): in a transaction of its own that takes SQLite's write lock up front, so
    a page view that only read never has to upgrade its read snapshot."""
    if session_id := g.pop("record_session_use", None):
        db.session.rollback()  # ends the request's read snapshot; its writes are committed or undone already
        try:
            with writing():
                sessions.record_use(session_id)
                db.session.commit()
        except OperationalError as error:  # bookkeeping only: the page is answered already
            db.session.rollback()
            current_app.logger.warning("session use not recorded: %s", error.orig)
    return response


def safe_next(default: str) -> str:
    """`?next=` only when it is a path on this site; anything else goes to `default`."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not parts.scheme
        and not parts.netloc
        and "\\" not in target
    ):
        return target
    return default


def start_session(member: Member) -> None:
    """A fresh session on every login, so a planted session id is worthless; a row in member_sessions
    stands for it (the sessions page lists it, and ending it ends the cookie)."""
    session.clear()
    g.member_session_id = sessions.start(
        member, user_agent=request.user_agent.string, address=get_remote_address() or ""
    ).id
    login_user(member)


def sign_in(member: Member, next_page: str):
    """Sign the member in after a right password or sign-in link, or, with two-factor on, send them to
    the code page holding only a marker (who, until when): they are not signed in until the code."""
    if not two_factor.is_on(member):
        start_session(member)
        return redirect(next_page)
    session.clear()
    session[PENDING_SIGN_IN] = {
        "member": member.id,
        "until": int((utcnow() + PENDING_LIFETIME).timestamp()),
        "next": next_page,
    }
    return redirect(url_for("accounts.login_code"))


def _address_limit():
    return current_app.config["RATELIMIT_AUTH_PER_ADDRESS"]


TOO_MANY_FROM_ADDRESS = _l("Too many attempts from your network. Wait a minute and try again.")


def _account_key(action: str):
    """A rate-limit key per email address typed into the form, whoever sends it."""
    return lambda: f"{action}:" + email_key_of(request.form.get("email", ""))


def _mailed_link_limit(action: str):
    """The limit on asking for mailed links (reset, sign-in) per address typed, whoever asks."""
    return limit(
        lambda: current_app.config["RATELIMIT_RESET_PER_ACCOUNT"],
        key_func=_account_key(action),
        methods=["POST"],
        error_message=_l("Too many requests for this address. Check your inbox, or try again in an hour."),
    )


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("chapters.dashboard"))
    return render_template("accounts/home.html")


@bp.route("/register", methods=["GET", "POST"])
@limit(_address_limit, methods=["POST"], error_message=TOO_MANY_FROM_ADDRESS)
@limit(
    lambda: current_app.config["RATELIMIT_REGISTER_PER_ACCOUNT"],
    key_func=_account_key("register"),
    methods=["POST"],
    error_message=_l("Too many attempts to register this address. Wait an hour, or reset its password."),
)
def register():
    """A new address and one that has an account get the same page: only the mailbox learns which."""
    form = RegisterForm()
    if form.validate_on_submit():
        with Refusal(form) as refused:
            services.register(
                display_name=form.display_name.data, email=form.email.data, password=form.password.data
            )
        if not refused:
            return render_template(
                "accounts/registered.html",
                display_name=form.display_name.data.strip(),
                email=form.email.data.strip(),
                next=safe_next(""),
            )
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
@limit(_address_limit, methods=["POST"], error_message=TOO_MANY_FROM_ADDRESS)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with Refusal(form) as refused:
            member = services.log_in(form.email.data, form.password.data, address=get_remote_address())
        if refused:
            throttled = isinstance(refused.error, services.AccountThrottled)
            return render_template(
                "accounts/login.html", form=form, throttled=throttled
            ), refused.error.status
        return sign_in(member, safe_next(url_for("chapters.dashboard")))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 401


def _mailed_link_page(ask_for_link, form_page: str, sent_page: str):
    """A page that asks for a link by email: the answer is the same whether the address has an
    account or not (the service does the same work either way)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        ask_for_link(form.email.data)
        return render_template(sent_page, email=form.email.data)
    return render_template(form_page, form=form), 200 if not form.errors else 422


@bp.route("/login/link", methods=["GET", "POST"])
@limit(_address_limit, methods=["POST"], error_message=TOO_MANY_FROM_ADDRESS)
@_mailed_link_limit("sign-in")
def ask_for_sign_in_link():
    return _mailed_link_page(
        services.request_sign_in_link, "accounts/sign_in_link.html", "accounts/sign_in_link_sent.html"
    )


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def sign_in_with_link(token: str):
    form = ConfirmForm()
    if request.method != "POST":  # GET and HEAD (mail scanners) only look
        link = services.open_link(token, LinkPurpose.SIGN_IN)
        return render_template("accounts/sign_in.html", form=form, member=link.member)
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form, member=None), 400
    member = services.sign_in_with_link(token)
    return sign_in(member, url_for("chapters.dashboard"))


@bp.post("/logout")
@login_required
def logout():
    sessions.end_session(current_user, g.member_session_id)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    form = ConfirmForm()
    if request.method != "POST":  # GET and HEAD (mail scanners) only look
        link = services.open_link(token, LinkPurpose.VERIFY_EMAIL)
        return render_template("accounts/verify.html", form=form, member=link.member)
    if not form.validate_on_submit():
        return render_template("accounts/verify.html", form=form, member=None), 400
    member = services.verify_email(token)
    flash(_("Thank you: %(email)s is verified.", email=member.email), "success")
    return redirect(
        url_for("chapters.dashboard") if current_user.is_authenticated else url_for("accounts.login")
    )


@bp.post("/verify/resend")
@login_required
@limit("5 per hour", key_func=lambda: f"verify:{current_user.id}")
def resend_verification():
    if current_user.is_verified:
        flash(_("Your address is already verified."), "info")
    else:
        services.send_verification(current_user)
        flash(_("We sent a new link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("chapters.dashboard"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limit(_address_limit, methods=["POST"], error_message=TOO_MANY_FROM_ADDRESS)
@_mailed_link_limit("reset")
def forgot_password():
    return _mailed_link_page(
        services.request_password_reset, "accounts/forgot.html", "accounts/reset_sent.html"
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    services.open_link(token, LinkPurpose.RESET_PASSWORD)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        member = services.reset_password(token, form.password.data)
        response = sign_in(member, url_for("chapters.dashboard"))
        flash(_("Your password is changed, and other sessions are logged out."), "success")
        return response
    return render_template("accounts/reset.html", form=form), 200 if not form.errors else 422


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with Refusal(form, "current_password") as refused:
            services.change_password(
                current_user, current=form.current_password.data, new=form.new_password.data
            )
        if not refused:
            # The member, not the `current_user` proxy: login_user stores what it is given as the user.
            start_session(current_user._get_current_object())
            flash(_("Your password is changed, and your other sessions are logged out."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form), 200 if not form.errors else 422


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        with Refusal(form) as refused:
            services.update_profile(
                current_user,
                weekly_digest=form.weekly_digest.data,
                # A form posted without them leaves the language and zone as they are.
                language=form.language.data if "language" in request.form else None,
                timezone=form.timezone.data if "timezone" in request.form else None,
                **{name: form[name].data for name in services.PROFILE_FIELDS},
            )
        if not refused:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/profile.html", form=form, photo_form=PhotoForm()
    ), 200 if not form.errors else 422


# Room for the multipart wrapping around a photo of the largest size allowed.
PHOTO_REQUEST_BYTES = photos.MAX_PHOTO_BYTES + 64 * 1024
# A larger upload is read to its end (up to this much) before the refusal is sent: a server that
# answers before the body is read closes the connection, and the browser shows a reset, not the page.
DRAINED_BYTES = 64 * 1024 * 1024


def _photo_refused(form: PhotoForm, status: int):
    return render_template(
        "accounts/profile.html", form=ProfileForm(obj=current_user), photo_form=form
    ), status


@bp.post("/profile/photo")
@login_required
def upload_photo():
    if (request.content_length or 0) > PHOTO_REQUEST_BYTES:
        remaining = min(request.content_length, DRAINED_BYTES)
        while remaining > 0 and (chunk := request.stream.read(min(remaining, 1 << 16))):
            remaining -= len(chunk)
        form = PhotoForm(formdata=None)
        form.photo.errors = [photos.TOO_LARGE]
        return _photo_refused(form, 413)
    request.max_content_length = PHOTO_REQUEST_BYTES
    form = PhotoForm()
    if form.validate_on_submit():
        with Refusal(form, "photo") as refused:
            photos.set_photo(current_user, form.photo.data.read(photos.MAX_PHOTO_BYTES + 1))
        if not refused:
            flash(_("Your photo is saved. Members of your chapters see it next to your name."), "success")
            return redirect(url_for("accounts.profile"))
    return _photo_refused(form, 422)


@bp.post("/profile/photo/remove")
@login_required
def remove_photo():
    if not ConfirmForm().validate_on_submit():
        flash(_("Your form expired. Please try again."), "error")
    else:
        photos.remove_photo(current_user)
        flash(_("Your photo is removed: members see your initials instead."), "info")
    return redirect(url_for("accounts.profile"))


def init_app(app: Flask) -> None:
    from . import security  # noqa: F401 - two-factor and sessions pages, on this blueprint

    app.after_request(_record_session_use)
    app.add_template_global(photos.initials)
    app.add_template_global(photos.avatar_shade)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.localize_callback = str  # flashed in the request's language, as a plain string
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)
