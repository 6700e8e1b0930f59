"""Chapter pages: dashboard, chapter home, directory, profiles, joining, and organizer actions."""

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...accounts.services import find_by_email
from ...chapters import directory, services, settings
from ...chapters.models import MembershipStatus
from ...extensions import login_manager
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...i18n import ngettext
from ...introductions import queries as introductions
from ...ledger import posting
from ...needs.services import open_needs
from ..accounts.forms import ConfirmForm
from ..confirmation import confirmation, confirmed
from ..http import page_arg
from ..introductions.forms import OutcomeForm
from ..locale import show_chapter
from ..refusals import Refusal
from ..relationships.views import dashboard_panel, profile_panel
from . import report
from .dashboard import standing_of
from .forms import ChapterSettingsForm, InviteForm, JoinRequestForm

bp = Blueprint("chapters", __name__)
ROSTER_PAGE_ARG = "roster_page"
REQUESTS_PAGE_ARG = "requests_page"


@bp.before_request
def _members_only():
    # Every page here is for logged-in members; /join/<token> shows itself to visitors too.
    if request.endpoint != "chapters.join" and not current_user.is_authenticated:
        return login_manager.unauthorized()


@bp.get("/dashboard")
def dashboard():
    standing = standing_of(current_user)
    follow_through = introductions.follow_through(current_user)
    needs = open_needs(current_user)
    active = any(m.status is MembershipStatus.ACTIVE for m in standing.memberships)
    return render_template(
        "chapters/dashboard.html",
        memberships=standing.memberships,
        # The newcomer's main button is "Make an introduction" until they can ask.
        balances=standing.balances,
        need_costs=standing.need_costs,
        how_to_earn=posting.HOW_TO_EARN,
        waiting=follow_through.waiting,
        made=follow_through.made,
        completed=follow_through.completed,
        my_needs=needs.own,
        open_needs=needs.others,
        first_steps=standing.first_steps if active else None,
        # The forms of the sections drawn only: the outcome's beside a completed introduction that awaits
        # it, the verification link's for an unverified member.
        outcome_form=OutcomeForm(formdata=None)
        if any(row.awaits_outcome for row in follow_through.completed)
        else None,
        join_form=JoinRequestForm(),
        confirm_form=None if current_user.is_verified else ConfirmForm(),
        **dashboard_panel(current_user),
    )


@bp.get("/chapters/<slug>/members")
def members(slug: str):
    membership = services.membership_of(current_user, slug)
    query = request.args.get("q", "")
    page = directory.directory(membership.chapter, query=query, page=page_arg())
    return render_template("chapters/members.html", chapter=membership.chapter, page=page, query=query)


@bp.get("/members/<int:member_id>")
def member_profile(member_id: int):
    return render_template("chapters/member.html", **profile_panel(current_user, member_id))


@bp.post("/chapters/join")
def request_to_join():
    form = JoinRequestForm()
    if form.validate_on_submit():
        with Refusal() as refused:
            membership = services.request_to_join(form.slug.data, current_user)
        if not refused:
            flash(
                _(
                    "Your request to join %(chapter)s is with its organizers.",
                    chapter=membership.chapter.name,
                ),
                "success",
            )
    else:
        flash(_("Enter the chapter code your organizer gave you."), "error")
    return redirect(url_for("chapters.dashboard"))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    invitation = services.open_invitation(token)
    # The invitation's email spoke the invitee's own language if they have an account: so does its page.
    show_chapter(invitation.chapter, reader=find_by_email(invitation.email))
    form = ConfirmForm()
    if request.method == "POST":
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.path))
        if not form.validate_on_submit():
            abort(400)
        services.accept_invitation(token, current_user)
        flash(
            _(
                "Welcome to %(chapter)s! %(how_to_earn)s Posting a need costs credits, "
                "so start by giving: your dashboard lists your first steps.",
                chapter=invitation.chapter.name,
                how_to_earn=posting.HOW_TO_EARN,
            ),
            "success",
        )
        return redirect(url_for("needs.board", slug=invitation.chapter.slug))
    for_you = current_user.is_authenticated and services.is_addressed_to(invitation, current_user)
    return render_template("chapters/join.html", invitation=invitation, form=form, for_you=for_you)


