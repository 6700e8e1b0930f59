"""report member figures by each figure and then name: the figures keep their member's display name,
every membership gets its figures row (zeros until it acts), and two indexes for each figure the
members table sorts by (up, down), and the memberships' by name down and by joining date, read a page
of a chapter's members in order

Revision ID: 22c3caec4f49
Revises: 672ca29ea409
Create Date: 2026-12-04 14:20:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.elements import Grouping

# revision identifiers, used by Alembic.
revision = "22c3caec4f49"
down_revision = "672ca29ea409"
branch_labels = None
depends_on = None

COUNTS = (
    "intros_made",
    "intros_completed",
    "intros_received",
    "needs_posted",
    "business_given_amount",
    "business_received_amount",
)
SORTS = (*COUNTS, "give_ratio", "last_active_at")


def _give_ratio():
    """As reports.models.give_ratio writes it: each database's own division, the query's expression."""
    completed, posted = sa.column("intros_completed"), sa.column("needs_posted")
    given = sa.cast(completed, sa.Float) / (completed + posted)
    return Grouping(sa.case((completed + posted > sa.literal_column("0"), given), else_=None))


def upgrade():
    # Plain operations on both databases: a batch operation could rebuild a table on SQLite.
    op.add_column("report_member_figures", sa.Column("display_name", sa.String(length=80), nullable=True))
    op.execute(
        "UPDATE report_member_figures SET display_name = "
        "(SELECT members.display_name FROM members WHERE members.id = report_member_figures.member_id)"
    )
    values = {sort: sa.column(sort) for sort in (*COUNTS, "last_active_at")} | {"give_ratio": _give_ratio()}
    # Every membership has its figures row (reports.counting.on_membership_created), zeros if none yet.
    op.execute(
        f"INSERT INTO report_member_figures (chapter_id, member_id, {', '.join(COUNTS)}, display_name) "
        f"SELECT chapter_id, member_id, {', '.join('0' for _ in COUNTS)}, display_name FROM memberships "
        "WHERE NOT EXISTS (SELECT 1 FROM report_member_figures WHERE "
        "report_member_figures.chapter_id = memberships.chapter_id "
        "AND report_member_figures.member_id = memberships.member_id)"
    )
    for sort in SORTS:
        for suffix, ordered in (("", values[sort]), ("_desc", values[sort].desc())):
            op.create_index(
                f"ix_report_member_figures_by_{sort}{suffix}",
                "report_member_figures",
                ["chapter_id", ordered, sa.text("lower(display_name)"), "member_id"],
            )


    name, joined = sa.text("lower(display_name)"), sa.column("joined_at")
    op.create_index(
        "ix_memberships_chapter_status_joined", "memberships", ["chapter_id", "status", joined, name, "member_id"]
    )
    if op.get_bind().dialect.name == "postgresql":  # SQLite indexes no NULLS LAST
        op.create_index(
            "ix_memberships_chapter_status_name_desc",
            "memberships",
            ["chapter_id", "status", sa.text("lower(display_name) DESC NULLS LAST"), "member_id"],
        )
        op.create_index(
            "ix_memberships_chapter_status_joined_desc",
            "memberships",
            ["chapter_id", "status", joined.desc().nulls_last(), name, "member_id"],
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_memberships_chapter_status_joined_desc", table_name="memberships")
        op.drop_index("ix_memberships_chapter_status_name_desc", table_name="memberships")
    op.drop_index("ix_memberships_chapter_status_joined", table_name="memberships")
    for sort in reversed(SORTS):
        for suffix in ("_desc", ""):
            op.drop_index(f"ix_report_member_figures_by_{sort}{suffix}", table_name="report_member_figures")
    op.drop_column("report_member_figures", "display_name")
