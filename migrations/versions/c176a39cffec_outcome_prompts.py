"""outcome prompts: the policy's outcome_prompt_days, and when each party was asked what came of it

Revision ID: c176a39cffec
Revises: 2aaab606211d
Create Date: 2026-12-03 11:57:29.745688

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c176a39cffec"
down_revision = '2aaab606211d'
branch_labels = None
depends_on = None


def upgrade():
    # Existing policies take the default, 14 days; new rows always carry the value from the app.
    with op.batch_alter_table("chapter_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_prompt_days", sa.Integer(), nullable=False, server_default="14"))
    with op.batch_alter_table("chapter_policies", schema=None) as batch_op:
        batch_op.alter_column("outcome_prompt_days", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_chapter_policies_outcome_prompt_days_in_range"), "outcome_prompt_days BETWEEN 1 AND 365"
        )

    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_prompted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("outcome_prompted_at")

    with op.batch_alter_table("chapter_policies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_chapter_policies_outcome_prompt_days_in_range"), type_="check")
        batch_op.drop_column("outcome_prompt_days")
