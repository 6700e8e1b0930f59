"""Ledger pages: a member's credits and history; the organizer's chapter ledger, grants, reversals, policy."""

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...chapters import services as chapters
from ...chapters.models import Chapter
from ...chapters.policy import policy_for, policy_history, update_policy
from ...extensions import login_manager
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...i18n import ngettext
from ...ledger import organizing, posting, queries, verify
from ...ledger.models import Kind, LedgerTransaction
from ..confirmation import confirmation, confirmed
from ..http import page_arg
from ..refusals import Refusal
from .forms import GrantForm, LedgerFilterForm, PolicyForm, ReversalForm

bp = Blueprint("ledger", __name__)
# The chapter ledger's balances page by this argument: its transactions page by `page`.
BALANCES_PAGE_ARG = "balances_page"

# The page of each kind of subject a transaction can be about, and the name of the subject's id in its URL.
SUBJECT_PAGES = {
    "introduction": ("introductions.detail", "intro_id"),
    "need": ("needs.detail", "need_id"),
    "intro_request": ("relationships.intro_request", "request_id"),
}
# What each kind of subject is called in "see the need".
SUBJECT_LABELS = {
    "introduction": _l("introduction"),
    "need": _l("need"),
    "intro_request": _l("intro request"),
}


def subject_label(transaction: LedgerTransaction) -> str:
    subject = transaction.subject_type or ""
    return SUBJECT_LABELS.get(subject, subject)


def subject_url(transaction: LedgerTransaction) -> str | None:
    """The link to the page of what the transaction is about, if that has a page."""
    page = SUBJECT_PAGES.get(transaction.subject_type or "")
    if page is None or transaction.subject_id is None:
        return None
    endpoint, id_name = page
    return url_for(endpoint, **{id_name: transaction.subject_id})


@bp.context_processor
def _links():
    return {"subject_url": subject_url, "subject_label": subject_label}


@bp.before_request
def _members_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()


@bp.get("/ledger")
def mine():
    return render_template(
        "ledger/mine.html",
        balances=queries.chapter_balances(current_user),
        page=queries.history(current_user, page=page_arg()),
        how_to_earn=posting.HOW_TO_EARN,
    )


# Organizer pages -----------------------------------------------------------------------------


def _organized_chapter(slug: str) -> Chapter:
    """The chapter, if the current member organizes it: 404 for outsiders, 403 for other members."""
    return chapters.organizer_of(current_user, slug).chapter


def _chapter_page(chapter: Chapter, *, grant_form: GrantForm | None = None, status: int = 200):
    """The chapter ledger: the member pickers are typed names, looked up only when given, so the page
    reads no list of every member; the balances and the transactions are paged, each by its own
    argument, each link keeping the other's."""
    filter_form = LedgerFilterForm(chapter, formdata=request.args or None)
    criteria = None
    if request.args and filter_form.validate():
        criteria = queries.LedgerFilter(
            member_id=filter_form.picked.id if filter_form.picked else None,
            kind=Kind(filter_form.kind.data) if filter_form.kind.data else None,
            since=filter_form.since.data,
            until=filter_form.until.data,
        )
    pages = ("page", BALANCES_PAGE_ARG)
    filters = {name: value for name, value in request.args.items() if name not in pages and value}
    balances_page, transactions_page = page_arg(BALANCES_PAGE_ARG), page_arg()
    return render_template(
        "ledger/chapter.html",
        chapter=chapter,
        balances=queries.member_balances(chapter, page=balances_page),
        pool_balance=queries.pool_balance(chapter),
        grant_form=grant_form or GrantForm(chapter, formdata=None),
        filter_form=filter_form,
        filters=filters,
        kept_balances_page={BALANCES_PAGE_ARG: balances_page} if balances_page > 1 else {},
        kept_transactions_page={"page": transactions_page} if transactions_page > 1 else {},
        page=queries.chapter_ledger(chapter, criteria, page=transactions_page),
        counted_up_to=queries.CHAPTER_LEDGER_COUNTED,
    ), status


