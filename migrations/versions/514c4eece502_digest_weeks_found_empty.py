"""digest weeks found empty: recorded, so the quarter-hourly job decides each member's week once

Revision ID: 514c4eece502
Revises: 1eb7d6a42619
Create Date: 2026-12-03 22:55:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "514c4eece502"
down_revision = "1eb7d6a42619"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("digest_deliveries") as batch_op:
        batch_op.add_column(sa.Column("empty", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    # The empty weeks go with their column: kept, they would read as digests that were sent.
    op.execute(sa.text("DELETE FROM digest_deliveries WHERE empty"))
    with op.batch_alter_table("digest_deliveries") as batch_op:
        batch_op.drop_column("empty")
