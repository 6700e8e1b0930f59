"""Database plumbing shared by every domain: UTC timestamps, time differences in SQL, SQLite and
PostgreSQL connection settings, upserts, paging, several short lists in one query."""

import enum
import functools
import logging
import math
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import psycopg
from sqlalchemy import DateTime, Enum, Float, bindparam, case, event, func, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from .extensions import db


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class seconds_between(FunctionElement):  # noqa: N801 - reads as the SQL function it stands for
    """Seconds from the first timestamp to the second, as a float computed by the database."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


# The largest id the app accepts: PostgreSQL's INTEGER, which SQLite also fits.
MAX_INT = 2**31 - 1


def is_id(value) -> bool:
    """Whether `value` can be a row's id: a positive integer the database's INTEGER holds."""
    return isinstance(value, int) and 0 < value <= MAX_INT


# True while a request or command that may write runs: on SQLite its transactions begin IMMEDIATE.
# SQLite cannot upgrade a read snapshot that another writer has moved past (the upgrade fails at once
# with "database is locked", whatever the busy timeout), so a writer waits its turn up front instead.
write_lock_up_front: ContextVar[bool] = ContextVar("write_lock_up_front", default=False)


@contextmanager
def writing():
    """Transactions begun inside take SQLite's write lock up front."""
    token = write_lock_up_front.set(True)
    try:
        yield
    finally:
        write_lock_up_front.reset(token)


def writes(command):
    """Mark a command that writes: its transactions take SQLite's write lock up front."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        with writing():
            return command(*args, **kwargs)

    return run


def configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and transactions SQLAlchemy controls (savepoints work)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_lock_up_front.get() else "BEGIN")


class ResultColumns(Sequence):
    """A PostgreSQL result's `cursor.description`, its columns described when one is first read. After
    each statement SQLAlchemy asks for the description only to see whether rows came back, unless the
    statement's result columns are not known yet; psycopg would describe every column every time."""

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor, result):
        self._cursor, self._result, self._columns = cursor, result, None

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index):
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                raise psycopg.InterfaceError("the cursor has moved on from the result this described")
            self._columns = psycopg.Cursor.description.fget(self._cursor)
        return self._columns[index]


class Cursor(psycopg.Cursor):
    """psycopg's cursor, its description read when needed (`ResultColumns`)."""

    @property
    def description(self):
        result = self.pgresult
        if result is not None and result.nfields:
            return ResultColumns(self, result)
        return super().description


def configure_postgresql(engine: Engine) -> None:
    """Every connection's cursors are `Cursor`s."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.cursor_factory = Cursor


def enum_type(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A string column holding the enum's values, with a CHECK constraint listing them."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def upsert(table):
    """An INSERT into `table` that can say what to do ON CONFLICT (nothing, or an update), written in
    the session's dialect: PostgreSQL's and SQLite's share the syntax but not the SQLAlchemy construct."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert_built_once(build):
    """Decorate `build(insert, *choices)`, which writes an INSERT … ON CONFLICT with `insert` (the
    dialect's own construct) and every value a bind parameter: the statement is built and compiled once
    per dialect and choices, and runs as text SQL with the parameters' types (a constant the build
    writes, such as a literal, stays bound to its value).

    SQLAlchemy's ON CONFLICT constructs have no cache key, so one built per call is compiled per call
    (about 0.5 ms, on every write that records an interaction or keeps a figure). Text SQL does not
    flush the session first, as an ORM statement would: the caller flushes what the upsert depends on."""

    @functools.cache
    def compiled(dialect_name: str, *choices):
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        statement = build(dialect.insert, *choices).compile(dialect=dialect.dialect(paramstyle="named"))
        parameters = {
            name: bindparam(name, parameter.value, type_=parameter.type, required=parameter.required)
            for parameter, name in statement.bind_names.items()
        }
        return text(statement.string).bindparams(*parameters.values())

    @functools.wraps(build)
    def statement(*choices):
        return compiled(db.session.get_bind().dialect.name, *choices)

    return statement


def column_parameters(table, names) -> dict:
    """{column name: a bind parameter of that name and the column's type}, for an upsert built once."""
    return {name: bindparam(name, type_=table.c[name].type) for name in names}


def add_to_kept(
    table, keys: tuple[str, ...], values: dict, *, latest: tuple[str, ...] = (), looked_up: tuple = ()
) -> None:
    """Insert the kept row of `keys` with `values`, or add them to the row already there; a column of
    `latest` (a moment) moves forward only. The columns `values` leaves out start at their default,
    but those of `looked_up` ((name, SQL expression) pairs, read by a new row only) take the value of
    their expression, which may read `values`' parameters."""
    added = tuple(sorted(name for name in values if name not in keys and name not in latest))
    defaults = _defaults(table, frozenset(name for name, _expression in looked_up))
    db.session.execute(_adding_statement(table, keys, added, latest, looked_up), {**defaults, **values})


@functools.cache
def _defaults(table, computed: frozenset) -> dict:
    """Each column's scalar default (None where it has none), but for the `computed` columns."""
    return {
        column.name: column.default.arg if column.default is not None and column.default.is_scalar else None
        for column in table.columns
        if column.name not in computed
    }


@upsert_built_once
def _adding_statement(insert, table, keys: tuple, added: tuple, latest: tuple, looked_up: tuple):
    columns = table.columns
    computed = dict(looked_up)
    given = column_parameters(table, [column.name for column in columns if column.name not in computed])
    statement = insert(table).values({**given, **computed})

    def later(name: str):
        kept, new = columns[name], statement.excluded[name]
        return case((new.is_not(None) & (kept.is_(None) | (new > kept)), new), else_=kept)

    return statement.on_conflict_do_update(
        index_elements=[columns[name] for name in keys],
        set_={
            **{name: columns[name] + statement.excluded[name] for name in added},
            **{name: later(name) for name in latest},
        },
    )


