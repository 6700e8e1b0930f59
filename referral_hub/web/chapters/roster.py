"""Roster import: an organizer uploads a CSV of people to invite, sees each row's problem, confirms."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ...chapters import roster, services
from ...i18n import ngettext
from ..refusals import Refusal
from .forms import RosterConfirmForm, RosterUploadForm
from .views import bp


def _roster_page(chapter, *, upload=None, confirm=None, preview=None, status: int = 200):
    return render_template(
        "chapters/roster_import.html",
        chapter=chapter,
        upload_form=upload or RosterUploadForm(),
        confirm_form=confirm,
        preview=preview,
    ), status


@bp.get("/chapters/<slug>/roster-import")
@login_required
def roster_import(slug: str):
    return _roster_page(services.organizer_of(current_user, slug).chapter)


@bp.post("/chapters/<slug>/roster-import")
@login_required
def roster_preview(slug: str):
    chapter = services.organizer_of(current_user, slug).chapter
    form = RosterUploadForm()
    if not form.validate_on_submit():
        return _roster_page(chapter, upload=form, status=422)
    with Refusal(form, "roster") as refused:
        preview = roster.preview(chapter, form.roster.data.read(roster.MAX_FILE_BYTES + 1))
    if refused:
        return _roster_page(chapter, upload=form, status=422)
    confirm = RosterConfirmForm(formdata=None, rows=preview.good_as_csv()) if preview.good else None
    return _roster_page(chapter, confirm=confirm, preview=preview)


@bp.post("/chapters/<slug>/roster-import/confirm")
@login_required
def roster_confirm(slug: str):
    chapter = services.organizer_of(current_user, slug).chapter
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with Refusal() as refused:
        # Checked again: the page may be old, and hidden fields come back as the browser sends them.
        preview = roster.preview(chapter, form.rows.data)
    if refused:
        return redirect(url_for("chapters.roster_import", slug=slug))
    invited = roster.invite_good_rows(chapter, preview, invited_by=current_user)
    skipped = len(preview.rows) - len(invited)
    done = ngettext(
        "Invited %(num)d person to %(chapter)s.",
        "Invited %(num)d people to %(chapter)s.",
        len(invited),
        chapter=chapter.name,
    )
    if skipped:
        done += " " + ngettext(
            "%(num)d row was skipped: it is a member or invited already.",
            "%(num)d rows were skipped: they are members or invited already.",
            skipped,
        )
    flash(done, "success")
    return redirect(url_for("chapters.organize_invitations", slug=slug))
