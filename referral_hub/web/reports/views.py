"""The reports API under /api/v1, its document and docs page, API tokens, and the roster import pages."""

import csv
import io
import json
from functools import wraps
from pathlib import Path

import swagger_ui_bundle
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from marshmallow import ValidationError

from ...chapters import roster
from ...chapters import services as chapters
from ...clock import utcnow
from ...errors import InvalidInput, NotFound, Unauthorized
from ...extensions import csrf, limiter
from ...reports import access, lists, periods
from ...reports.members import MemberQuery, member_rows
from ...reports.summary import summary as summary_figures
from ...tokens import digest
from ..accounts.forms import ConfirmForm
from ..refusals import Refusal
from . import auth, schemas
from .forms import RosterConfirmForm, RosterUploadForm, TokenForm
from .openapi import Operation, document

api = Blueprint("api", __name__, url_prefix="/api/v1")
api_docs = Blueprint("api_docs", __name__)
bp = Blueprint("reports", __name__)

SWAGGER_UI_FILES = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}
# A spreadsheet would run a cell that starts like a formula; such text is prefixed with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# The API ----------------------------------------------------------------------------------------------


def _per_token_limit() -> str:
    return current_app.config["RATELIMIT_API_PER_TOKEN"]


def _per_address_limit() -> str:
    return current_app.config["RATELIMIT_API_PER_ADDRESS"]


def _token_key() -> str:
    """Requests are counted per token, read as the access check reads it, so that respelling
    `Bearer` is the same token; requests that send none are counted per address."""
    try:
        secret = auth.bearer_secret()
    except Unauthorized:
        return "api-address:" + get_remote_address()
    return "api-token:" + digest(secret)[:32]


TOO_MANY = "Too many requests. Wait a minute and try again."


@api.before_request
def _authenticate():
    # Only the Authorization header counts: a browser's session cookie is never an API credential.
    g.api_access = access.authenticate(auth.bearer_secret())


def parse(query: type[schemas.Query]) -> dict:
    """The request's query parameters loaded by `query`; anything wrong is one 422 naming each field."""
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise InvalidInput({name: ["Give this parameter once."] for name in repeated})
    try:
        return query().load(request.args.to_dict())
    except ValidationError as error:
        raise InvalidInput(
            {
                name: [
                    "Unknown parameter." if problem == "Unknown field." else problem for problem in problems
                ]
                for name, problems in error.messages.items()
            }
        ) from error


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(items: list[dict], row: type[schemas.Schema], name: str, total: int) -> Response:
    columns = [field.data_key or key for key, field in row().dump_fields.items()]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: _cell(item[column]) for column in columns} for item in items)
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "X-Total-Count": str(total)},
    )


def report(rule: str, *, query, answer, title: str, description: str, row=None):
    """Register a GET endpoint of the API and describe it in the OpenAPI document.

    The view gets the request's access (checked against the path's chapter) and its loaded query;
    a listing view (`row` given) returns (rows, total), which become a page of JSON or CSV.
    """

    def register(view):
        @wraps(view)
        def endpoint(slug: str | None = None):
            grant = g.api_access if slug is None else g.api_access.chapter(slug)
            args = parse(query)
            if row is None:
                return jsonify(answer().dump(view(grant, args)))
            rows, total = view(grant, args)
            items = row(many=True).dump(rows)
            if args["format"] == "csv":
                return _csv(items, row, f"{grant.chapter_slug}-{view.__name__}", total)
            return jsonify(items=items, page=args["page"], per_page=args["per_page"], total=total)

        # What the OpenAPI document says of it, read from the app's views (openapi_document).
        endpoint.operation = Operation(
            rule, view.__name__, query, answer, title, description, row is not None
        )
        api.add_url_rule(rule, view.__name__, endpoint, methods=["GET"])
        return view

    return register


def _period(args) -> periods.Period | None:
    if args.get("from_") is None and args.get("to") is None:
        return None
    return periods.Period.of(args.get("from_"), args.get("to"))


@report(
    "/chapters",
    query=schemas.ChaptersQuery,
    answer=schemas.ChapterPage,
    row=schemas.ChapterRow,
    title="The chapters this token reads",
    description="A token reads the one chapter it was created for, while its member organizes it.",
)
def chapters_list(grant: access.ApiAccess, args):
    return lists.chapter_rows(grant.chapter_id)


@report(
    "/chapters/<slug>/summary",
    query=schemas.SummaryQuery,
    answer=schemas.Summary,
    title="The chapter's figures for a period",
    description=(
        "Members, needs, introductions, business closed and credits for the period from `from` to "
        "`to` (default: since the beginning, up to today). Counts of events (posted, made, completed, "
        "declined, expired, fulfilled, issued, spent) are those that happened in the period; `open`, "
        "`pending` and `balance_sum` are as at the end of the period; `members.total` is every current "
        "member, organizers included."
    ),
)
def summary(grant: access.ApiAccess, args):
    period = periods.Period.of(args.get("from_"), args.get("to"))
    return {"chapter": grant.chapter_slug, **summary_figures(grant.chapter_id, period)}


