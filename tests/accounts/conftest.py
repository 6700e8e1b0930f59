"""Fixtures for races: code that commits for real, each request on its own session and connection."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Integer, delete, false, func, or_, select

from referral_hub.extensions import db


def _newest_ids() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.coalesce(func.max(table.c.id), 0)))
            for table in db.metadata.sorted_tables
            if "id" in table.c and isinstance(table.c.id.type, Integer)
        }


@pytest.fixture
def committed(app, db_session):
    """Swap the test's rolled-back session for real ones, as concurrent requests have.

    Each app context (each request, each thread) gets its own session and connection, and its
    commits are real. Afterwards every row added during the test is deleted, children first.
    """
    before = _newest_ids()
    test_session, db.session = db.session, db._make_scoped_session({})
    try:
        yield
    finally:
        db.session.remove()
        db.session = test_session
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(delete(table).where(_added(table, before)))


def _added(table, before: dict[str, int]):
    """Rows added since `before`: by id, or for a table keyed by a parent (or by a hash, as sessions are),
    by the parent's id; none of a table with neither (the guest suppression list)."""
    if table.name in before:
        return table.c.id > before[table.name]
    return or_(
        false(),
        *(
            key.parent > before[key.column.table.name]
            for key in table.foreign_keys
            if key.column.table.name in before and key.column.name == "id"
        ),
    )


def race(*attempts: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run each attempt in its own thread, all released at once; return their results in order."""
    start = threading.Barrier(len(attempts))
    results: list[Any] = [None] * len(attempts)

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = attempts[index]()
        except BaseException as error:  # re-raised in the test's thread
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
