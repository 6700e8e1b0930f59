"""needs by asker, status and date: a member's own open needs, newest first, read from the index

Revision ID: 19445bf0ce52
Revises: 7c2f9e4b1d35
Create Date: 2026-12-03 23:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "19445bf0ce52"
down_revision = "7c2f9e4b1d35"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("needs") as batch_op:
        batch_op.create_index("ix_needs_asker_status_created", ["asker_id", "status", "created_at"])
        batch_op.drop_index("ix_needs_asker_id")


def downgrade():
    with op.batch_alter_table("needs") as batch_op:
        batch_op.create_index("ix_needs_asker_id", ["asker_id"])
        batch_op.drop_index("ix_needs_asker_status_created")
