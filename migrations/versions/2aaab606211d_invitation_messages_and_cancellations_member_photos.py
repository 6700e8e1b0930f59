"""invitation messages and cancellations (resent invitations replace the old link), member photos

Revision ID: 2aaab606211d
Revises: 8081a7e58b0f
Create Date: 2026-12-03 11:54:24.249531

"""

import sqlalchemy as sa

from referral_hub.database import keeping_sqlite_triggers
from alembic import op

# revision identifiers, used by Alembic.
revision = "2aaab606211d"
down_revision = "8081a7e58b0f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "member_photos",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(content_hash) = 64", name=op.f("ck_member_photos_content_hash_is_sha256")),
        sa.CheckConstraint("size > 0", name=op.f("ck_member_photos_size_positive")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_photos_member_id_members"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", "size", name=op.f("pk_member_photos")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message", sa.String(length=500), server_default="", nullable=False))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("replaced_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invitations_replaced_by_id_invitations"), "invitations", ["replaced_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_accepted_or_cancelled"), "accepted_at IS NULL OR cancelled_at IS NULL"
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_replaced_is_cancelled"), "replaced_by_id IS NULL OR cancelled_at IS NOT NULL"
        )

    with keeping_sqlite_triggers(op.get_bind(), "members"), op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_version", sa.String(length=16), nullable=True))


def downgrade():
    with keeping_sqlite_triggers(op.get_bind(), "members"), op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("photo_version")

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invitations_replaced_is_cancelled"), type_="check")
        batch_op.drop_constraint(op.f("ck_invitations_accepted_or_cancelled"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_invitations_replaced_by_id_invitations"), type_="foreignkey")
        batch_op.drop_column("replaced_by_id")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("message")

    op.drop_table("member_photos")
