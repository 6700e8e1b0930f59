"""drop change notifications: the page cache that listened to them is gone

Revision ID: d0c4e1a7b2f3
Revises: c3a1f0d2b9e4
Create Date: 2026-12-03 09:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd0c4e1a7b2f3'
down_revision = 'c3a1f0d2b9e4'
branch_labels = None
depends_on = None

# The tables c3a1f0d2b9e4 gave a notify_change trigger (PostgreSQL only).
TABLES = (
    'account_links', 'api_tokens', 'chapter_policies', 'chapter_policy_changes', 'chapters',
    'consents', 'digest_deliveries', 'interactions', 'intro_requests', 'introductions',
    'invitations', 'ledger_accounts', 'ledger_entries', 'ledger_transactions', 'members',
    'memberships', 'needs', 'nudge_responses', 'outcomes', 'relationships',
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS notify_change ON "{table}"')
    op.execute('DROP FUNCTION IF EXISTS referral_hub_notify_change()')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE FUNCTION referral_hub_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('referral_hub_changes', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f'CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
            'FOR EACH STATEMENT EXECUTE FUNCTION referral_hub_notify_change()'
        )
