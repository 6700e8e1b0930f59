"""report transaction days: the ledger's transactions counted per chapter day, for the API's ledger total

Revision ID: 672ca29ea409
Revises: b7e3c51d9a20
Create Date: 2026-12-04 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "672ca29ea409"
down_revision = "b7e3c51d9a20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_transaction_days",
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_report_transaction_days_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chapter_id", "day", name=op.f("pk_report_transaction_days")),
    )

    # The backfill: every transaction counted on its chapter's local day.
    from referral_hub.reports.transactions import rebuild

    rebuild(op.get_bind())


def downgrade():
    op.drop_table("report_transaction_days")
