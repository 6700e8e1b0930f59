"""membership names: each membership keeps its member's display name, and an index lists a chapter's
current members by it (the members table's pages)

Revision ID: b7e3c51d9a20
Revises: 19445bf0ce52
Create Date: 2026-12-04 04:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e3c51d9a20"
down_revision = "19445bf0ce52"
branch_labels = None
depends_on = None


def upgrade():
    # Plain operations on both databases: a batch operation could rebuild a table on SQLite.
    op.add_column("memberships", sa.Column("display_name", sa.String(length=80), nullable=True))
    op.execute(
        "UPDATE memberships SET display_name = "
        "(SELECT members.display_name FROM members WHERE members.id = memberships.member_id)"
    )
    op.create_index(
        "ix_memberships_chapter_status_name",
        "memberships",
        ["chapter_id", "status", sa.text("lower(display_name)"), "member_id"],
    )


def downgrade():
    op.drop_index("ix_memberships_chapter_status_name", table_name="memberships")
    op.drop_column("memberships", "display_name")
