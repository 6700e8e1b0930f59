"""The reports API under /api/v1: its endpoints (JSON or CSV), its OpenAPI document and docs page."""

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
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from flask_limiter.util import get_remote_address
from marshmallow import ValidationError

from ...errors import InvalidInput, NotFound, Unauthorized
from ...extensions import csrf, limiter
from ...reports import access, lists, periods
from ...reports.members import MemberQuery, member_rows
from ...reports.summary import summary as summary_figures
from ...tokens import digest
from . import arguments, auth, schemas
from .openapi import Operation, document

api = Blueprint("api", __name__, url_prefix="/api/v1")
api_docs = Blueprint("api_docs", __name__)

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


# Limits first (the limiter checks no request by itself: web/limits.py), so that guessing tokens meets them.
api.before_request(limiter.check)


@api.before_request
def _authenticate():
    # Only the Authorization header counts: a browser's session cookie is never an API credential.
    g.api_access = access.authenticate(auth.bearer_secret())


def parse(query: arguments.Query) -> dict:
    """The request's query parameters loaded by `query`; anything wrong is one 422 naming each field."""
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise InvalidInput({name: ["Give this parameter once."] for name in repeated})
    try:
        return query.load(request.args.to_dict())
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


def _csv(items: list[dict], row: schemas.Schema, name: str, total: int) -> Response:
    columns = [field.data_key or key for key, field in row.dump_fields.items()]
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
        # Built once: a schema keeps nothing between loads or dumps, and building one costs more than
        # a page's dump of it.
        loaded, answered, listed = query(), answer(), row(many=True) if row else None

        @wraps(view)
        def endpoint(slug: str | None = None):
            grant = g.api_access if slug is None else g.api_access.chapter(slug)
            g.api_currency = grant.chapter_currency
            args = parse(loaded)
            if row is None:
                return jsonify(answered.dump(view(grant, args)))
            rows, total = view(grant, args)
            items = listed.dump(rows)
            if args["format"] == "csv":
                return _csv(items, listed, f"{grant.chapter_slug}-{view.__name__}", total)
            return jsonify(items=items, page=args["page"], per_page=args["per_page"], total=total)

        # What the OpenAPI document says of it, read from the app's views (openapi_document).
        endpoint.operation = Operation(
            rule, view.__name__, query, answer, title, description, row is not None
        )
        api.add_url_rule(rule, view.__name__, endpoint, methods=["GET"])
        return view

    return register


def _period(grant: access.ApiAccess, args) -> periods.Period:
    """`from` and `to` as the chapter's local days (default: since the beginning, up to today)."""
    return periods.Period.of(args.get("from_"), args.get("to"), zone=grant.chapter_timezone)


def _optional_period(grant: access.ApiAccess, args) -> periods.Period | None:
    if args.get("from_") is None and args.get("to") is None:
        return None
    return _period(grant, args)


@report(
    "/chapters",
    query=arguments.ChaptersQuery,
    answer=schemas.ChapterPage,
    row=schemas.ChapterRow,
    title="The chapters this token reads",
    description="A token reads the one chapter it was created for, while its member organizes it.",
)
def chapters_list(grant: access.ApiAccess, args):
    return lists.chapter_rows(grant.chapter_id)


@report(
    "/chapters/<slug>/summary",
    query=arguments.SummaryQuery,
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
    return {"chapter": grant.chapter_slug, **summary_figures(grant.chapter_id, _period(grant, args))}


@report(
    "/chapters/<slug>/members",
    query=arguments.MembersQuery,
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
    rows, total = member_rows(grant.chapter_id, query, zone=grant.chapter_timezone)
    # Dumped by key (mappings): the schema tries a key before an attribute, which on a Row raises first.
    return [row._mapping for row in rows], total


@report(
    "/chapters/<slug>/introductions",
    query=arguments.IntroductionsQuery,
    answer=schemas.IntroductionPage,
    row=schemas.IntroductionRow,
    title="Introductions, newest first",
    description="Filtered by state (`status`) and by the day they were made (`from`, `to`).",
)
def introductions(grant: access.ApiAccess, args):
    return lists.introduction_rows(
        grant.chapter_id,
        status=args.get("status"),
        period=_optional_period(grant, args),
        page=args["page"],
        per_page=args["per_page"],
    )


@report(
    "/chapters/<slug>/needs",
    query=arguments.NeedsQuery,
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
    query=arguments.LedgerQuery,
    answer=schemas.LedgerPage,
    row=schemas.LedgerTransactionRow,
    title="Ledger transactions with their entries, newest first",
    description=(
        "Filtered by the day they were recorded (`from`, `to`). Each transaction's entries sum to zero."
    ),
)
def ledger(grant: access.ApiAccess, args):
    return lists.ledger_rows(
        grant.chapter_id, period=_optional_period(grant, args), page=args["page"], per_page=args["per_page"]
    )


@report(
    "/chapters/<slug>/activity",
    query=arguments.ActivityQuery,
    answer=schemas.ActivityPage,
    row=schemas.ActivityRow,
    title="A row per week or month: needs posted, introductions made and completed, business closed",
    description=(
        "Rows cover every whole week (Monday to Sunday) or calendar month that overlaps `from`..`to`, "
        "oldest first. Default: the 12 periods up to the one holding `to` (default today)."
    ),
)
def activity(grant: access.ApiAccess, args):
    period = _period(grant, args)
    timeline = periods.Timeline.covering(args["interval"], period.start, period.end)
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


def init_app(app: Flask) -> None:
    # Limits are equal by value, so a process that makes several apps keeps each once.
    limiter.limit(_per_token_limit, key_func=_token_key, error_message=TOO_MANY)(api)
    limiter.limit(_per_address_limit, error_message=TOO_MANY)(api)
    csrf.exempt(api)  # token-authenticated and read-only: no cookie, so no cross-site forgery
    app.register_blueprint(api)
    app.register_blueprint(api_docs)
