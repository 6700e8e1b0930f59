"""Database plumbing: upserts built and compiled once, on the database the tests run on."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import literal, select, text

from referral_hub.database import Cursor, UTCDateTime, column_parameters, upsert_built_once
from referral_hub.extensions import db
from referral_hub.relationships.models import NudgeResponse
from tests.conftest import ON_POSTGRESQL
from tests.factories import MemberFactory

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REPLACED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # a constant the build writes into its ON CONFLICT

built = []


@upsert_built_once
def _answering(insert, answer: str):
    built.append(answer)
    responses = NudgeResponse.__table__
    statement = insert(responses).values(
        column_parameters(responses, ("member_id", "other_id", "updated_at", answer))
    )
    return statement.on_conflict_do_update(
        index_elements=["member_id", "other_id"],
        set_={answer: statement.excluded[answer], "updated_at": literal(REPLACED_AT, UTCDateTime())},
    )


def test_an_upsert_is_built_once_per_dialect_and_choice_and_inserts_then_updates():
    ann, bob = MemberFactory(), MemberFactory()
    pair = {"member_id": ann.id, "other_id": bob.id, "updated_at": NOW}
    built.clear()
    assert _answering("snoozed_until") is _answering("snoozed_until")
    db.session.execute(_answering("snoozed_until"), {**pair, "snoozed_until": NOW + timedelta(days=30)})
    db.session.execute(_answering("snoozed_until"), {**pair, "snoozed_until": NOW + timedelta(days=7)})
    db.session.execute(_answering("dismissed_lapse_at"), {**pair, "dismissed_lapse_at": NOW})
    assert built == ["snoozed_until", "dismissed_lapse_at"]
    row = db.session.execute(
        select(NudgeResponse.snoozed_until, NudgeResponse.dismissed_lapse_at, NudgeResponse.updated_at)
    ).one()
    # The parameters keep their columns' types (a UTC moment reads back as one), the constant its value.
    assert tuple(row) == (NOW + timedelta(days=7), NOW, REPLACED_AT)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="GIN indexes exist on PostgreSQL only")
def test_every_gin_index_is_written_through_with_no_pending_list_for_searches_to_scan():
    options = dict(
        db.session.execute(
            text(
                "SELECT index_class.relname, array_to_string(index_class.reloptions, ',') FROM pg_index "
                "JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid "
                "JOIN pg_am ON pg_am.oid = index_class.relam WHERE pg_am.amname = 'gin'"
            )
        ).all()
    )
    searched = {"ix_members_directory_search", "ix_members_profile_search", "ix_needs_text_search"}
    assert set(options) == searched
    assert all(option == "fastupdate=off" for option in options.values()), options


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the app's cursor class is psycopg's")
def test_a_result_is_described_as_psycopg_describes_it_when_its_columns_are_read():
    connection = db.session.connection().connection.driver_connection
    assert connection.cursor_factory is Cursor
    statement = "SELECT 1 AS one, 'x'::varchar(12) AS word, NULL::timestamptz AS moment"
    ours, theirs = connection.cursor(), psycopg.Cursor(connection)
    ours.execute(statement)
    theirs.execute(statement)
    assert len(ours.description) == 3
    described = [(c.name, c.type_code, c.internal_size, c.precision, c.scale) for c in ours.description]
    assert described == [
        (c.name, c.type_code, c.internal_size, c.precision, c.scale) for c in theirs.description
    ]
    assert ours.description[1].type_display == "varchar(12)"
    # No rows, no description; an unread description of an earlier result is not read from a later one.
    earlier = ours.description
    ours.execute("SET LOCAL statement_timeout = 0")
    assert ours.description is None
    with pytest.raises(psycopg.InterfaceError):
        earlier[0]
    # A statement SQLAlchemy has not seen yet is read through the description: columns by name.
    assert db.session.execute(text("SELECT 2 AS two, 'y' AS why")).one()._asdict() == {"two": 2, "why": "y"}
