"""report indexes: the dashboard's short lists read the kept member figures from either end; a
period's completion counts read from an index alone

Revision ID: 7c2f9e4b1d35
Revises: 514c4eece502
Create Date: 2026-12-03 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c2f9e4b1d35"
down_revision = "514c4eece502"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_member_figures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_member_figures_giving_and_asking",
            ["chapter_id", sa.text("(intros_completed + needs_posted)")],
            unique=False,
        )
        batch_op.create_index(
            "ix_report_member_figures_last_active",
            ["chapter_id", "last_active_at"],
            unique=False,
            postgresql_include=["member_id", "last_completed_at"],
        )
    with op.batch_alter_table("report_completion_hours", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_completion_hours_counts",
            ["chapter_id", "day", "whole_hours"],
            unique=False,
            postgresql_include=["completions"],
        )


def downgrade():
    with op.batch_alter_table("report_completion_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_report_completion_hours_counts")
    with op.batch_alter_table("report_member_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_report_member_figures_last_active")
        batch_op.drop_index("ix_report_member_figures_giving_and_asking")