@bp.post("/chapters/<slug>/leave")
def leave(slug: str):
    membership = services.membership_of(current_user, slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return confirmation(
            title=_("Leave %(chapter)s?", chapter=membership.chapter.name),
            consequence=_(
                "You will no longer see its needs board or directory, and nobody can introduce "
                "you there. Your credits and your history stay."
            ),
            undo=_("An organizer can re-admit you later."),
            button=_("Leave the chapter"),
            cancel_url=url_for("needs.board", slug=slug),
        )
    with Refusal() as refused:
        services.leave(membership)
    if refused:
        return redirect(url_for("needs.board", slug=slug))
    flash(_("You left %(chapter)s.", chapter=membership.chapter.name), "info")
    return redirect(url_for("chapters.dashboard"))


# Organizer pages -----------------------------------------------------------------------------


@bp.get("/chapters/<slug>/organize")
def organize(slug: str):
    chapter = services.organizer_of(current_user, slug).chapter
    return render_template(
        "chapters/organize.html",
        chapter=chapter,
        requests_waiting=services.pending_request_count(chapter),
        report=report.overview(chapter.id, request.args, zone=chapter.timezone),
    )


@bp.get("/chapters/<slug>/organize/members")
def organize_members(slug: str):
    chapter = services.organizer_of(current_user, slug).chapter
    return render_template(
        "chapters/organize_members.html",
        chapter=chapter,
        # The requests and the roster page by arguments of their own: the status table below pages by `page`.
        roster=services.roster(chapter, page=page_arg(ROSTER_PAGE_ARG)),
        requests=services.pending_requests(chapter, page=page_arg(REQUESTS_PAGE_ARG)),
        former_members=services.former_members(chapter),
        table=report.member_table(chapter.id, request.args, zone=chapter.timezone),
    )


def _invitations_page(slug: str, invite_form: InviteForm | None = None, status: int = 200):
    chapter = services.organizer_of(current_user, slug).chapter
    return render_template(
        "chapters/organize_invitations.html",
        chapter=chapter,
        invitations=services.open_invitations(chapter),
        invite_form=invite_form or InviteForm(),
    ), status


@bp.get("/chapters/<slug>/organize/invitations")
def organize_invitations(slug: str):
    return _invitations_page(slug)


def _settings_page(chapter, form: ChapterSettingsForm, status: int = 200):
    return render_template(
        "chapters/organize_settings.html",
        chapter=chapter,
        form=form,
        changes=settings.settings_history(chapter),
        currencies=settings.currencies(),
    ), status


@bp.route("/chapters/<slug>/organize/settings", methods=["GET", "POST"])
def organize_settings(slug: str):
    chapter = services.organizer_of(current_user, slug).chapter
    form = ChapterSettingsForm(obj=chapter)
    if request.method == "GET":
        return _settings_page(chapter, form)
    if form.validate_on_submit():
        with Refusal(form) as refused:
            changes = settings.change_settings(
                chapter,
                changed_by=current_user,
                timezone=form.timezone.data,
                language=form.language.data,
                currency=form.currency.data or "",
            )
        if not refused:
            if changes:
                flash(
                    ngettext(
                        "Saved %(num)d change to the chapter's settings.",
                        "Saved %(num)d changes to the chapter's settings.",
                        len(changes),
                    ),
                    "success",
                )
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("chapters.organize_settings", slug=slug))
    return _settings_page(chapter, form, status=422)


@bp.post("/chapters/<slug>/invitations")
def invite(slug: str):
    chapter = services.organizer_of(current_user, slug).chapter
    form = InviteForm()
    if form.validate_on_submit():
        with Refusal(form, "email") as refused:
            services.invite(
                chapter, email=form.email.data, invited_by=current_user, message=form.message.data or ""
            )
        if not refused:
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("chapters.organize_invitations", slug=slug))
    return _invitations_page(slug, invite_form=form, status=422)


@bp.post("/chapters/<slug>/invitations/<int:invitation_id>/resend")
def resend_invitation(slug: str, invitation_id: int):
    chapter = services.organizer_of(current_user, slug).chapter
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invitation = services.invitation_in(chapter, invitation_id)
    with Refusal() as refused:
        services.resend_invitation(invitation, sent_by=current_user)
    if not refused:
        flash(
            _(
                "A new invitation with a new link went to %(email)s; the old link no longer works.",
                email=invitation.email,
            ),
            "success",
        )
    return redirect(url_for("chapters.organize_invitations", slug=slug))


@bp.post("/chapters/<slug>/invitations/<int:invitation_id>/cancel")
def cancel_invitation(slug: str, invitation_id: int):
    chapter = services.organizer_of(current_user, slug).chapter
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invitation = services.invitation_in(chapter, invitation_id)
    if not confirmed():
        return confirmation(
            title=_("Cancel the invitation to %(email)s?", email=invitation.email),
            consequence=_(
                "Its link stops working at once: whoever opens it is told the invitation was cancelled."
            ),
            undo=_("You can invite the same address again later."),
            button=_("Cancel the invitation"),
            cancel_url=url_for("chapters.organize_invitations", slug=slug),
        )
    with Refusal() as refused:
        services.cancel_invitation(invitation)
    if not refused:
        flash(
            _("The invitation to %(email)s is cancelled: its link no longer works.", email=invitation.email),
            "info",
        )
    return redirect(url_for("chapters.organize_invitations", slug=slug))


ORGANIZER_ACTIONS = {
    "approve": (services.approve, _l("%(name)s is now a member.")),
    "decline": (services.decline, _l("%(name)s's request was declined.")),
    "promote": (services.promote, _l("%(name)s is now an organizer.")),
    "remove": (services.remove, _l("%(name)s was removed; their history stays.")),
    "readmit": (services.readmit, _l("%(name)s is a member again.")),
}


@bp.post("/chapters/<slug>/members/<int:member_id>/<action>")
def membership_action(slug: str, member_id: int, action: str):
    chapter = services.organizer_of(current_user, slug).chapter
    if action not in ORGANIZER_ACTIONS:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    act, message = ORGANIZER_ACTIONS[action]
    membership = services.membership_in(chapter, member_id)
    if action == "remove" and not confirmed():
        return confirmation(
            title=_(
                "Remove %(name)s from %(chapter)s?", name=membership.member.display_name, chapter=chapter.name
            ),
            consequence=_(
                "%(name)s will no longer see the chapter or be introduced in it. "
                "Their credits and history stay.",
                name=membership.member.display_name,
            ),
            undo=_("You can re-admit them from the former members on the organize page."),
            button=_("Remove"),
            cancel_url=url_for("chapters.organize", slug=slug),
        )
    with Refusal() as refused:
        act(membership)
    if not refused:
        flash(str(message) % {"name": membership.member.display_name}, "success")
    return redirect(url_for("chapters.organize_members", slug=slug))


def init_app(app: Flask) -> None:
    from . import photos, roster  # noqa: F401 - the photo and roster import pages, on this blueprint

    app.register_blueprint(bp)
