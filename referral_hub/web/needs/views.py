"""Needs pages: the chapter's board, posting a need, one need, and closing it."""

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...chapters.policy import policy_for
from ...chapters.services import membership_of
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...introductions import queries as introductions
from ...ledger import queries
from ...needs import services
from ...needs.models import NeedStatus
from ..accounts.forms import ConfirmForm
from ..confirmation import confirmation, confirmed
from ..http import page_arg
from ..locale import show_chapter
from ..refusals import Refusal
from ..relationships.views import need_panel
from .forms import NeedForm

bp = Blueprint("needs", __name__)

# What an empty board says for each status filter: (nothing yet, nothing matches the search).
EMPTY_BOARD = {
    NeedStatus.OPEN: (_l("No open needs yet."), _l("No open need matches your search.")),
    NeedStatus.FULFILLED: (_l("No fulfilled needs yet."), _l("No fulfilled need matches your search.")),
    NeedStatus.CLOSED: (_l("No closed needs yet."), _l("No closed need matches your search.")),
    NeedStatus.EXPIRED: (_l("No expired needs yet."), _l("No expired need matches your search.")),
}
EMPTY_UNFILTERED = (_l("No needs yet."), _l("No need matches your search."))


@bp.get("/chapters/<slug>/")
@login_required
def board(slug: str):
    membership = membership_of(current_user, slug)
    chapter = membership.chapter
    query, category = request.args.get("q", ""), request.args.get("category", "")
    status = request.args.get("status", "open")
    page = services.board(
        chapter,
        query=query,
        category=category,
        status=status,
        page=page_arg(),
    )
    none_yet, no_match = EMPTY_BOARD.get(status, EMPTY_UNFILTERED)
    return render_template(
        "needs/board.html",
        chapter=chapter,
        membership=membership,
        page=page,
        query=query,
        category=category,
        status=status,
        statuses=list(NeedStatus),
        none_yet=none_yet,
        no_match=no_match,
        categories=services.categories(chapter),
    )


@bp.route("/chapters/<slug>/needs/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    chapter = membership_of(current_user, slug).chapter
    form = NeedForm()
    if form.validate_on_submit():
        with Refusal(form) as refused:
            need = services.post_need(
                chapter,
                current_user,
                title=form.title.data,
                details=form.details.data,
                category=form.category.data,
                expires_on=form.expires_on.data,
            )
        if not refused:
            flash(_("Your need is on the board."), "success")
            return redirect(url_for("needs.detail", need_id=need.id))
    status = 422 if form.errors or form.form_errors else 200
    # The cost and the balance are read only to show the form: posting charges by the policy itself.
    return render_template(
        "needs/new.html",
        chapter=chapter,
        form=form,
        cost=policy_for(chapter).need_cost,
        balance=queries.balance(chapter, current_user),
    ), status


@bp.get("/needs/<int:need_id>")
@login_required
def detail(need_id: int):
    need = services.need_for(current_user, need_id)
    show_chapter(need.chapter)
    return render_template(
        "needs/detail.html",
        need=need,
        introductions_made=introductions.made_for(need),
        confirm_form=ConfirmForm(),
        **need_panel(need),
    )


@bp.post("/needs/<int:need_id>/<action>")
@login_required
def finish(need_id: int, action: str):
    need = services.need_for(current_user, need_id)
    actions = {"fulfil": services.mark_fulfilled, "close": services.close}
    if action not in actions:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "close" and not confirmed():
        return confirmation(
            title=_("Close “%(title)s”?", title=need.title),
            consequence=_(
                "It leaves the board and nobody can introduce someone for it any more. "
                "The credits it cost are not refunded."
            ),
            button=_("Close the need"),
            cancel_url=url_for("needs.detail", need_id=need_id),
        )
    with Refusal() as refused:
        actions[action](need, current_user)
    if not refused:
        flash(
            _("Marked fulfilled. Thank the members who helped!") if action == "fulfil" else _("Need closed."),
            "success",
        )
    return redirect(url_for("needs.detail", need_id=need_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