@report(
    "/chapters/<slug>/members",
    query=schemas.MembersQuery,
    answer=schemas.MemberPage,
    row=schemas.MemberRow,
    title="One row per current member: giving, asking, business, credits and status",
    description=(
        "Figures count all time in this chapter; `status` is as of now. " + schemas.STATUS + " "
        "give_ratio: " + schemas.GIVE_RATIO
    ),
)
def members(grant: access.ApiAccess, args):
    query = MemberQuery(sort=args["sort"], order=args["order"], page=args["page"], per_page=args["per_page"])
    return member_rows(grant.chapter_id, query)


@report(
    "/chapters/<slug>/introductions",
    query=schemas.IntroductionsQuery,
    answer=schemas.IntroductionPage,
    row=schemas.IntroductionRow,
    title="Introductions, newest first",
    description="Filtered by state (`status`) and by the day they were made (`from`, `to`).",
)
def introductions(grant: access.ApiAccess, args):
    return lists.introduction_rows(
        grant.chapter_id,
        status=args.get("status"),
        period=_period(args),
        page=args["page"],
        per_page=args["per_page"],
    )


@report(
    "/chapters/<slug>/needs",
    query=schemas.NeedsQuery,
    answer=schemas.NeedPage,
    row=schemas.NeedRow,
    title="Needs, newest first",
    description="Filtered by status.",
)
def needs(grant: access.ApiAccess, args):
    return lists.need_rows(
        grant.chapter_id, status=args.get("status"), page=args["page"], per_page=args["per_page"]
    )


@report(
    "/chapters/<slug>/ledger",
    query=schemas.LedgerQuery,
    answer=schemas.LedgerPage,
    row=schemas.LedgerTransactionRow,
    title="Ledger transactions with their entries, newest first",
    description=(
        "Filtered by the day they were recorded (`from`, `to`). Each transaction's entries sum to zero."
    ),
)
def ledger(grant: access.ApiAccess, args):
    return lists.ledger_rows(
        grant.chapter_id, period=_period(args), page=args["page"], per_page=args["per_page"]
    )


@report(
    "/chapters/<slug>/activity",
    query=schemas.ActivityQuery,
    answer=schemas.ActivityPage,
    row=schemas.ActivityRow,
    title="A row per week or month: needs posted, introductions made and completed, business closed",
    description=(
        "Rows cover every whole week (Monday to Sunday) or calendar month that overlaps `from`..`to`, "
        "oldest first. Default: the 12 periods up to the one holding `to` (default today)."
    ),
)
def activity(grant: access.ApiAccess, args):
    end = args.get("to") or utcnow().date()
    timeline = periods.Timeline.covering(args["interval"], args.get("from_"), end)
    return periods.activity_rows(grant.chapter_id, timeline, page=args["page"], per_page=args["per_page"])


# The document and its docs page (public) -------------------------------------------------------------


@api_docs.get("/api/v1/openapi.json")
def openapi_document():
    cached = current_app.extensions.get("reports_openapi")
    if cached is None:
        operations = [
            view.operation for view in current_app.view_functions.values() if hasattr(view, "operation")
        ]
        cached = current_app.extensions["reports_openapi"] = document(operations)
    return jsonify(cached)


@api_docs.get("/api/docs")
def docs_page():
    return render_template("reports/api_docs.html")


@api_docs.get("/api/docs/assets/<filename>")
def docs_asset(filename: str):
    if filename not in SWAGGER_UI_FILES:
        raise NotFound()
    return send_from_directory(Path(swagger_ui_bundle.swagger_ui_path), filename, max_age=86400)


# API tokens -------------------------------------------------------------------------------------------


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
    token = access.revoke_token(current_user, token_id)
    flash(f"The token “{token.name}” is revoked; it no longer reads anything.", "success")
    return redirect(url_for("reports.tokens"))


# Roster import ----------------------------------------------------------------------------------------


def _roster_page(chapter, *, upload=None, confirm=None, preview=None, status: int = 200):
    return render_template(
        "reports/roster_import.html",
        chapter=chapter,
        upload_form=upload or RosterUploadForm(),
        confirm_form=confirm,
        preview=preview,
    ), status


@bp.get("/chapters/<slug>/roster-import")
@login_required
def roster_import(slug: str):
    return _roster_page(chapters.organizer_of(current_user, slug).chapter)


@bp.post("/chapters/<slug>/roster-import")
@login_required
def roster_preview(slug: str):
    chapter = chapters.organizer_of(current_user, slug).chapter
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
    chapter = chapters.organizer_of(current_user, slug).chapter
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with Refusal() as refused:
        # Checked again: the page may be old, and hidden fields come back as the browser sends them.
        preview = roster.preview(chapter, form.rows.data)
    if refused:
        return redirect(url_for("reports.roster_import", slug=slug))
    invited = roster.invite_good_rows(chapter, preview, invited_by=current_user)
    skipped = len(preview.rows) - len(invited)
    flash(
        f"Invited {len(invited)} people to {chapter.name}."
        + (f" {skipped} rows were skipped: they are members or invited already." if skipped else ""),
        "success",
    )
    return redirect(url_for("chapters.organize", slug=slug))


def init_app(app: Flask) -> None:
    # Limits are equal by value, so a process that makes several apps keeps each once.
    limiter.limit(_per_token_limit, key_func=_token_key, error_message=TOO_MANY)(api)
    limiter.limit(_per_address_limit, error_message=TOO_MANY)(api)
    csrf.exempt(api)  # token-authenticated and read-only: no cookie, so no cross-site forgery
    app.register_blueprint(api)
    app.register_blueprint(api_docs)
    app.register_blueprint(bp)
