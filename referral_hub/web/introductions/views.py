"""Introduction pages: make one, the email link, the member's list, one introduction, outcomes."""

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ...extensions import csrf
from ...i18n import gettext as _
from ...introductions import answering, guests, making, outcomes, queries
from ...introductions.errors import AlreadyAnswered, IntroClosed, IntroExpired, LinkClosed
from ...introductions.models import Decision, IntroState, OutcomeKind
from ...tokens import LinkExpired, LinkUsed
from ..http import id_from, page_arg
from ..locale import show_chapter
from ..refusals import Refusal
from .forms import AnswerForm, GuestAnswerForm, IntroduceForm, OutcomeForm

bp = Blueprint("introductions", __name__)


def _introduce_form(form: IntroduceForm, groups) -> IntroduceForm:
    """Offer the members of each of the introducer's chapters, grouped by chapter."""
    people = [
        SelectChoice(
            other.id,
            f"{other.display_name} — {other.headline}" if other.headline else other.display_name,
            optgroup=chapter.name if len(groups) > 1 else None,
        )
        for chapter, others in groups
        for other in others
    ]
    form.first_id.choices = [SelectChoice(0, _("Choose…")), *people]
    form.second_id.choices = [SelectChoice(0, _("Choose…")), *people]
    form.chapter.choices = [
        SelectChoice("", _("The chapter we share")),
        *[SelectChoice(chapter.slug, chapter.name) for chapter, _others in groups],
    ]
    return form


@bp.route("/introductions/new", methods=["GET", "POST"])
@login_required
def new():
    # The choices are read only to show the form: a valid submission never needs them (the service
    # decides who may be introduced).
    form = IntroduceForm()
    need = None
    # The need an introduction answers: `?need=` on the page, or the form's hidden field.
    with Refusal(form) as need_refused:
        if need_ref := request.args.get("need") or form.need_id.data:
            need = making.open_need(current_user, id_from(need_ref))
            if request.method == "GET":
                form.need_id.data = str(need.id)
                form.first_id.data = need.asker_id
                form.chapter.data = need.chapter.slug
    if request.method == "GET":  # `?first=&second=` pre-fill, as a connector's request email links
        for party in ("first", "second"):
            if member_id := id_from(request.args.get(party)):
                form[f"{party}_id"].data = member_id
    if not need_refused and form.validate_on_submit():
        with Refusal(form) as refused:
            intro = making.introduce(
                current_user,
                first_id=form.first_id.data,
                second_id=form.second_id.data or None,
                guest=form.guest(),
                note=form.note.data,
                need_id=need.id if need else None,
                chapter_slug=form.chapter.data or None,
            )
        if not refused:
            flash(
                _(
                    "Introduction sent: %(first)s and %(second)s each have an email asking them to accept.",
                    first=intro.first.display_name,
                    second=intro.second_name,
                ),
                "success",
            )
            return redirect(url_for("introductions.detail", intro_id=intro.id))
    groups = making.introducible_members(current_user)
    if not groups:
        # Nobody to introduce: say what to do instead of offering empty choices.
        return render_template("introductions/new.html", form=None, need=None)
    status = need_refused.error.status if need_refused else 422 if form.errors or form.form_errors else 200
    return render_template("introductions/new.html", form=_introduce_form(form, groups), need=need), status


@bp.get("/introductions")
@login_required
def index():
    role = request.args.get("role", "all")
    state = request.args.get("state", "")
    page = queries.introductions_of(
        current_user,
        role=role if role in queries.ROLES else "all",
        state=state,
        page=page_arg(),
    )
    follow_through = queries.follow_through(current_user, made=0, completed=50)
    return render_template(
        "introductions/index.html",
        page=page,
        role=role,
        state=state,
        states=list(IntroState),
        waiting=follow_through.waiting,
        # The header's count adds these: completed introductions whose outcome the member owes.
        reports_due=[c.introduction for c in follow_through.completed if c.awaits_outcome],
    )


@bp.get("/introductions/<int:intro_id>")
@login_required
def detail(intro_id: int):
    # An organizer of the chapter reads it too (no contact details, no buttons): DESIGN's counts, in person.
    intro = queries.intro_for(current_user, intro_id, organizers_too=True)
    show_chapter(intro.chapter)
    consent = queries.consent_of(intro, current_user)
    outcomes_reported = queries.outcomes_of(intro)
    mine = next((o for o in outcomes_reported if o.reported_by_id == current_user.id), None)
    return render_template(
        "introductions/detail.html",
        intro=intro,
        consent=consent,
        as_organizer=not intro.involves(current_user.id),
        answer_form=AnswerForm(),
        outcome_form=OutcomeForm(),
        outcomes=outcomes_reported,
        offer_fulfilment=mine is not None
        and mine.kind is OutcomeKind.BUSINESS_CLOSED
        and _offers_fulfilment(intro),
    )


