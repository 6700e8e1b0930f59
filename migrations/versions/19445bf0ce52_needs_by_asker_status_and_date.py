"""needs by asker, status and date (a member's own open needs, newest first, from the index); the indexes
that the report lists' (chapter_id[, state|status], created_at, id) indexes now cover are dropped

Revision ID: 19445bf0ce52
Revises: 4a06b3ac7776
Create Date: 2026-12-03 23:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "19445bf0ce52"
down_revision = "4a06b3ac7776"
branch_labels = None
depends_on = None

# Each is the leading part of an index 4a06b3ac7776 made: every query it served, that one serves.
COVERED = (
    ("introductions", "ix_introductions_chapter_created", ["chapter_id", "created_at"]),
    ("ledger_transactions", "ix_ledger_transactions_chapter_created", ["chapter_id", "created_at"]),
    ("needs", "ix_needs_chapter_created", ["chapter_id", "created_at"]),
    ("needs", "ix_needs_chapter_status_created", ["chapter_id", "status", "created_at"]),
    ("needs", "ix_needs_asker_id", ["asker_id"]),
)


def upgrade():
    # Plain index operations on both databases: a batch operation could rebuild a table on SQLite and
    # drop its triggers (the needs' text search).
    op.create_index("ix_needs_asker_status_created", "needs", ["asker_id", "status", "created_at"])
    for table, name, _columns in COVERED:
        op.drop_index(name, table_name=table)


def downgrade():
    for table, name, columns in reversed(COVERED):
        op.create_index(name, table, columns)
    op.drop_index("ix_needs_asker_status_created", table_name="needs")
