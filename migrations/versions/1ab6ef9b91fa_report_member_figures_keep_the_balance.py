"""report member figures keep each member's ledger balance in the chapter, moved by every posting, and
two indexes (up, down) through which the members table reads a page sorted by it, as by the other figures

Revision ID: 1ab6ef9b91fa
Revises: 22c3caec4f49
Create Date: 2026-12-04 17:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1ab6ef9b91fa"
down_revision = "22c3caec4f49"
branch_labels = None
depends_on = None


def upgrade():
    # Plain operations on both databases: a batch operation could rebuild a table on SQLite.
    op.add_column(
        "report_member_figures", sa.Column("balance", sa.Integer(), nullable=False, server_default="0")
    )
    # The report figures' backfill (moved here from 1286964e418b: it reads the current models, so it
    # runs in the latest migration that changes what the recount reads). Each member's balance is
    # recounted from their ledger entries in the chapter, which `ledger verify` holds equal to the
    # account's cached balance.
    from referral_hub.reports.counting import rebuild

    rebuild(op.get_bind())
    balance = sa.column("balance")
    for suffix, ordered in (("", balance), ("_desc", balance.desc())):
        op.create_index(
            f"ix_report_member_figures_by_balance{suffix}",
            "report_member_figures",
            ["chapter_id", ordered, sa.text("lower(display_name)"), "member_id"],
        )


def downgrade():
    for suffix in ("_desc", ""):
        op.drop_index(f"ix_report_member_figures_by_balance{suffix}", table_name="report_member_figures")
    op.drop_column("report_member_figures", "balance")
