"""report completion durations and their counts per chapter day and whole hour, for the median

Revision ID: 1eb7d6a42619
Revises: 5e1a7c93d2b4
Create Date: 2026-12-03 19:29:28.644306

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1eb7d6a42619"
down_revision = "5e1a7c93d2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_completion_hours",
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("whole_hours", sa.Integer(), nullable=False),
        sa.Column("completions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_report_completion_hours_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chapter_id", "day", "whole_hours", name=op.f("pk_report_completion_hours")),
    )
    op.create_table(
        "report_completion_durations",
        sa.Column("introduction_id", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Double(), nullable=False),
        sa.Column("whole_hours", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_report_completion_durations_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["introduction_id"],
            ["introductions.id"],
            name=op.f("fk_report_completion_durations_introduction_id_introductions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("introduction_id", name=op.f("pk_report_completion_durations")),
    )
    with op.batch_alter_table("report_completion_durations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_completion_durations_chapter_id"),
            ["chapter_id", "whole_hours", "completed_at", "hours"],
            unique=False,
        )

    # The backfill: every completed introduction's duration, counted per chapter day and whole hour.
    from referral_hub.reports.completions import rebuild

    rebuild(op.get_bind())


def downgrade():
    with op.batch_alter_table("report_completion_durations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_completion_durations_chapter_id"))

    op.drop_table("report_completion_durations")
    op.drop_table("report_completion_hours")
