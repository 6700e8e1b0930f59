"""Relationship pages: one-to-ones, thank-you notes, nudges, asking a connector, connector requests,
the digest's unsubscribe link, and the panels other pages include (profile, dashboard, need)."""

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_login import current_user, login_required

from ...accounts.models import Member
from ...chapters.settings import home_chapter
from ...chapters.sharing import shares_chapter
from ...clock import utcnow
from ...errors import NotFound
from ...extensions import csrf, db
from ...i18n import gettext as _
from ...needs.models import Need
from ...relationships import connector_requests, connectors, digest, interactions, matching, nudges, strength
from ..accounts.forms import ConfirmForm
from ..http import id_from
from ..locale import show_chapter
from ..refusals import Refusal
from .forms import AskConnectorForm, OneToOneForm, ThanksForm

bp = Blueprint("relationships", __name__)


# Panels included in other domains' pages --------------------------------------------------------


def profile_panel(viewer: Member, member_id: int, **forms) -> dict:
    """What `chapters/member.html` shows: the member, how the viewer knows them, and who can
    introduce them. `forms` holds a refused form to show again with its message. Your own profile is
    always yours to see; a member the viewer shares no chapter with is not found: the member and the
    shared chapters are the panel's first read."""
    if viewer.id == member_id:
        return {"member": viewer, "acquaintance": None}
    asking = connectors.asking(viewer.id, member_id)
    if not asking.chapters:
        raise NotFound()
    member, chapters, now = asking.target, asking.chapters, utcnow()
    return {
        "member": member,
        "acquaintance": strength.acquaintance(viewer, member, now=now),
        "connectors": connectors.connectors_for(viewer, member, now=now),
        "open_asks": connector_requests.open_asks(viewer, member) if asking.waiting else [],
        "ask_chapters": [chapter for chapter, _cost in chapters],
        "ask_cost": chapters[0][1] if len(chapters) == 1 else None,
        # Shown empty, without a token field of their own: the page writes the request's token in each.
        "one_to_one_form": forms.get("one_to_one_form") or OneToOneForm(formdata=None, meta={"csrf": False}),
        "thanks_form": forms.get("thanks_form") or ThanksForm(formdata=None, meta={"csrf": False}),
        # The ask's fields are written by hand for each connector: its form only shows a refusal.
        "ask_form": forms.get("ask_form"),
        "labels": {"strong": strength.STRONG, "warm": strength.WARM, "fading": strength.FADING},
    }


def dashboard_panel(member: Member) -> dict:
    """What `chapters/dashboard.html` shows: nudges, matching needs, requests waiting for you."""
    now = utcnow()
    return {
        "nudges": nudges.keep_in_touch(member, now=now),
        "matching_needs": matching.needs_matching(member),
        "requests_waiting": connector_requests.requests_waiting_for(member, now=now),
    }


def need_panel(need: Need) -> dict:
    """What `needs/detail.html` shows: members whose profile matches the need."""
    return {"may_help": matching.members_who_may_help(need) if need.is_open else []}


# Acting from a member's profile ------------------------------------------------------------------


