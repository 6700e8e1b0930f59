"""change notifications: PostgreSQL tells the app's page caches when a committed change touched a table

Revision ID: c3a1f0d2b9e4
Revises: abe7cde5ca00
Create Date: 2026-11-22 08:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3a1f0d2b9e4'
down_revision = 'abe7cde5ca00'
branch_labels = None
depends_on = None

# Every table a page can show. The outbox is left out: pages never show it, and a mail run
# writes it many times a minute. SQLite needs no trigger: its pages read PRAGMA data_version.
TABLES = (
    'account_links', 'api_tokens', 'chapter_policies', 'chapter_policy_changes', 'chapters',
    'consents', 'digest_deliveries', 'interactions', 'intro_requests', 'introductions',
    'invitations', 'ledger_accounts', 'ledger_entries', 'ledger_transactions', 'members',
    'memberships', 'needs', 'nudge_responses', 'outcomes', 'relationships',
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    # One notification per transaction: PostgreSQL folds identical ones and sends them at commit.
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


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER notify_change ON "{table}"')
    op.execute('DROP FUNCTION referral_hub_notify_change()')
