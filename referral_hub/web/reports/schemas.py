"""Marshmallow schemas at the API's edge: the JSON it answers (arguments.py: what it accepts).

The descriptions here are the API's documentation: the OpenAPI document is generated from them.
"""

from flask import g
from marshmallow import Schema, fields
from marshmallow.validate import OneOf

from ...introductions.models import IntroState, OutcomeKind
from ...ledger.models import Kind
from ...needs.models import NeedStatus

STATUSES = ("green", "amber", "red")

ACTIVITY = (
    "An activity is posting a need, making an introduction, answering one (accept or decline) or "
    "reporting an outcome; joining is not one."
)
STATUS = (
    "As of today: `green` made an introduction that completed in the last 90 days; `amber` not green "
    "but active (any activity) in the last 90 days; `red` no activity in the last 90 days. The last "
    "90 days are today and the 89 days before it (the chapter's days), as in a summary up to today."
)
GIVE_RATIO = (
    "giving / (giving + asking), where giving = introductions this member made that completed and "
    "asking = needs this member posted, all time; 1 only gives, 0 only asks, null when both are 0."
)
ACCEPTANCE_RATE = (
    "Of the introductions resolved in the period (completed, declined or expired), the share that "
    "completed (both parties accepted); null when none resolved."
)


# Responses --------------------------------------------------------------------------------------------


class Rounded(fields.Float):
    """A float rounded for reading; the sort order uses the exact value."""

    def __init__(self, places: int = 3, **kwargs):
        self.places = places
        super().__init__(allow_nan=False, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(float(value), self.places)


class ChapterCurrency(fields.String):
    """The chapter's currency, the same on every row of an answer: it is the request's, not the row's."""

    def __init__(self, **kwargs):
        super().__init__(
            dump_only=True,
            required=True,
            allow_none=True,
            metadata={
                "description": "ISO 4217 code of the amounts beside it: the chapter's currency; "
                "null when the chapter has none (plain numbers).",
                "example": "EUR",
            },
            **kwargs,
        )

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return g.get("api_currency")


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable."})
    message = fields.String(required=True, metadata={"description": "For people: what went wrong and why."})
    fields_ = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        data_key="fields",
        metadata={"description": "For 422: each refused parameter with its problems."},
    )


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class ChapterRow(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    members = fields.Integer(required=True, metadata={"description": "Current members, organizers included."})


class MemberTotals(Schema):
    total = fields.Integer(
        required=True, metadata={"description": "Every current member, organizers included."}
    )
    new = fields.Integer(required=True, metadata={"description": "Current members who joined in the period."})
    active = fields.Integer(
        required=True, metadata={"description": f"Current members with an activity in the period. {ACTIVITY}"}
    )
    dormant = fields.Integer(
        required=True,
        metadata={
            "description": "Current members with no activity in the 90 days up to the end of the period."
        },
    )


class NeedTotals(Schema):
    posted = fields.Integer(required=True, metadata={"description": "Needs posted in the period."})
    open = fields.Integer(required=True, metadata={"description": "Needs open at the end of the period."})
    fulfilled = fields.Integer(
        required=True, metadata={"description": "Needs marked fulfilled in the period."}
    )
    expired = fields.Integer(required=True, metadata={"description": "Needs that expired in the period."})


class IntroductionTotals(Schema):
    made = fields.Integer(required=True, metadata={"description": "Introductions made in the period."})
    completed = fields.Integer(
        required=True, metadata={"description": "Introductions that completed (both accepted) in the period."}
    )
    declined = fields.Integer(
        required=True, metadata={"description": "Introductions declined in the period."}
    )
    expired = fields.Integer(
        required=True, metadata={"description": "Introductions that expired in the period."}
    )
    pending = fields.Integer(
        required=True,
        metadata={"description": "Introductions still waiting for answers at the end of the period."},
    )
    acceptance_rate = Rounded(required=True, allow_none=True, metadata={"description": ACCEPTANCE_RATE})
    median_hours_to_complete = Rounded(
        1,
        required=True,
        allow_none=True,
        metadata={
            "description": "Median hours from introduction to completion, of those completed in the period."
        },
    )
    guest_made = fields.Integer(
        required=True,
        metadata={"description": "Of those made, introductions to guests (outside the chapter)."},
    )
    guest_completed = fields.Integer(
        required=True, metadata={"description": "Of those completed, introductions to guests."}
    )


class BusinessTotals(Schema):
    count = fields.Integer(
        required=True, metadata={"description": "Business-closed outcomes reported in the period."}
    )
    amount = fields.Integer(required=True, metadata={"description": "Their amounts added up."})
    currency = ChapterCurrency()


class CreditTotals(Schema):
    issued = fields.Integer(
        required=True, metadata={"description": "Credits paid into members' accounts in the period."}
    )
    spent = fields.Integer(
        required=True,
        metadata={"description": "Credits taken out of members' accounts in the period (asks, reversals)."},
    )
    balance_sum = fields.Integer(
        required=True,
        metadata={"description": "Credits held by all member accounts at the end of the period."},
    )


class Summary(Schema):
    chapter = fields.String(required=True)
    from_ = fields.Date(required=True, allow_none=True, attribute="from", data_key="from")
    to = fields.Date(required=True)
    members = fields.Nested(MemberTotals, required=True)
    needs = fields.Nested(NeedTotals, required=True)
    introductions = fields.Nested(IntroductionTotals, required=True)
    business_closed = fields.Nested(BusinessTotals, required=True)
    credits = fields.Nested(CreditTotals, required=True)


class MemberRow(Schema):
    member_id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    joined_at = fields.DateTime(required=True)
    intros_made = fields.Integer(required=True, metadata={"description": "Introductions this member made."})
    intros_completed = fields.Integer(
        required=True, metadata={"description": "Introductions this member made that completed."}
    )
    intros_received = fields.Integer(
        required=True,
        metadata={"description": "Introductions in which this member was one of the two parties."},
    )
    needs_posted = fields.Integer(required=True)
    business_given_amount = fields.Integer(
        required=True, metadata={"description": "Business closed on introductions this member made."}
    )
    business_received_amount = fields.Integer(
        required=True, metadata={"description": "Business this member reported receiving from introductions."}
    )
    currency = ChapterCurrency()
    balance = fields.Integer(required=True, metadata={"description": "Credits now."})
    give_ratio = Rounded(required=True, allow_none=True, metadata={"description": GIVE_RATIO})
    last_active_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": f"Time of the latest activity. {ACTIVITY}"}
    )
    status = fields.String(required=True, validate=OneOf(STATUSES), metadata={"description": STATUS})


