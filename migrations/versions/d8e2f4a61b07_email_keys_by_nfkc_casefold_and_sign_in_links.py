"""email keys by NFKC case folding, and sign-in links

The key that makes two addresses one account is now the address NFKC-normalised and case-folded
(referral_hub/accounts/models.py `email_key_of`): the CHECK `email_key = lower(email)` cannot say
that, so it goes, and every existing key is recomputed here. Account links gain the `sign_in` purpose.

Revision ID: d8e2f4a61b07
Revises: d5b2e7a1c3f8
Create Date: 2026-11-29 10:00:00.000000

"""
import unicodedata

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd8e2f4a61b07'
down_revision = 'd5b2e7a1c3f8'
branch_labels = None
depends_on = None

MEMBERS = sa.table(
    'members', sa.column('id', sa.Integer), sa.column('email', sa.String), sa.column('email_key', sa.String)
)
OLD_PURPOSES = ('verify_email', 'reset_password')
NEW_PURPOSES = (*OLD_PURPOSES, 'sign_in')


def nfkc_casefold(email):
    """The key as the code computes it at this revision (a migration keeps its own copy)."""
    return unicodedata.normalize('NFKC', email.strip()).casefold()


def new_keys():
    """(member id, new key) for each key that changes; raises, before anything changed, if two
    accounts would share one key."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(MEMBERS.c.id, MEMBERS.c.email, MEMBERS.c.email_key)).all()
    owners = {}
    for member_id, email, _key in rows:
        owners.setdefault(nfkc_casefold(email), []).append((member_id, email))
    clashes = {key: found for key, found in owners.items() if len(found) > 1}
    if clashes:
        raise RuntimeError(
            'These accounts would share one email key; merge or change their addresses first: '
            + '; '.join(f'{key!r}: {found}' for key, found in sorted(clashes.items()))
        )
    return [(member_id, nfkc_casefold(email)) for member_id, email, key in rows if nfkc_casefold(email) != key]


def rekey(changed):
    bind = op.get_bind()
    # Through a placeholder first (no real key lacks an @), so that no intermediate state has two
    # rows on one key.
    for member_id, _key in changed:
        bind.execute(MEMBERS.update().where(MEMBERS.c.id == member_id).values(email_key=f'#{member_id}'))
    for member_id, key in changed:
        bind.execute(MEMBERS.update().where(MEMBERS.c.id == member_id).values(email_key=key))


def alter_members(change):
    """Batch mode rebuilds `members` on SQLite, which drops its triggers (the profile search's,
    from the relationships migration): put them back exactly as they were."""
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == 'sqlite':
        triggers = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'members'")
        ).scalars().all()
    with op.batch_alter_table('members', schema=None) as batch_op:
        change(batch_op)
    for sql in triggers:
        op.execute(sql)


def purpose_check(purposes):
    return 'purpose IN (' + ', '.join(f"'{purpose}'" for purpose in purposes) + ')'


def upgrade():
    changed = new_keys()
    alter_members(
        lambda batch_op: batch_op.drop_constraint(batch_op.f('ck_members_email_key_is_lower_email'), type_='check')
    )
    rekey(changed)
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_account_links_link_purpose'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_account_links_link_purpose'), purpose_check(NEW_PURPOSES))


def downgrade():
    op.execute(sa.text("DELETE FROM account_links WHERE purpose = 'sign_in'"))
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_account_links_link_purpose'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_account_links_link_purpose'), purpose_check(OLD_PURPOSES))
    # The old key, as the old CHECK computes it: through a placeholder, as in `rekey`. Two accounts
    # that only NFKC folding told apart stop the downgrade at the unique constraint.
    op.execute(sa.text("UPDATE members SET email_key = '#' || CAST(id AS VARCHAR(20))"))
    op.execute(sa.text('UPDATE members SET email_key = lower(email)'))
    alter_members(
        lambda batch_op: batch_op.create_check_constraint(
            batch_op.f('ck_members_email_key_is_lower_email'), 'email_key = lower(email)'
        )
    )