def _profile_member(member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None or member.id == current_user.id or not shares_chapter(current_user, member_id):
        raise NotFound()
    return member


def _profile_again(member_id: int, **forms):
    """The profile page again, with the refused form and its message (nothing was written)."""
    return render_template("chapters/member.html", **profile_panel(current_user, member_id, **forms)), 422


@bp.post("/members/<int:member_id>/one-to-ones")
@login_required
def log_one_to_one(member_id: int):
    form = OneToOneForm()
    if form.validate_on_submit():
        # The service checks that the two share a chapter; the profile is checked only to show it again.
        with Refusal(form) as refused:
            met = interactions.log_one_to_one(
                current_user, member_id, met_on=form.met_on.data, note=form.meeting_note.data
            )
        if not refused:
            flash(_("Your one-to-one with %(name)s is logged.", name=met.display_name), "success")
            return redirect(url_for("chapters.member_profile", member_id=member_id))
    return _profile_again(_profile_member(member_id).id, one_to_one_form=form)


def _introduction_id(form: ThanksForm) -> int | None:
    return id_from(form.introduction_id.data)


@bp.post("/members/<int:member_id>/thanks")
@login_required
def thank(member_id: int):
    member = _profile_member(member_id)
    form = ThanksForm()
    intro_id = _introduction_id(form)
    back = (
        url_for("introductions.detail", intro_id=intro_id)
        if intro_id
        else url_for("chapters.member_profile", member_id=member.id)
    )
    if form.validate_on_submit():
        with Refusal(form) as refused:
            interactions.send_thanks(
                current_user, member.id, note=form.thanks_note.data, introduction_id=intro_id
            )
        if not refused:
            flash(_("Your thank-you note is on its way to %(name)s.", name=member.display_name), "success")
            return redirect(back)
    if intro_id:  # sent from an introduction's page: back there, with the message
        flash(" ".join(form.form_errors or [e for errors in form.errors.values() for e in errors]), "error")
        return redirect(back)
    return _profile_again(member.id, thanks_form=form)


@bp.post("/members/<int:member_id>/ask")
@login_required
def ask(member_id: int):
    member = _profile_member(member_id)
    form = AskConnectorForm()
    if form.validate_on_submit():
        with Refusal(form) as refused:
            intro_request = connectors.ask(
                current_user,
                connector_id=form.connector_id.data,
                target_id=member.id,
                note=form.ask_note.data,
                chapter_slug=form.chapter.data or None,
            )
        if not refused:
            flash(
                _(
                    "We emailed %(name)s your request. If they decline, or do not act in time, you get "
                    "your credits back.",
                    name=intro_request.connector.display_name,
                ),
                "success",
            )
            return redirect(url_for("relationships.intro_request", request_id=intro_request.id))
    return _profile_again(member.id, ask_form=form)


# Keep in touch -----------------------------------------------------------------------------------


@bp.post("/nudges/<int:member_id>/<action>")
@login_required
def respond_to_nudge(member_id: int, action: str):
    if action not in ("snooze", "dismiss"):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "snooze":
        until = nudges.snooze(current_user, member_id)
        message = _("We will remind you again after %(day)s.", day=format_date(until, "long"))
    else:
        nudges.dismiss(current_user, member_id)
        message = _(
            "Dismissed. We will not remind you about this one again unless you meet and it lapses anew."
        )
    flash(message, "info")
    return redirect(url_for("chapters.dashboard"))


# Connector requests ------------------------------------------------------------------------------


@bp.get("/intro-requests")
@login_required
def intro_requests():
    made, received = connector_requests.requests_of(current_user)
    return render_template("relationships/requests.html", made=made, received=received)


@bp.get("/intro-requests/<int:request_id>")
@login_required
def intro_request(request_id: int):
    intro_request = connector_requests.request_for(current_user, request_id)
    return render_template(
        "relationships/request.html", intro_request=intro_request, confirm_form=ConfirmForm()
    )


@bp.post("/intro-requests/<int:request_id>/decline")
@login_required
def decline_request(request_id: int):
    intro_request = connector_requests.request_for(current_user, request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with Refusal() as refused:
        connector_requests.decline(intro_request, current_user)
    if not refused:
        flash(_("Declined. %(name)s gets their credits back.", name=intro_request.asker.display_name), "info")
    return redirect(url_for("relationships.intro_request", request_id=request_id))


# The digest's unsubscribe link -------------------------------------------------------------------


@bp.route("/digest/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: a one-click POST has no token or cookie; the link's secret is the proof
def unsubscribe(token: str):
    """No login needed. GET (and mail scanners' HEAD) only shows a button; the POST unsubscribes,
    the digest's List-Unsubscribe one-click POST included."""
    done = request.method == "POST"
    member = digest.unsubscribe(token) if done else digest.member_for_unsubscribe(token)
    if chapter := home_chapter(member):
        # Its reader may be signed out: their language, else their first chapter's; its zone.
        show_chapter(chapter, reader=member)
    return render_template("relationships/unsubscribe.html", member=member, form=ConfirmForm(), done=done)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
