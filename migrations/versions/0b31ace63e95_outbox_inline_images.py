"""outbox inline images: the photos an email shows as cid: parts

Revision ID: 0b31ace63e95
Revises: 64bb43935f6f
Create Date: 2026-12-03 15:56:54.530156

"""

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision = "0b31ace63e95"
down_revision = "64bb43935f6f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_attachments",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("substr(content_type, 1, 6) = 'image/'", name=op.f("ck_outbox_attachments_inline_image")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_messages.id"],
            name=op.f("fk_outbox_attachments_message_id_outbox_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "content_id", name=op.f("pk_outbox_attachments")),
    )


def downgrade():
    op.drop_table("outbox_attachments")