def render_migration_type(type_, obj, _autogen_context):
    """Alembic hook: write UTCDateTime into migrations as a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Indexes written by hand in migrations for one database only (PostgreSQL trigram and full-text
# indexes, and DESC NULLS LAST orders), and one whose expression the database rewrites past
# autogenerate's comparison (the members' give ratio): autogenerate must not propose dropping or
# changing them.
HAND_WRITTEN_INDEXES = {
    "ix_members_directory_search",
    "ix_members_profile_search",
    "ix_needs_text_search",
    "ix_memberships_chapter_status_name_desc",
    "ix_memberships_chapter_status_joined_desc",
    "ix_report_member_figures_by_give_ratio",
    "ix_report_member_figures_by_give_ratio_desc",
}
# SQLite FTS5 tables written by hand in the relationships migration, with the shadow tables SQLite
# keeps for each (`<name>_data`, `<name>_idx`, ...): autogenerate must not propose dropping them.
HAND_WRITTEN_TABLE_PREFIXES = ("member_profiles_fts", "need_texts_fts")


@contextmanager
def keeping_sqlite_triggers(connection, table: str):
    """For a migration's batch change of `table`: on SQLite batch mode may rebuild the table, which
    drops its triggers (the profile search's, from the relationships migration); they are put back
    exactly as they were."""
    on_sqlite = connection.dialect.name == "sqlite"

    def triggers() -> list[str]:
        found = text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table")
        return connection.execute(found, {"table": table}).scalars().all() if on_sqlite else []

    before = triggers()
    yield
    after = set(triggers())
    for sql in before:
        if sql not in after:
            connection.execute(text(sql))


def include_in_autogenerate(obj, name, type_, reflected, _compare_to) -> bool:
    if type_ == "table" and reflected and name.startswith(HAND_WRITTEN_TABLE_PREFIXES):
        return False
    return not (type_ == "index" and name in HAND_WRITTEN_INDEXES)


def close_session(_error=None) -> None:
    """End the request's session. A connection the server closed after the last query (PostgreSQL
    restarting) fails the closing rollback; the response already stands, so log it, not a 500."""
    try:
        db.session.remove()
    except OperationalError as error:
        logging.getLogger("referral_hub").warning("connection lost while closing the session: %s", error.orig)
        db.session.remove()


class Page:
    """One page of a list, as the templates' pager reads it (`_forms.html`): its items and number,
    whether pages come before and after it and, where the list was counted, its total and pages."""

    def __init__(self, items: list, *, page: int, per_page: int, has_next: bool, total: int | None = None):
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.has_prev, self.has_next = page > 1, has_next
        self.prev_num, self.next_num = page - 1, page + 1

    @property
    def pages(self) -> int | None:
        return None if self.total is None else math.ceil(self.total / self.per_page)


def paged(statement, *, counted: bool = False, total=None):
    """The statement a page at a time, LIMIT and OFFSET as parameters that `page_of` fills: built once,
    it is not rebuilt nor its cache key generated again per page. `counted` adds each row's total of the
    whole list, for pages that show it: a window COUNT in the same query, or the scalar subquery `total`
    (one an index can count alone)."""
    if counted:
        total = func.count().over() if total is None else total
        statement = statement.add_columns(total.label("total"))
    return statement.limit(bindparam("limit")).offset(bindparam("offset"))


def page_of(
    statement, parameters: dict, *, page: int, per_page: int, counted: bool = False, total: int | None = None
) -> Page:
    """One page of a `paged` statement's rows, run with `parameters`: it reads `per_page + 1` rows to
    know whether a next page exists, so an uncounted list sends one query whatever its length. The
    list's total comes from a `counted` statement's rows, or is given (counted apart)."""
    offset = (page - 1) * per_page
    if not counted:
        run = {**parameters, "limit": per_page + 1, "offset": offset}
        rows = list(db.session.scalars(statement, run).unique())
        return Page(rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page, total=total)
    rows, total = counted_rows(statement, parameters, limit=per_page + 1, offset=offset)
    items = [row[0] for row in rows[:per_page]]
    return Page(items, page=page, per_page=per_page, has_next=len(rows) > per_page, total=total)


def counted_rows(statement, parameters: dict, *, limit: int, offset: int) -> tuple[list, int]:
    """Rows of a counted `paged` statement and the whole list's total, which each row carries: one
    query, unless the page lies past the last row, when the first row is read for the total."""
    rows = db.session.execute(statement, {**parameters, "limit": limit, "offset": offset}).unique().all()
    if rows or not offset:
        return rows, rows[0].total if rows else 0
    first = db.session.execute(statement, {**parameters, "limit": 1, "offset": 0}).first()
    return rows, first.total if first else 0


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching `text` anywhere, in lower case."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def first_of(name: str, limit, found, *order):
    """The first `limit` rows of `found` (a select of ids) in `order`, numbered, tagged `name` in a
    column `list`: a part of a UNION ALL that reads several short lists, each in its own order and
    limit, in one query (then joined to their rows once). ORDER BY and LIMIT inside, so that an index
    in that order stops the scan at `limit` rows, as a list of its own would."""
    ranked = (
        found.add_columns(literal(name).label("list"), func.row_number().over(order_by=order).label("rank"))
        .order_by(*order)
        .limit(limit)
        .subquery()
    )
    return select(ranked.c.id, ranked.c.list, ranked.c.rank)