@bp.post("/introductions/<int:intro_id>/answer")
@login_required
def answer_logged_in(intro_id: int):
    intro = queries.intro_for(current_user, intro_id)
    consent = queries.consent_of(intro, current_user)
    form = AnswerForm()
    if consent is None:
        flash(_("Only the two people introduced answer an introduction."), "error")
    elif consent.decision is not None:
        flash(_("You have already answered this introduction."), "info")
    elif not form.validate_on_submit():
        flash(_("Choose accept or decline."), "error")
    else:
        with Refusal() as refused:
            answering.answer(consent, Decision(form.decision.data))
        if not refused:
            flash(_answered_message(intro, Decision(form.decision.data)), "success")
    return redirect(url_for("introductions.detail", intro_id=intro_id))


def _answered_message(intro, decision: Decision) -> str:
    if decision is Decision.DECLINE:
        return _("You declined. We told the others only that it did not go ahead.")
    if intro.state is IntroState.CANCELLED:
        return _(
            "This introduction cannot go ahead: someone in it is no longer a member of %(chapter)s. "
            "No contact details were shared.",
            chapter=intro.chapter.name,
        )
    if intro.state is IntroState.COMPLETED:
        return _("You both accepted! We emailed each of you the other's contact details.")
    return _("You accepted. We will email you both contact details once the other person accepts too.")


@bp.post("/introductions/<int:intro_id>/outcome")
@login_required
def outcome(intro_id: int):
    intro = queries.intro_for(current_user, intro_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or _("Check the form."), "error")
    else:
        kind = OutcomeKind(form.kind.data)
        with Refusal() as refused:
            outcomes.report_outcome(intro, current_user, kind, form.amount.data)
        if not refused:
            flash(_("Thank you: your outcome is recorded."), "success")
            if kind is OutcomeKind.BUSINESS_CLOSED and _offers_fulfilment(intro):
                flash(
                    _(
                        "Business closed: if your need “%(title)s” is met, mark it fulfilled.",
                        title=intro.need.title,
                    ),
                    "info",
                )
    # The dashboard reports outcomes in place; it is the only other page a report comes back to.
    if request.args.get("back") == "dashboard":
        return redirect(url_for("chapters.dashboard") + f"#completed-{intro_id}")
    return redirect(url_for("introductions.detail", intro_id=intro_id))


def _offers_fulfilment(intro) -> bool:
    """The introduction answered the current member's own need, which is still open."""
    return intro.need is not None and intro.need.is_open and intro.need.asker_id == current_user.id


@bp.route("/i/<token>", methods=["GET", "POST"])
def answer_link(token: str):
    """The email link: GET shows the introduction and two buttons; only a POST acts."""
    viewer = current_user if current_user.is_authenticated else None
    consent = answering.consent_for_link(token, viewer=viewer)
    intro = consent.introduction
    show_chapter(intro.chapter, reader=consent.member)  # a guest has no language of their own
    form = GuestAnswerForm() if consent.is_guest else AnswerForm()
    page = {"intro": intro, "consent": consent, "form": form}
    if consent.is_guest:
        page["never_link"] = url_for("introductions.never", token=guests.never_token(intro))
    if request.method == "POST":
        if form.validate_on_submit():
            decision = Decision(form.decision.data)
            shared = (
                answering.GuestShares(phone=form.phone.data or "", company=form.company.data or "")
                if consent.is_guest
                else None
            )
            with Refusal(form) as refused:
                try:
                    answering.answer(consent, decision, shared=shared)
                except tuple(LINK_PAGE_FOR) as error:
                    # Lost a race with another click: the page says what the link now is.
                    raise LINK_PAGE_FOR[type(error)]() from error
            if not refused:
                # Redirect, so that refreshing the page does not post the answer again.
                flash(_answered_message(intro, decision), "success")
                return redirect(url_for("introductions.answered"))
        return render_template("introductions/answer.html", **page), 400
    return render_template("introductions/answer.html", **page)


@bp.route("/i/never/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: a mail client's one-click POST carries no token and no cookie
def never(token: str):
    """A guest's "never send me introductions": GET shows a button, a POST puts the address on the
    suppression list (the one-click POST of List-Unsubscribe-Post included)."""
    intro = guests.intro_for_never_token(token)
    show_chapter(intro.chapter)
    if request.method == "POST":
        answering.never_send(intro)
        return render_template("introductions/never.html", done=True, token=token)
    return render_template("introductions/never.html", done=False, token=token)


# What an email link shows when answering fails because the introduction moved on meanwhile.
LINK_PAGE_FOR = {
    AlreadyAnswered: LinkUsed,
    IntroExpired: LinkExpired,
    IntroClosed: LinkClosed,
}


@bp.get("/introductions/answered")
def answered():
    """Where an answer from an email link lands: the flashed message, and nothing else about it."""
    return render_template("introductions/answered.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
