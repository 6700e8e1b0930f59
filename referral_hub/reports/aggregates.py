"""The SQL aggregates the reports are built from: counts, sums, time windows, hours between, UTC days."""

from datetime import datetime

from sqlalchemy import Date, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..database import seconds_between


def count_where(*conditions):
    """The number of rows matching `conditions`, as a scalar subquery."""
    return select(func.count()).where(*conditions).scalar_subquery()


def within(column, starts_at: datetime, ends_at: datetime):
    """`column` falls in [starts_at, ends_at)."""
    return and_(column >= starts_at, column < ends_at)


def sum_or_zero(expression):
    return func.coalesce(func.sum(expression), 0)


def hours_between(start, end):
    """Hours from the first timestamp to the second, as a float computed by the database."""
    return seconds_between(start, end) / 3600.0


class utc_day(FunctionElement):  # noqa: N801 - reads as the SQL function it stands for
    """The UTC calendar day of a timestamp, computed by the database."""

    type = Date()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day)
def _utc_day(element, compiler, **kw):
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"
