"""Marshmallow schemas at the API's edge: the query parameters it accepts, strictly (ASCII digits,
ISO dates; unknown parameters are an error). Their descriptions document the API."""

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow.validate import OneOf, Range

from ...clock import FIRST_DAY, LAST_DAY
from ...introductions.models import IntroState
from ...needs.models import NeedStatus
from ...reports.members import MEMBER_SORTS
from ...reports.periods import MONTH, WEEK

MAX_PER_PAGE = 100


class Digits(fields.Integer):
    """A whole number written in ASCII digits only: not `٣`, `+5`, `1_000` or ` 5`, which `int()` takes."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(fields.Date):
    """A day written `YYYY-MM-DD` only: not `20260101` or other ISO 8601 forms `fromisoformat` takes."""

    ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def _deserialize(self, value, attr, data, **kwargs):
        if not (isinstance(value, str) and self.ISO_DAY.fullmatch(value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _day(description: str, **options) -> fields.Date:
    return Day(
        validate=Range(min=FIRST_DAY, max=LAST_DAY, error="Give a date from {min} to {max}."),
        # Say the range in the document too: apispec writes a date's Range only as x-minimum/x-maximum.
        metadata={"description": description, "pattern": r"^(19|2\d)\d\d-\d\d-\d\d$"},
        **options,
    )


# Query parameters ------------------------------------------------------------------------------------


class Query(Schema):
    """Unknown parameters are refused, so a typo is an error rather than a silently ignored filter."""

    class Meta:
        unknown = RAISE


class PeriodQuery(Query):
    from_ = _day(
        "First day of the period, ISO 8601 (YYYY-MM-DD), in the chapter's time zone, included. "
        "Default: no lower bound.",
        data_key="from",
    )
    to = _day(
        "Last day of the period, ISO 8601 (YYYY-MM-DD), in the chapter's time zone, included. "
        "Default: today there."
    )

    @validates_schema
    def _ordered(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must be on or after `from`.", "to")


class ListQuery(Query):
    page = Digits(
        load_default=1, validate=Range(1, 1_000_000), metadata={"description": "Page number, from 1."}
    )
    per_page = Digits(
        load_default=50,
        validate=Range(1, MAX_PER_PAGE),
        metadata={"description": f"Rows per page, at most {MAX_PER_PAGE}."},
    )
    format = fields.String(
        load_default="json",
        validate=OneOf(["json", "csv"]),
        metadata={"description": "`csv` answers the same rows as CSV, with a header line."},
    )


class ChaptersQuery(ListQuery):
    pass


class SummaryQuery(PeriodQuery):
    pass


class MembersQuery(ListQuery):
    sort = fields.String(
        load_default="display_name",
        validate=OneOf(MEMBER_SORTS),
        metadata={"description": "Column to sort by; ties are broken by name."},
    )
    order = fields.String(load_default="asc", validate=OneOf(["asc", "desc"]))


class IntroductionsQuery(ListQuery, PeriodQuery):
    status = fields.Enum(
        IntroState, by_value=True, metadata={"description": "Only introductions in this state."}
    )


class NeedsQuery(ListQuery):
    status = fields.Enum(NeedStatus, by_value=True, metadata={"description": "Only needs with this status."})


class LedgerQuery(ListQuery, PeriodQuery):
    pass


class ActivityQuery(ListQuery, PeriodQuery):
    interval = fields.String(
        load_default=WEEK,
        validate=OneOf([WEEK, MONTH]),
        metadata={"description": "`week` (ISO weeks, Monday to Sunday) or `month` (calendar months)."},
    )
