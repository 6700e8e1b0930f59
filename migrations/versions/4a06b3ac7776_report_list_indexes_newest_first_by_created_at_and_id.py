"""report list indexes: the API's introductions, needs and ledger lists find a page newest first, in
their order (created_at, then id), from an index alone

Revision ID: 4a06b3ac7776
Revises: 7c2f9e4b1d35
Create Date: 2026-12-03 23:50:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "4a06b3ac7776"
down_revision = "7c2f9e4b1d35"
branch_labels = None
depends_on = None

INDEXES = (
    ("introductions", "ix_introductions_chapter_created_id", ["chapter_id", "created_at", "id"]),
    (
        "introductions",
        "ix_introductions_chapter_state_created_id",
        ["chapter_id", "state", "created_at", "id"],
    ),
    ("needs", "ix_needs_chapter_created_id", ["chapter_id", "created_at", "id"]),
    ("needs", "ix_needs_chapter_status_created_id", ["chapter_id", "status", "created_at", "id"]),
    ("ledger_transactions", "ix_ledger_transactions_chapter_created_id", ["chapter_id", "created_at", "id"]),
)


def upgrade():
    # Plain CREATE INDEX on both databases: a batch operation could rebuild a table on SQLite and drop
    # its triggers (the needs' text search).
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
