"""The SQL aggregates the reports are built from: counts, sums, time windows, hours between, quarter hours."""

from datetime import datetime

from sqlalchemy import BigInteger, and_, func, select
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


QUARTER_HOUR_SECONDS = 900


class quarter_hour(FunctionElement):  # noqa: N801 - reads as the SQL function it stands for
    """The UTC quarter hour a timestamp falls in, numbered from the Unix epoch, computed by the database.

    Every zone's offset from UTC has been a whole number of quarter hours since 1980, so no local
    midnight falls inside a quarter hour: its instants all share a local day (reports.counting)."""

    type = BigInteger()
    name = "quarter_hour"
    inherit_cache = True


@compiles(quarter_hour)
def _quarter_hour(element, compiler, **kw):
    at = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {at}) / {QUARTER_HOUR_SECONDS}) AS BIGINT)"


@compiles(quarter_hour, "sqlite")
def _quarter_hour_sqlite(element, compiler, **kw):
    # SQLite reads a time to the millisecond, rounding 23:59:59.9999 up to the next day: the whole
    # seconds are read from the stored text (`YYYY-MM-DD HH:MM:SS.ffffff`) alone. Its integer division
    # truncates towards zero: the remainder goes first, so that times before 1970 round down as well.
    seconds = f"CAST(strftime('%s', substr({compiler.process(element.clauses, **kw)}, 1, 19)) AS INTEGER)"
    remainder = f"(({seconds} % {QUARTER_HOUR_SECONDS}) + {QUARTER_HOUR_SECONDS}) % {QUARTER_HOUR_SECONDS}"
    return f"(({seconds} - {remainder}) / {QUARTER_HOUR_SECONDS})"
