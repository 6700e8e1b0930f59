"""guest introductions: a guest as the second party, the suppression list, reminders, per-message headers

Revision ID: 1286964e418b
Revises: 10aa824b8d0b
Create Date: 2026-12-03 15:58:18.294161

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1286964e418b"
down_revision = "10aa824b8d0b"
branch_labels = None
depends_on = None

CREDIT_NOTES = ("credited", "repeat_pair", "daily_cap", "no_reward", "introducer_left")
# Each new policy setting: (default, lowest, highest), as POLICY_SETTINGS says.
POLICY = {
    "guest_intro_credits": (2, 0, 100),
    "daily_guest_intros": (5, 0, 100),
    "guest_retention_days": (365, 1, 3650),
}
MEMBER_OR_GUEST = (
    "(second_id IS NULL AND guest_key IS NOT NULL AND pair_low_id IS NULL AND pair_high_id IS NULL)"
    " OR (second_id IS NOT NULL AND guest_key IS NULL AND guest_name IS NULL AND guest_email IS NULL"
    " AND pair_low_id IS NOT NULL AND pair_high_id IS NOT NULL)"
)
GUEST_KEPT_UNTIL_ERASED = (
    "guest_key IS NULL OR (guest_erased_at IS NULL) = (guest_email IS NOT NULL AND guest_name IS NOT NULL)"
)
PENDING_GUEST = sa.text("state = 'pending' AND guest_key IS NOT NULL")


def _credit_notes(batch_op, notes) -> None:
    listed = ", ".join(f"'{note}'" for note in notes)
    batch_op.drop_constraint(op.f("ck_introductions_credit_note"), type_="check")
    batch_op.alter_column(
        "credit_note", existing_type=sa.String(15), type_=sa.String(16), existing_nullable=True
    )
    batch_op.create_check_constraint(op.f("ck_introductions_credit_note"), f"credit_note IN ({listed})")


def upgrade():
    op.create_table(
        "guest_suppressions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_guest_suppressions")),
    )
    # Existing policies take the defaults; new rows always carry the values from the app.
    with op.batch_alter_table("chapter_policies", schema=None) as batch_op:
        for name, (default, _low, _high) in POLICY.items():
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default=str(default)))
    with op.batch_alter_table("chapter_policies", schema=None) as batch_op:
        for name, (_default, low, high) in POLICY.items():
            batch_op.alter_column(name, server_default=None)
            batch_op.create_check_constraint(
                op.f(f"ck_chapter_policies_{name}_in_range"), f"{name} BETWEEN {low} AND {high}"
            )

    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("member_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index("ix_consents_unanswered_reminder", ["reminded_at", "decision"], unique=False)

    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guest_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("guest_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("guest_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("guest_about", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("guest_phone", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("guest_company", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("guest_erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("second_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column("pair_low_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column("pair_high_id", existing_type=sa.INTEGER(), nullable=True)
        _credit_notes(batch_op, (*CREDIT_NOTES, "awaiting_outcome"))
        batch_op.create_check_constraint(op.f("ck_introductions_member_or_guest"), MEMBER_OR_GUEST)
        batch_op.create_check_constraint(
            op.f("ck_introductions_guest_kept_until_erased"), GUEST_KEPT_UNTIL_ERASED
        )
        batch_op.create_index(
            "ix_introductions_guest_pair", ["first_id", "guest_key", "completed_at"], unique=False
        )
        batch_op.create_index(
            "ix_introductions_introducer_created", ["introducer_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_introductions_pending_guest",
            ["chapter_id", "first_id", "guest_key"],
            unique=True,
            postgresql_where=PENDING_GUEST,
            sqlite_where=PENDING_GUEST,
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=True))

    with op.batch_alter_table("report_chapter_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guest_intros_made", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("guest_intros_completed", sa.Integer(), nullable=False, server_default="0"))

    # The report figures' backfill moved on to 1ab6ef9b91fa (the members' balances), the latest
    # migration that changes what the recount reads.


def downgrade():
    with op.batch_alter_table("report_chapter_days", schema=None) as batch_op:
        batch_op.drop_column("guest_intros_completed")
        batch_op.drop_column("guest_intros_made")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("headers")

    # Guest introductions cannot exist without their columns: they go, with their consents and outcomes.
    guest_intros = "SELECT id FROM introductions WHERE second_id IS NULL"
    op.execute(f"DELETE FROM outcomes WHERE introduction_id IN ({guest_intros})")
    op.execute(f"DELETE FROM consents WHERE introduction_id IN ({guest_intros})")
    op.execute("DELETE FROM introductions WHERE second_id IS NULL")
    op.execute("UPDATE introductions SET credit_note = 'no_reward' WHERE credit_note = 'awaiting_outcome'")
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.drop_index("uq_introductions_pending_guest")
        batch_op.drop_index("ix_introductions_introducer_created")
        batch_op.drop_index("ix_introductions_guest_pair")
        batch_op.drop_constraint(op.f("ck_introductions_guest_kept_until_erased"), type_="check")
        batch_op.drop_constraint(op.f("ck_introductions_member_or_guest"), type_="check")
        _credit_notes(batch_op, CREDIT_NOTES)
        batch_op.alter_column("pair_high_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column("pair_low_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column("second_id", existing_type=sa.INTEGER(), nullable=False)
        for column in (
            "guest_erased_at",
            "guest_company",
            "guest_phone",
            "guest_about",
            "guest_email",
            "guest_name",
            "guest_key",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_unanswered_reminder")
        batch_op.alter_column("member_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("reminded_at")

    with op.batch_alter_table("chapter_policies", schema=None) as batch_op:
        for name in reversed(POLICY):
            batch_op.drop_constraint(op.f(f"ck_chapter_policies_{name}_in_range"), type_="check")
            batch_op.drop_column(name)

    op.drop_table("guest_suppressions")
