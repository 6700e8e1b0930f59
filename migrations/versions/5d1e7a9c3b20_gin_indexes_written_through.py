"""GIN indexes written through (PostgreSQL): a new or edited member or need enters the search indexes
at once, not a pending list that every search reads row by row until a vacuum merges it

Revision ID: 5d1e7a9c3b20
Revises: 1ab6ef9b91fa
Create Date: 2026-12-05 00:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5d1e7a9c3b20"
down_revision = "1ab6ef9b91fa"
branch_labels = None
depends_on = None

# The directory's trigram search and the matching's two full-text indexes. With `fastupdate` (on by
# default) an insert appends to the index's pending list, which every search scans in full: up to
# gin_pending_list_limit (4 MB) of rows between autovacuums. Members and needs are written far less
# often than they are searched.
GIN_INDEXES = ("ix_members_directory_search", "ix_members_profile_search", "ix_needs_text_search")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in GIN_INDEXES:
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        # Turning it off does not merge what is pending already.
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in GIN_INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
