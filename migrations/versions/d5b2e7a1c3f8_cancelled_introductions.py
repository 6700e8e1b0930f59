"""cancelled introductions: a party left the chapter before the introduction completed

Revision ID: d5b2e7a1c3f8
Revises: d0c4e1a7b2f3
Create Date: 2026-11-30 09:00:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "d5b2e7a1c3f8"
down_revision = "d0c4e1a7b2f3"
branch_labels = None
depends_on = None

STATES = ("pending", "completed", "declined", "expired")


def _allow(states) -> None:
    listed = ", ".join(f"'{state}'" for state in states)
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_introductions_intro_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_introductions_intro_state"), f"state IN ({listed})")


def upgrade():
    _allow(STATES + ("cancelled",))


def downgrade():
    op.execute("UPDATE introductions SET state = 'declined' WHERE state = 'cancelled'")
    _allow(STATES)
