"""chapter time zone, language and currency; a member's own language and time zone

Revision ID: 64bb43935f6f
Revises: 8dfe07a1914f
Create Date: 2026-12-03 15:42:27.604286

"""

import sqlalchemy as sa

from referral_hub.database import keeping_sqlite_triggers
from alembic import op

# revision identifiers, used by Alembic.
revision = "64bb43935f6f"
down_revision = "8dfe07a1914f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False))
        batch_op.add_column(sa.Column("language", sa.String(length=8), server_default="en", nullable=False))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))

    with keeping_sqlite_triggers(op.get_bind(), "members"), op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade():
    with keeping_sqlite_triggers(op.get_bind(), "members"), op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("timezone")
        batch_op.drop_column("language")

    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.drop_column("currency")
        batch_op.drop_column("language")
        batch_op.drop_column("timezone")