@bp.get("/chapters/<slug>/ledger")
def chapter_ledger(slug: str):
    return _chapter_page(_organized_chapter(slug))


@bp.get("/chapters/<slug>/ledger/check")
def check(slug: str):
    """Every invariant of the chapter's books, on demand: it reads the whole history, so the chapter
    ledger page, which organizers open often, does not run it."""
    chapter = _organized_chapter(slug)
    return render_template("ledger/check.html", chapter=chapter, report=verify.verify(chapter))


@bp.post("/chapters/<slug>/ledger/grants")
def grant(slug: str):
    chapter = _organized_chapter(slug)
    form = GrantForm(chapter)
    if form.validate_on_submit():
        with Refusal(form) as refused:
            transaction = organizing.grant(
                chapter,
                member_id=form.picked.id,
                amount=form.amount.data,
                memo=form.memo.data,
                granted_by=current_user,
                request_key=form.request_key.data,
            )
        if not refused:
            recipient = form.picked.display_name
            amount = form.amount.data
            flash(
                _("Granted %(credits)s to %(name)s.", credits=posting.credits(amount), name=recipient)
                if amount > 0
                else _(
                    "Took back %(credits)s from %(name)s.", credits=posting.credits(-amount), name=recipient
                ),
                "success",
            )
            return redirect(url_for(".transaction", slug=slug, transaction_id=transaction.id))
    return _chapter_page(chapter, grant_form=form, status=422)


def _transaction_page(chapter: Chapter, transaction_id: int, form: ReversalForm | None = None, status=200):
    return render_template(
        "ledger/transaction.html",
        chapter=chapter,
        transaction=queries.transaction_in(chapter, transaction_id),
        form=form or ReversalForm(formdata=None),
    ), status


@bp.get("/chapters/<slug>/ledger/transactions/<int:transaction_id>")
def transaction(slug: str, transaction_id: int):
    return _transaction_page(_organized_chapter(slug), transaction_id)


@bp.post("/chapters/<slug>/ledger/transactions/<int:transaction_id>/reversal")
def reversal(slug: str, transaction_id: int):
    chapter = _organized_chapter(slug)
    original = queries.transaction_in(chapter, transaction_id)
    form = ReversalForm()
    if form.validate_on_submit():
        if not confirmed():
            return confirmation(
                title=_("Reverse transaction #%(number)s?", number=original.id),
                consequence=_(
                    "The opposite entries of “%(memo)s” are posted, with your memo “%(reason)s”. "
                    "Nothing is deleted, and a reversal cannot itself be reversed.",
                    memo=original.memo,
                    reason=form.memo.data,
                ),
                button=_("Reverse it"),
                cancel_url=url_for(".transaction", slug=slug, transaction_id=original.id),
            )
        with Refusal(form) as refused:
            reversed_by = organizing.reverse(original, memo=form.memo.data, caused_by=current_user)
        if not refused:
            flash(_("Transaction #%(number)s is reversed.", number=original.id), "success")
            return redirect(url_for(".transaction", slug=slug, transaction_id=reversed_by.id))
    return _transaction_page(chapter, transaction_id, form, status=422)


def _policy_page(chapter: Chapter, form: PolicyForm, status: int = 200):
    return render_template(
        "ledger/policy.html", chapter=chapter, form=form, changes=policy_history(chapter)
    ), status


@bp.route("/chapters/<slug>/ledger/policy", methods=["GET", "POST"])
def policy(slug: str):
    chapter = _organized_chapter(slug)
    form = PolicyForm(obj=policy_for(chapter))
    if request.method == "GET":
        return _policy_page(chapter, form)
    if form.validate_on_submit():
        with Refusal(form) as refused:
            changes = update_policy(chapter, changed_by=current_user, settings=form.settings())
        if not refused:
            flash(
                ngettext(
                    "Saved %(num)d change to the credit policy.",
                    "Saved %(num)d changes to the credit policy.",
                    len(changes),
                )
                if changes
                else _("Nothing changed."),
                "success" if changes else "info",
            )
            return redirect(url_for(".policy", slug=slug))
    return _policy_page(chapter, form, status=422)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
