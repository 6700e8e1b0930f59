"""email changes and erased members

Account links gain the `change_email` and `undo_email_change` purposes, whose links carry the address
they move to or restore (`account_links.email`, present exactly for those two). Members gain
`erased_at`: set when a member deleted their account (referral_hub/privacy/erasure.py). On PostgreSQL
the ledger's append-only trigger lets an erasure take the member's name out of transaction memos: an
UPDATE that changes the memo alone, in a transaction that set `referral_hub.erasing` to `on`.

Revision ID: 612adf586f9c
Revises: 5068c0a106c8
Create Date: 2026-12-03 11:54:59.123390

"""
import sqlalchemy as sa

from referral_hub.database import keeping_sqlite_triggers
from alembic import op


# revision identifiers, used by Alembic.
revision = '612adf586f9c'
down_revision = '5068c0a106c8'
branch_labels = None
depends_on = None

OLD_PURPOSES = ('verify_email', 'reset_password', 'sign_in')
ADDRESS_PURPOSES = ('change_email', 'undo_email_change')
NEW_PURPOSES = (*OLD_PURPOSES, *ADDRESS_PURPOSES)


def listed(purposes):
    return ', '.join(f"'{purpose}'" for purpose in purposes)


def alter_members(change):
    with keeping_sqlite_triggers(op.get_bind(), 'members'), op.batch_alter_table('members', schema=None) as batch_op:
        change(batch_op)


APPEND_ONLY = """
    CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN{allowance}
        RAISE EXCEPTION 'the ledger is append-only: % on % is not allowed; post a reversal instead',
            TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
"""
ERASURE_ALLOWANCE = """
        IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'ledger_transactions'
           AND current_setting('referral_hub.erasing', true) = 'on'
           AND (to_jsonb(NEW) - 'memo') = (to_jsonb(OLD) - 'memo') THEN
            RETURN NEW;
        END IF;"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY.format(allowance=ERASURE_ALLOWANCE))
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_account_links_link_purpose'), type_='check')
        batch_op.alter_column(
            'purpose', existing_type=sa.VARCHAR(length=14), type_=sa.String(length=17), existing_nullable=False
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_account_links_link_purpose'), f'purpose IN ({listed(NEW_PURPOSES)})'
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_account_links_address_iff_email_change'),
            f'(purpose IN ({listed(ADDRESS_PURPOSES)})) = (email IS NOT NULL)',
        )
    alter_members(
        lambda batch_op: batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY.format(allowance=''))
    alter_members(lambda batch_op: batch_op.drop_column('erased_at'))
    op.execute(sa.text(f'DELETE FROM account_links WHERE purpose IN ({listed(ADDRESS_PURPOSES)})'))
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_account_links_address_iff_email_change'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_account_links_link_purpose'), type_='check')
        batch_op.alter_column(
            'purpose', existing_type=sa.String(length=17), type_=sa.VARCHAR(length=14), existing_nullable=False
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_account_links_link_purpose'), f'purpose IN ({listed(OLD_PURPOSES)})'
        )
        batch_op.drop_column('email')