class IntroductionRow(Schema):
    id = fields.Integer(required=True)
    status = fields.Enum(IntroState, by_value=True, required=True)
    created_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "When declined or expired."}
    )
    hours_to_complete = Rounded(1, required=True, allow_none=True)
    introducer_id = fields.Integer(required=True)
    introducer_name = fields.String(required=True)
    first_id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    second_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The second member; null for a guest."}
    )
    second_name = fields.String(
        required=True, metadata={"description": 'The second member\'s name; "Guest" for a guest.'}
    )
    second_party = fields.String(
        required=True,
        validate=OneOf(("member", "guest")),
        metadata={"description": "Whether the second party is a member or a guest (never named)."},
    )
    need_id = fields.Integer(required=True, allow_none=True)
    outcome = fields.Enum(
        OutcomeKind,
        by_value=True,
        required=True,
        allow_none=True,
        metadata={
            "description": "The strongest outcome reported: business_closed, then met, then not_a_fit."
        },
    )
    business_amount = fields.Integer(
        required=True, metadata={"description": "Business closed on it, added up."}
    )
    currency = ChapterCurrency()


class NeedRow(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    status = fields.Enum(NeedStatus, by_value=True, required=True)
    asker_id = fields.Integer(required=True)
    asker_name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    introductions = fields.Integer(
        required=True, metadata={"description": "Introductions made for this need."}
    )


class LedgerEntryRow(Schema):
    account_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True, allow_none=True, metadata={"description": "null: the pool."})
    member_name = fields.String(required=True, allow_none=True)
    amount = fields.Integer(
        required=True, metadata={"description": "Credits into (+) or out of (−) the account."}
    )


class LedgerTransactionRow(Schema):
    id = fields.Integer(required=True)
    kind = fields.Enum(Kind, by_value=True, required=True)
    memo = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    caused_by_id = fields.Integer(required=True, allow_none=True)
    subject_type = fields.String(required=True, allow_none=True)
    subject_id = fields.Integer(required=True, allow_none=True)
    reverses_id = fields.Integer(required=True, allow_none=True)
    # One dump of a transaction's entries, not one per entry as a List of Nested would make.
    entries = fields.Nested(
        LedgerEntryRow,
        many=True,
        required=True,
        metadata={"description": "They sum to zero. In CSV, a JSON array."},
    )


class ActivityRow(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True, metadata={"description": "Last day of the period, included."})
    needs_posted = fields.Integer(required=True)
    introductions_made = fields.Integer(required=True)
    introductions_completed = fields.Integer(required=True)
    business_closed = fields.Integer(
        required=True, metadata={"description": "Business-closed outcomes reported."}
    )
    business_amount = fields.Integer(required=True)
    currency = ChapterCurrency()


def page_of(row: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(row), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True, metadata={"description": "Rows in all pages."}),
        },
        name=name,
    )


ChapterPage = page_of(ChapterRow, "ChapterPage")
MemberPage = page_of(MemberRow, "MemberPage")
IntroductionPage = page_of(IntroductionRow, "IntroductionPage")
NeedPage = page_of(NeedRow, "NeedPage")
LedgerPage = page_of(LedgerTransactionRow, "LedgerPage")
ActivityPage = page_of(ActivityRow, "ActivityPage")
